// The chat widget: socket.io to Rasa, with the page's locale and the visitor's
// CPS token sent as metadata (customData) with every message. The session id
// and the transcript survive a reload, so the conversation goes on.
(function () {
  const page = window.cpsPage;
  const $ = (id) => document.getElementById(id);
  const panel = $("chat"), openButton = $("chat-open"), closeButton = $("chat-close");
  const log = $("chat-log"), status = $("chat-status"), form = $("chat-form"), input = $("chat-input");
  const TRANSCRIPT = "cps.transcript", SESSION = "cps.session";
  const URL_PATTERN = /(https?:\/\/[^\s<>"]+[^\s<>".,;:!?)])/g;
  let typingTimer = null;

  let socket = null;

  function transcript() { return JSON.parse(localStorage.getItem(TRANSCRIPT) || "[]"); }
  function remember(entry) { const all = transcript(); all.push(entry); localStorage.setItem(TRANSCRIPT, JSON.stringify(all.slice(-200))); }

  // Text is inserted as text nodes, never as HTML: links are built element by element.
  function renderText(container, text) {
    text.split(URL_PATTERN).forEach((part, i) => {
      if (i % 2 === 1) {
        const a = document.createElement("a");
        a.href = part; a.textContent = part; a.target = "_blank"; a.rel = "noopener noreferrer";
        container.appendChild(a);
      } else if (part) {
        container.appendChild(document.createTextNode(part));
      }
    });
  }

  function render(entry) {
    const bubble = document.createElement("div");
    bubble.className = "msg " + entry.from;
    bubble.dataset.from = entry.from;
    if (entry.text) renderText(bubble, entry.text);
    if (entry.buttons && entry.buttons.length) {
      const row = document.createElement("div");
      row.className = "buttons";
      entry.buttons.forEach((b) => {
        const button = document.createElement("button");
        button.type = "button"; button.textContent = b.title; button.dataset.payload = b.payload;
        button.addEventListener("click", () => send(b.payload, b.title));
        row.appendChild(button);
      });
      bubble.appendChild(row);
    }
    log.appendChild(bubble);
    log.scrollTop = log.scrollHeight;
  }

  function setTyping(on) {
    clearTimeout(typingTimer);
    status.textContent = on ? page.t("widget.typing") : "";
    status.classList.toggle("typing", on);
    if (on) typingTimer = setTimeout(() => setTyping(false), 30000);
  }

  function connect() {
    socket = io(page.config.rasaUrl, { path: "/socket.io", transports: ["websocket", "polling"] });
    socket.on("connect", () => {
      status.textContent = "";
      socket.emit("session_request", { session_id: localStorage.getItem(SESSION) });
    });
    socket.on("session_confirm", (data) => {
      const id = typeof data === "string" ? data : data && data.session_id;
      if (id) localStorage.setItem(SESSION, id);
    });
    socket.on("disconnect", () => { status.textContent = page.t("widget.offline"); });
    socket.on("bot_uttered", (message) => {
      setTyping(false);
      const buttons = (message.quick_replies || message.buttons || []).map((b) => ({ title: b.title, payload: b.payload }));
      const entry = { from: "bot", text: message.text || "", buttons };
      remember(entry); render(entry);
    });
  }

  function send(text, shown) {
    if (!text.trim()) return;
    const entry = { from: "user", text: shown || text };
    remember(entry); render(entry);
    const customData = { language: page.locale };
    if (page.token) customData.cps_token = page.token;
    socket.emit("user_uttered", { message: text, customData, session_id: localStorage.getItem(SESSION) });
    setTyping(true);
  }

  form.addEventListener("submit", (event) => { event.preventDefault(); send(input.value); input.value = ""; input.focus(); });

  function open() { panel.hidden = false; openButton.setAttribute("aria-expanded", "true"); localStorage.setItem("cps.open", "1"); input.focus(); }
  function close() { panel.hidden = true; openButton.setAttribute("aria-expanded", "false"); localStorage.removeItem("cps.open"); openButton.focus(); }
  openButton.addEventListener("click", () => (panel.hidden ? open() : close()));
  closeButton.addEventListener("click", close);
  panel.addEventListener("keydown", (event) => { if (event.key === "Escape") close(); });

  transcript().forEach(render);
  page.ready.then(() => { connect(); if (localStorage.getItem("cps.open")) open(); });
})();
