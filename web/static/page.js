// The page's locale and "signed in as" choice. The locale is a preference and
// survives a reload; the account's token is kept in memory only, as a real site
// passes it from its own sign-in on every page, never in the browser's storage.
(function () {
  const LOCALES = ["cs", "hu", "da", "lt", "fi", "en"];
  const stored = localStorage.getItem("cps.locale");
  const browser = (navigator.language || "en").slice(0, 2);
  const page = {
    locale: LOCALES.includes(stored) ? stored : LOCALES.includes(browser) ? browser : "en",
    token: "",
    strings: {},
    listeners: [],
    accountListeners: [],
    t(key) { return (this.strings[this.locale] || {})[key] || key; },
    onChange(fn) { this.listeners.push(fn); },
    onAccountChange(fn) { this.accountListeners.push(fn); },
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
  account.value = "";
  locale.addEventListener("change", () => { page.locale = locale.value; localStorage.setItem("cps.locale", page.locale); applyStrings(); });
  account.addEventListener("change", () => { page.token = account.value; page.accountListeners.forEach((fn) => fn()); });

  page.ready = fetch("/i18n.json").then((r) => r.json()).then((strings) => { page.strings = strings; applyStrings(); });
})();
