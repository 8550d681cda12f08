// The chat widget: socket.io to the assistant through this page's own server,
// with the page's locale and the visitor's CPS token as metadata (customData).
//
// The browser keeps nothing typed: the conversation id the server issued is
// in sessionStorage (this tab only), and after a reload the server sends the
// conversation back as it stored it, after its guard ("session_history").
// Signing in, out or as someone else starts a new conversation. Messages
// typed before the server confirmed the conversation, or while the connection
// was down, wait and are sent once the conversation is shown as the server has
// it; socket.io reconnects by itself and the same conversation is asked for.
(function () {
  const page = window.cpsPage;
  const $ = (id) => document.getElementById(id);
  const panel = $("chat"), openButton = $("chat-open"), closeButton = $("chat-close");
  const log = $("chat-log"), status = $("chat-status"), form = $("chat-form"), input = $("chat-input");
  const SESSION = "cps.session", SIGNED_IN = "cps.signed_in";
  const URL_PATTERN = /(https?:\/\/[^\s<>"]+[^\s<>".,;:!?)])/g;
  let typingTimer = null;
  let statusKey = "";  // the status line's string in i18n.json: typing, offline or none
  let socket = null;
  let requested = null;  // the conversation id asked for; the server sends its history when it confirms it
  let confirmed = false;
  const pending = [];  // {text, shown} typed but not sent yet

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

  function setStatus(key) {
    clearTimeout(typingTimer);
    statusKey = key;
    status.textContent = key ? page.t(key) : "";
    status.classList.toggle("typing", key === "widget.typing");
    if (key === "widget.typing") typingTimer = setTimeout(() => setStatus(""), 30000);
  }

  function emit(text) {
    const customData = { language: page.locale };
    if (page.token) customData.cps_token = page.token;
    socket.emit("user_uttered", { message: text, customData });
  }

  function requestSession() {
    confirmed = false;
    requested = sessionStorage.getItem(SESSION);
    socket.emit("session_request", { session_id: requested });
  }

  // The conversation as the server has it, then what was typed meanwhile, which is sent now.
  function showConversation(entries) {
    log.replaceChildren();
    entries.forEach(render);
    pending.forEach((m) => render({ from: "user", text: m.shown }));
    confirmed = true;
    setStatus(pending.length ? "widget.typing" : "");
    while (pending.length) emit(pending.shift().text);
  }

  // A reload loses the in-memory sign-in: a conversation begun signed in does not go on signed out.
  function startOver() {
    sessionStorage.removeItem(SESSION);
    sessionStorage.setItem(SIGNED_IN, page.token ? "1" : "");
    log.replaceChildren();
    if (socket && socket.connected) requestSession();
  }

  function connect() {
    socket = io({ path: "/socket.io", transports: ["websocket", "polling"] });
    socket.on("connect", requestSession);  // the first time and after every reconnection
    socket.on("session_confirm", (data) => {
      const id = typeof data === "string" ? data : data && data.session_id;
      if (!id) return;
      sessionStorage.setItem(SESSION, id);
      if (id !== requested) showConversation([]);  // a new conversation: no history follows
    });
    socket.on("session_history", (entries) => showConversation(entries || []));
    socket.on("disconnect", () => { confirmed = false; setStatus("widget.offline"); });
    socket.on("connect_error", () => setStatus("widget.offline"));  // each failed attempt; socket.io tries again
    socket.on("bot_uttered", (message) => {
      setStatus("");
      const buttons = (message.quick_replies || message.buttons || []).map((b) => ({ title: b.title, payload: b.payload }));
      render({ from: "bot", text: message.text || "", buttons });
    });
  }

  function send(text, shown) {
    if (!text.trim()) return;
    render({ from: "user", text: shown || text });
    if (confirmed && socket.connected) {
      emit(text);
      setStatus("widget.typing");
    } else {
      pending.push({ text, shown: shown || text });
    }
  }

  form.addEventListener("submit", (event) => { event.preventDefault(); send(input.value); input.value = ""; input.focus(); });

  function open() { panel.hidden = false; openButton.setAttribute("aria-expanded", "true"); sessionStorage.setItem("cps.open", "1"); input.focus(); }
  function close() { panel.hidden = true; openButton.setAttribute("aria-expanded", "false"); sessionStorage.removeItem("cps.open"); openButton.focus(); }
  openButton.addEventListener("click", () => (panel.hidden ? open() : close()));
  closeButton.addEventListener("click", close);
  panel.addEventListener("keydown", (event) => { if (event.key === "Escape") close(); });
  page.onAccountChange(startOver);
  page.onChange(() => { status.textContent = statusKey ? page.t(statusKey) : ""; });  // the page's new locale

  if (sessionStorage.getItem(SIGNED_IN) && !page.token) startOver();
  connect();
  page.ready.then(() => { if (sessionStorage.getItem("cps.open")) open(); });
})();
