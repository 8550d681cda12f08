"""The support page and its chat widget in a real headless Chromium (Debian's)."""
from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pytest
import requests
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.chat_client import conversation_key
from tests.languages import language_of
from tests.phrases import GREETING_LOGIN_RESET
from tests.stack import plain_numbers, response_texts
from tests.supervision import Supervised

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "reports" / "web"
STRINGS = json.loads((ROOT / "web" / "static" / "i18n.json").read_text("utf-8"))
GREETINGS = {"cs": "Dobrý den", "hu": "Jó napot!", "da": "Goddag", "lt": "Laba diena", "fi": "Hyvää päivää", "en": "Hello"}


def test_page_strings_exist_in_all_six_languages():
    keys = set(STRINGS["en"])
    for language in ("cs", "hu", "da", "lt", "fi", "en"):
        assert set(STRINGS[language]) == keys, language
        assert all(STRINGS[language].values()), language


@pytest.fixture()
def browser():
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver):
        pytest.fail("chromium and chromedriver are missing: run scripts/setup_web.sh --test")
    options = Options()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1280,900", f"--user-data-dir={tempfile.mkdtemp(prefix='chromium-')}"):
        options.add_argument(flag)
    session = webdriver.Chrome(service=Service(driver), options=options)
    session.set_page_load_timeout(30)
    yield session
    session.quit()


def bot_messages(browser):
    return [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#chat-log .msg.bot")]


def wait_for_bot_messages(browser, at_least: int, timeout: float = 60):
    WebDriverWait(browser, timeout).until(lambda b: len(bot_messages(b)) >= at_least,
                                          f"fewer than {at_least} answers after {timeout} s")
    return bot_messages(browser)


def open_page(browser, stack, locale: str, account: str = ""):
    browser.get(stack.web_url)
    browser.execute_script("localStorage.clear(); sessionStorage.clear()")
    browser.get(stack.web_url)
    Select(browser.find_element(By.ID, "locale")).select_by_value(locale)
    if account:
        Select(browser.find_element(By.ID, "account")).select_by_value(account)
    browser.find_element(By.ID, "chat-open").click()
    WebDriverWait(browser, 10).until(EC.visibility_of_element_located((By.ID, "chat-input")))


def type_message(browser, text: str):
    field = browser.find_element(By.ID, "chat-input")
    field.send_keys(text)
    field.send_keys(Keys.ENTER)


@pytest.mark.parametrize("locale", list(GREETINGS))
def test_conversation_in_each_locale(stack, browser, locale):
    open_page(browser, stack, locale)
    strings = STRINGS[locale]
    assert browser.find_element(By.ID, "chat-input").get_attribute("placeholder") == strings["widget.placeholder"]
    assert browser.find_element(By.ID, "chat-title").text == strings["widget.title"]

    type_message(browser, GREETINGS[locale])
    replies = wait_for_bot_messages(browser, 1)
    assert language_of(replies[0]) == locale, replies

    # The greeting offers buttons; clicking one sends its payload.
    buttons = browser.find_elements(By.CSS_SELECTOR, "#chat-log .msg.bot .buttons button")
    assert buttons, "the greeting has no buttons"
    before = len(bot_messages(browser))
    buttons[-1].click()  # "What can you do?"
    replies = wait_for_bot_messages(browser, before + 1)
    assert language_of(replies[-1]) == locale, replies

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SCREENSHOTS / f"chat_{locale}.png"))


def session_of(browser) -> str:
    return browser.execute_script("return sessionStorage.getItem('cps.session')")


def test_reload_keeps_the_conversation(stack, browser):
    open_page(browser, stack, "da")
    type_message(browser, "Goddag")
    first = wait_for_bot_messages(browser, 1)
    session = session_of(browser)
    assert session

    browser.refresh()
    WebDriverWait(browser, 10).until(EC.visibility_of_element_located((By.ID, "chat-input")))
    # The transcript comes back from the server (the browser keeps none of it).
    WebDriverWait(browser, 10).until(lambda b: bot_messages(b)[:1] == first[:1])
    assert [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#chat-log .msg.user")] == ["Goddag"]
    before = len(bot_messages(browser))
    type_message(browser, "hvordan logger jeg på?")
    wait_for_bot_messages(browser, before + 1)
    assert session_of(browser) == session
    # Rasa kept one conversation: both messages are in the same tracker.
    texts = [e.get("text") for e in stack.tracker(conversation_key(session))["events"] if e["event"] == "user"]
    assert texts == ["Goddag", "hvordan logger jeg på?"], texts


def test_the_browser_keeps_no_typed_text_no_token_and_no_card(stack, browser):
    open_page(browser, stack, "en", account="demo-incomplete")
    type_message(browser, "how many points do I have?")
    wait_for_bot_messages(browser, 2)
    before = len(bot_messages(browser))
    type_message(browser, "my card is 4111 1111 1111 1111 12/27")
    replies = wait_for_bot_messages(browser, before + 1)
    assert "card numbers" in replies[-1], replies[-1]
    storage = browser.execute_script(
        "const all = {}; for (const s of [localStorage, sessionStorage]) for (let i = 0; i < s.length; i++)"
        " all[s.key(i)] = s.getItem(s.key(i)); return JSON.stringify(all);")
    for secret in ("4111", "demo-incomplete", "how many points", "my card"):
        assert secret not in storage, f"{secret!r} in the browser's storage: {storage}"
    cookies = browser.get_cookies()
    assert not cookies, cookies


def test_signing_out_starts_a_new_conversation(stack, browser):
    open_page(browser, stack, "en", account="demo-pro")
    type_message(browser, "how many points do I have?")
    assert "2100" in plain_numbers(" ".join(wait_for_bot_messages(browser, 1)))
    signed_in_session = session_of(browser)

    Select(browser.find_element(By.ID, "account")).select_by_value("")
    WebDriverWait(browser, 10).until(lambda b: session_of(b) and session_of(b) != signed_in_session)
    assert not bot_messages(browser), "the signed-in conversation is still on screen"
    type_message(browser, "how many points do I have?")
    replies = wait_for_bot_messages(browser, 2)
    assert "2100" not in plain_numbers(" ".join(replies)), replies
    old = [e.get("text") for e in stack.tracker(conversation_key(signed_in_session))["events"] if e["event"] == "user"]
    assert old == ["how many points do I have?"], old


def test_a_message_typed_before_the_session_is_confirmed_is_answered(stack, browser):
    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["*/socket.io/?*"]})
    open_page(browser, stack, "fi")
    type_message(browser, "Hyvää päivää")  # no connection yet: the widget must keep it
    assert not bot_messages(browser)
    browser.execute_cdp_cmd("Network.setBlockedURLs", {"urls": []})
    replies = wait_for_bot_messages(browser, 1, timeout=60)
    assert language_of(replies[0]) == "fi", replies
    texts = [e.get("text") for e in stack.tracker(conversation_key(session_of(browser)))["events"]
             if e["event"] == "user"]
    assert texts == ["Hyvää päivää"], texts


def test_signed_in_visitor_gets_an_account_answer(stack, browser):
    open_page(browser, stack, "en", account="demo-incomplete")
    type_message(browser, "how many points do I have?")
    replies = wait_for_bot_messages(browser, 2)
    joined = " ".join(replies)
    assert "420" in joined and "600" in joined, replies
    browser.save_screenshot(str(SCREENSHOTS / "chat_account_en.png"))


def test_keyboard_only_and_screen_reader_labels(stack, browser):
    browser.get(stack.web_url)
    opener = browser.find_element(By.ID, "chat-open")
    opener.send_keys(Keys.ENTER)
    WebDriverWait(browser, 10).until(EC.visibility_of_element_located((By.ID, "chat-input")))
    assert browser.switch_to.active_element.get_attribute("id") == "chat-input"
    assert opener.get_attribute("aria-expanded") == "true"
    log = browser.find_element(By.ID, "chat-log")
    assert log.get_attribute("role") == "log" and log.get_attribute("aria-live") == "polite"
    assert browser.find_element(By.CSS_SELECTOR, "label[for=chat-input]").get_attribute("textContent")
    browser.switch_to.active_element.send_keys(Keys.ESCAPE)
    assert not browser.find_element(By.ID, "chat").is_displayed()


def shown(browser):
    """The conversation as the widget shows it: (who, text) per bubble, button titles included."""
    return [(e.get_attribute("data-from"), e.text) for e in browser.find_elements(By.CSS_SELECTOR, "#chat-log .msg")]


def status_of(browser) -> str:
    return browser.find_element(By.ID, "chat-status").text


def user_texts(stack, session: str):
    return [e.get("text") for e in stack.tracker(conversation_key(session))["events"] if e["event"] == "user"]


def click_button(browser, payload: str):
    browser.find_elements(By.CSS_SELECTOR, f"#chat-log .msg.bot .buttons button[data-payload='{payload}']")[-1].click()


def go_offline(browser, offline: bool):
    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd("Network.emulateNetworkConditions",
                            {"offline": offline, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})


def test_the_widget_reconnects_by_itself_after_a_rasa_restart(stack, browser):
    """The server restarts under an open conversation: the page comes back to it without a reload."""
    # A Danish conversation on a Finnish page, so that an answer in Danish after the
    # restart shows the conversation's language kept, not the page's locale taken afresh.
    open_page(browser, stack, "fi")
    type_message(browser, "Goddag")
    wait_for_bot_messages(browser, 1)
    before, session = shown(browser), session_of(browser)
    assert language_of(before[1][1]) == "da", before
    browser.execute_script("window.notReloaded = true")

    stack.stop()  # every process, the page's server and Rasa included; ports and state stay
    try:
        WebDriverWait(browser, 30).until(lambda b: status_of(b) == STRINGS["fi"]["widget.offline"],
                                         "the widget does not say the connection is down")
        assert shown(browser) == before
    finally:
        stack.start()
    WebDriverWait(browser, 60).until(lambda b: not status_of(b), "the widget did not reconnect by itself")
    assert browser.execute_script("return window.notReloaded === true"), "the page was reloaded"
    assert shown(browser) == before

    type_message(browser, "hvordan logger jeg på?")
    wait_for_bot_messages(browser, 2)
    login = response_texts("utter_login", "da")
    assert shown(browser) == before + [("user", "hvordan logger jeg på?"), ("bot", login[0])]
    # A button of the greeting, shown again from the server's copy: neutral, so the
    # conversation's language (Danish), not the page's (Finnish), answers it.
    click_button(browser, "/help")
    replies = wait_for_bot_messages(browser, 3)
    assert replies[-1].split("\n")[0] in response_texts("utter_help", "da"), replies[-1]
    assert session_of(browser) == session
    assert user_texts(stack, session) == ["Goddag", "hvordan logger jeg på?", "/help"]


def test_the_widget_reconnects_by_itself_after_rasa_is_killed(stack, browser):
    """SIGKILL to the Rasa server alone, the page's server still up: the widget says the connection is
    down, supervisord starts Rasa again (model load included), and the widget comes back to the same
    conversation without a reload, nothing lost."""
    greeting, login_question, _ = GREETING_LOGIN_RESET["hu"]
    open_page(browser, stack, "hu")
    type_message(browser, greeting)
    wait_for_bot_messages(browser, 1)
    before, session = shown(browser), session_of(browser)
    browser.execute_script("window.notReloaded = true")

    Supervised(stack).kill("rasa")
    WebDriverWait(browser, 30).until(lambda b: status_of(b) == STRINGS["hu"]["widget.offline"],
                                     "the widget does not say the connection is down")
    assert shown(browser) == before
    WebDriverWait(browser, 240, poll_frequency=1).until(lambda b: not status_of(b),
                                                        "the widget did not reconnect by itself")
    assert browser.execute_script("return window.notReloaded === true"), "the page was reloaded"
    assert shown(browser) == before

    type_message(browser, login_question)
    wait_for_bot_messages(browser, 2)
    assert shown(browser) == before + [("user", login_question), ("bot", response_texts("utter_login", "hu")[0])]
    assert session_of(browser) == session
    assert user_texts(stack, session) == [greeting, login_question]


def test_a_message_typed_while_the_connection_is_down_is_sent_once_it_is_back(stack, browser):
    """The browser loses the network (DevTools): the widget says so, keeps what is typed and sends it
    once it is back, shown once, answered once, in the same conversation."""
    open_page(browser, stack, "cs")
    type_message(browser, "Dobrý den")
    wait_for_bot_messages(browser, 1)
    before, session = shown(browser), session_of(browser)

    go_offline(browser, True)
    offline = STRINGS["cs"]["widget.offline"]
    WebDriverWait(browser, 30).until(lambda b: status_of(b) == offline, "the widget does not say it is offline")
    type_message(browser, "Jak se přihlásím?")
    expected = before + [("user", "Jak se přihlásím?")]
    assert shown(browser) == expected
    assert status_of(browser) == offline, "the widget says the assistant is typing while it is offline"
    Select(browser.find_element(By.ID, "locale")).select_by_value("en")
    assert status_of(browser) == STRINGS["en"]["widget.offline"]

    go_offline(browser, False)  # the Czech message goes out on an English page: answered in Czech
    wait_for_bot_messages(browser, 2)
    assert shown(browser) == expected + [("bot", response_texts("utter_login", "cs")[0])]
    assert not status_of(browser)
    assert session_of(browser) == session
    assert user_texts(stack, session) == ["Dobrý den", "Jak se přihlásím?"]


WIDGET_STRINGS = {  # what the visitor sees of the widget's own strings, by the key in i18n.json
    "widget.open": lambda b: b.find_element(By.ID, "chat-open").text,
    "widget.title": lambda b: b.find_element(By.ID, "chat-title").text,
    "widget.close": lambda b: b.find_element(By.ID, "chat-close").get_attribute("aria-label"),
    "widget.log_label": lambda b: b.find_element(By.ID, "chat-log").get_attribute("aria-label"),
    "widget.input_label": lambda b: b.find_element(By.CSS_SELECTOR, "label[for=chat-input]").get_attribute("textContent"),
    "widget.placeholder": lambda b: b.find_element(By.ID, "chat-input").get_attribute("placeholder"),
    "widget.send": lambda b: b.find_element(By.ID, "chat-send").text,
}


def widget_strings(browser):
    return {key: read(browser) for key, read in WIDGET_STRINGS.items()}


def test_changing_the_page_locale_mid_conversation(stack, browser):
    """The widget speaks the new locale at once; the assistant from the next neutral message on,
    while a message written in a language of its own is still answered in that language."""
    open_page(browser, stack, "en")
    type_message(browser, "Hello")
    wait_for_bot_messages(browser, 1)
    assert widget_strings(browser) == {key: STRINGS["en"][key] for key in WIDGET_STRINGS}
    session = session_of(browser)

    Select(browser.find_element(By.ID, "locale")).select_by_value("hu")
    assert widget_strings(browser) == {key: STRINGS["hu"][key] for key in WIDGET_STRINGS}
    # The greeting's English button, clicked on the Hungarian page: answered in Hungarian.
    click_button(browser, "/help")
    replies = wait_for_bot_messages(browser, 2)
    assert replies[-1].split("\n")[0] in response_texts("utter_help", "hu"), replies[-1]

    type_message(browser, "Miten kirjaudun sisään?")  # Finnish on the Hungarian page: Finnish wins
    replies = wait_for_bot_messages(browser, 3)
    assert replies[-1] in response_texts("utter_login", "fi"), replies[-1]

    Select(browser.find_element(By.ID, "locale")).select_by_value("cs")
    assert widget_strings(browser) == {key: STRINGS["cs"][key] for key in WIDGET_STRINGS}
    type_message(browser, "ok")  # neutral: the page's new locale
    replies = wait_for_bot_messages(browser, 4)
    assert replies[-1].split("\n")[0] in response_texts("utter_anything_else", "cs"), replies[-1]
    assert session_of(browser) == session
    assert user_texts(stack, session) == ["Hello", "/help", "Miten kirjaudun sisään?", "ok"]


@pytest.mark.parametrize("address", ["rasa_url", "web_url"])
def test_socketio_refuses_other_origins(stack, address):
    handshake = f"{getattr(stack, address)}/socket.io/?EIO=4&transport=polling"
    assert requests.get(handshake, headers={"Origin": stack.web_url}, timeout=10).status_code == 200
    assert requests.get(handshake, headers={"Origin": "http://evil.example"}, timeout=10).status_code == 400
