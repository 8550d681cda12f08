// The page's locale and "signed in as" choice, kept across reloads.
(function () {
  const LOCALES = ["cs", "hu", "da", "lt", "fi", "en"];
  const stored = localStorage.getItem("cps.locale");
  const browser = (navigator.language || "en").slice(0, 2);
  const page = {
    locale: LOCALES.includes(stored) ? stored : LOCALES.includes(browser) ? browser : "en",
    token: localStorage.getItem("cps.token") || "",
    strings: {},
    listeners: [],
    t(key) { return (this.strings[this.locale] || {})[key] || key; },
    onChange(fn) { this.listeners.push(fn); },
  };
  window.cpsPage = page;

  function applyStrings() {
    document.documentElement.lang = page.locale;
    document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = page.t(el.dataset.i18n); });
    document.querySelectorAll("[data-i18n-label]").forEach((el) => el.setAttribute("aria-label", page.t(el.dataset.i18nLabel)));
    document.querySelectorAll("[data-i18n-placeholder]").forEach((el) => el.setAttribute("placeholder", page.t(el.dataset.i18nPlaceholder)));
    page.listeners.forEach((fn) => fn());
  }

  const locale = document.getElementById("locale");
  const account = document.getElementById("account");
  locale.value = page.locale;
  account.value = page.token;
  locale.addEventListener("change", () => { page.locale = locale.value; localStorage.setItem("cps.locale", page.locale); applyStrings(); });
  account.addEventListener("change", () => { page.token = account.value; localStorage.setItem("cps.token", page.token); });

  page.ready = Promise.all([
    fetch("/i18n.json").then((r) => r.json()),
    fetch("/config.json").then((r) => r.json()),
  ]).then(([strings, config]) => { page.strings = strings; page.config = config; applyStrings(); });
})();
