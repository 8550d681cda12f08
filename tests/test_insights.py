"""The insights report (insights/): every figure from a tracker store seeded with known outcomes.

A real SQLite tracker store, written by Rasa's own SQLTrackerStore, holds
seven conversations per language (tests/insights_seed.py) and one outside
the date range. The JSON must show exactly the figures worked out below by
hand; the secrets planted in unanswered messages must appear nowhere a person
reads (HTML, the plots' text, JSON, CSV). The import is tried on a copy of
the training data; `/insights` on the page server in-process and, for the
screenshot, in headless Chromium.
"""
from __future__ import annotations

import asyncio
import base64
import csv
import hashlib
import io
import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Dict, List

import matplotlib
import pytest
import yaml
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker

from bot.language_model import LANGUAGES
from insights import aggregate, exchange, render, source
from insights.report import build, day_range
from insights.web import authorised
from tests.insights_seed import SECRETS, TEXTS, Script, old_conversation, scenarios, store_rows
from tests.nlu_overlap import fold

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "insights-test-token-0123456789"
NOW = time.time()
SINCE = NOW - 30 * 86400


def seed(path: Path) -> str:
    domain = Domain.load(str(ROOT / "domain"))
    store = SQLTrackerStore(domain, dialect="sqlite", db=str(path))
    conversations = [c for language in LANGUAGES for c in scenarios(language, NOW - 2 * 86400)]
    conversations += [old_conversation(language, NOW - 60 * 86400) for language in LANGUAGES]

    async def save_all() -> None:
        for sender_id, events in conversations:
            await store.save(DialogueStateTracker.from_events(sender_id, events, slots=domain.slots))

    asyncio.run(save_all())
    store.engine.dispose()
    return f"sqlite:///{path}"


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> str:
    return seed(tmp_path_factory.mktemp("insights") / "tracker.sqlite3")


@pytest.fixture(scope="module")
def report(database: str) -> Dict[str, Any]:
    return build(database, *day_range(None, None))  # the last 30 days, as the page server shows


# ----------------------------------------------------------------------------- the figures, by hand
# Per language: A answered (2 messages), B six fallbacks (7), C escalated (5), D bought a level (4),
# E stopped at signing in (3), F switched language after its first message (1 here, 2 in the other
# language: English for all but English, which switches to Czech), G signed in with points pending (1).
SWITCHED_INTO = {"en": 5, "cs": 1}  # conversations F of other languages that went on in this one


def expected_language(language: str) -> Dict[str, Any]:
    messages = 23 + 2 * SWITCHED_INTO.get(language, 0)
    return {"conversations": 7, "messages": messages, "fallback_turns": 6, "did_you_mean": 1,
            "fallback_share": round(6 / messages, 4), "escalations": 1, "tickets_opened": 1,
            "escalation_topics": {"check_points": 1}, "language_switches": 1, "unanswered": 6,
            "unanswered_withheld": 2, "unanswered_not_grouped": 0,
            "funnel": {"sign_in": 3, "products": 2, "points": 2, "level_payment": 1, "finished": 1}}


def expected_intents(language: str) -> List[List[Any]]:
    counts = {"greet": 2, "check_points": 2, "deny": 2, "request_human": 1, "inform": 2, "start_signup": 3,
              "choose_tier": 1, "choose_payment_method": 1, "affirm": 1, "login": 2}
    if language in SWITCHED_INTO:
        counts["check_points"] += SWITCHED_INTO[language]
        counts["switch_language"] = SWITCHED_INTO[language]
    return [[name, n] for name, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))][:10]


def expected_answers(points_shown: int, login_shown: int, human: int, again: int) -> List[Dict[str, Any]]:
    rows = [
        {"answer": "utter_login", "shown": login_shown, "rephrased": again, "human": 0, "share": 0.5},
        {"answer": "action_answer_points", "shown": points_shown, "rephrased": 0, "human": human,
         "share": round(human / points_shown, 4)},
    ]
    return sorted(rows, key=lambda r: (-r["share"], -r["shown"], r["answer"]))  # the worst first, ties by name


def test_every_figure_per_language(report):
    for language in LANGUAGES:
        assert report["by_language"][language] == expected_language(language), language


def test_every_figure_in_total(report):
    assert report["totals"] == {
        "conversations": 42, "messages": 150, "fallback_turns": 36, "did_you_mean": 6,
        "fallback_share": round(36 / 150, 4), "escalations": 6, "tickets_opened": 6,
        "escalation_topics": {"check_points": 6}, "language_switches": 6, "unanswered": 36,
        "unanswered_withheld": 12, "unanswered_not_grouped": 0,
        "funnel": {"sign_in": 18, "products": 12, "points": 12, "level_payment": 6, "finished": 6}}
    assert report["language_switch_pairs"] == {"cs>en": 1, "hu>en": 1, "da>en": 1, "lt>en": 1, "fi>en": 1,
                                               "en>cs": 1}
    assert report["range"]["since"].startswith(time.strftime("%Y-%m-%d", time.gmtime(SINCE)))
    assert report["languages"] == list(LANGUAGES) and list(report["steps"]) == list(aggregate.STEPS)


def test_intents_and_answers_that_did_not_help(report):
    for language in LANGUAGES:
        assert report["top_intents"][language] == expected_intents(language), language
        assert report["answers_not_helping"][language] == expected_answers(
            2 + SWITCHED_INTO.get(language, 0), 2, 1, 1), language
    assert report["answers_not_helping"]["all"] == expected_answers(18, 12, 6, 6)


def test_unanswered_messages_grouped_guarded_and_guessed(report):
    for language in LANGUAGES:
        texts = TEXTS[language]
        assert report["unanswered"][language] == [
            {"text": texts["unclear"], "count": 2, "variants": [texts["unclear"], texts["unclear2"]],
             "guess": "cps_benefits", "confidence": 0.4},
            {"text": "token [token] please", "count": 1, "variants": ["token [token] please"], "guess": "login",
             "confidence": 0.3},
            {"text": "write to [e-mail]", "count": 1, "variants": ["write to [e-mail]"], "guess": "request_human",
             "confidence": 0.3},
        ], language


def test_a_conversation_outside_the_range_counts_only_when_asked_for(database):
    everything = build(database, None, None)
    assert everything["totals"]["conversations"] == 48
    assert everything["totals"]["escalations"] == 12
    since, until = day_range("2020-01-01", "2020-02-01")
    assert build(database, since, until)["totals"]["conversations"] == 0


def test_an_accepted_did_you_mean_is_one_turn_not_two():
    """Rasa's two-stage fallback reverts and re-posts the clarifying message (same message id): one turn."""
    from rasa.shared.core.events import UserUtteranceReverted

    script = Script("clarified", "en", NOW)
    script.user(TEXTS["en"]["unclear"], "nlu_fallback", 0.42, "cps_benefits", language="en", message_id="m1")
    script.act("action_two_stage_fallback", "utter_ask_affirmation").loop("action_two_stage_fallback").listen()
    script.user("/cps_benefits", "cps_benefits", 1.0, message_id="m2").act("action_two_stage_fallback").loop(None)
    script.events.append(UserUtteranceReverted(timestamp=script.tick()))
    script.listen().user("/cps_benefits", "cps_benefits", 1.0, message_id="m2")
    script.act("utter_cps_benefits", "utter_cps_benefits").listen()
    figures = aggregate.Figures()
    figures.add([(s, t, i, a, ts, d) for s, t, ts, i, a, d in store_rows(script.sender_id, script.events)])
    result = figures.result()
    assert {k: result["totals"][k] for k in ("messages", "fallback_turns", "did_you_mean", "unanswered")} == \
        {"messages": 2, "fallback_turns": 1, "did_you_mean": 1, "unanswered": 1}
    assert result["top_intents"]["en"] == [["cps_benefits", 1]]


def test_the_benchmark_writes_the_rows_rasa_writes(database):
    import sqlalchemy as sa

    sender_id, events = scenarios("hu", NOW - 2 * 86400)[2]  # C, with a form, a ticket and an e-mail
    engine = sa.create_engine(database)
    with engine.connect() as connection:
        stored = connection.exec_driver_sql(
            "SELECT sender_id, type_name, timestamp, intent_name, action_name, data FROM events "
            "WHERE sender_id = ? ORDER BY id", (sender_id,)).fetchall()
    engine.dispose()
    assert [tuple(row) for row in stored] == store_rows(sender_id, events)


def test_the_report_folds_text_as_the_overlap_check_does():
    # One function (bot/folding.py) for the model, the overlap check and the report.
    assert aggregate.fold is fold
    for language in LANGUAGES:
        for text in TEXTS[language].values():
            assert aggregate.fold(text) == fold(text), text


# ----------------------------------------------------------------------------- no secret where people read
def secret_strings() -> List[str]:
    return list(SECRETS.values()) + ["Foto2024", "anna.novak", "example.com"]


def test_no_secret_in_html_plots_json_or_csv(report, tmp_path):
    page = render.write_report(report, tmp_path)
    exchange.export_csv(report, tmp_path)
    written = {p.name: p.read_text(encoding="utf-8") for p in tmp_path.iterdir() if p.suffix != ".png"}
    assert {"index.html", "report.json", *(f"unanswered-{lang}.csv" for lang in LANGUAGES)} <= set(written)
    with matplotlib.rc_context({"svg.fonttype": "none"}):  # the plots' strings as text
        for name, figure in render.figures(report).items():
            buffer = io.StringIO()
            figure.savefig(buffer, format="svg")
            written[f"{name}.svg"] = buffer.getvalue()
    assert "check_points" in written["intents.svg"], "the SVG does not carry the plots' text: the scan proves nothing"
    assert "[token]" in written["index.html"] and "[e-mail]" in written["unanswered-en.csv"]
    for name, text in written.items():
        for secret in secret_strings():
            assert secret not in text, f"{secret!r} in {name}"
    assert page.name == "index.html" and {f"{n}.png" for n in render.IMAGES} <= {p.name for p in tmp_path.iterdir()}


def test_guarded_text_masks_and_withholds():
    from insights.guarded import shown_text

    assert shown_text(f"mail me at {SECRETS['e-mail']}, thanks") == "mail me at [e-mail] thanks"
    assert shown_text(f"Bearer {SECRETS['token']}") == "Bearer [token]"
    assert shown_text("serial 123045007891 and EOS R5") == "serial 123045007891 and EOS R5"
    for secret in ("card", "password"):
        assert shown_text(f"it is {SECRETS[secret]}" if secret == "card" else f"heslo: {SECRETS[secret]}") is None


# ----------------------------------------------------------------------------- export and import
def test_import_adds_annotated_lines_to_their_block_and_refuses_the_rest(tmp_path):
    data, held_out = tmp_path / "nlu", tmp_path / "held_out"
    shutil.copytree(ROOT / "data" / "nlu", data)
    shutil.copytree(ROOT / "tests" / "nlu", held_out)
    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in (ROOT / "data" / "nlu").glob("*.yml")}
    trained = yaml.safe_load((data / "step2_points.yml").read_text())["nlu"][0]
    held = yaml.safe_load((held_out / "cs.yml").read_text())["nlu"][0]
    held_line = held["examples"].split("\n")[0][2:]
    new_cs = "Půjčuje CPS fotografům náhradní těla, když je jejich v opravě?"
    new_en = "Can my studio go straight to the [platinum](tier) level this spring?"
    rows = [
        ("cs", new_cs, "out_of_scope"),  # 2: added
        ("cs", trained["examples"].split("\n")[0][2:], "check_points"),  # 3: a training line
        ("cs", held_line.upper().rstrip("?!.") + "!!", held["intent"]),  # 4: a held-out line, folded the same
        ("en", "Can I rent a lens for a weekend shoot?", "rent_equipment"),  # 5: unknown intent
        ("en", "write to [e-mail]", "request_human"),  # 6: still masked
        ("en", new_en, "choose_tier"),  # 7: added, with its entity
        ("en", new_en, "choose_tier"),  # 8: twice in the file
        ("en", "not annotated yet", ""),  # 9: skipped
        ("da", "mit kort er 4111 1111 1111 1111", "inform"),  # 10: a card number
        ("en", "What about [diamond](level) membership for agencies?", "choose_tier"),  # 11: unknown entity
    ]
    annotated = tmp_path / "annotated.csv"
    with annotated.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(exchange.COLUMNS)
        for language, text, intent in rows:
            writer.writerow([language, 1, 1, text, "", "", "0.4", intent])

    result = exchange.import_annotations(annotated, data, held_out)
    assert [line.row for line in result.added] == [2, 7]
    reasons = {line.row: line.reason for line in result.refused}
    assert sorted(reasons) == [3, 4, 5, 6, 8, 10, 11]
    assert "already in the training or held-out data" in reasons[3] and "already in" in reasons[4]
    assert "unknown intent" in reasons[5] and "mask" in reasons[6] and "row 7" in reasons[8]
    assert "card number" in reasons[10] and "unknown entity level" in reasons[11]

    def block(file: str, intent: str, language: str) -> List[str]:
        entries = yaml.safe_load((data / file).read_text())["nlu"]
        found = [e for e in entries if e.get("intent") == intent and e["metadata"]["language"] == language]
        assert len(found) == 1
        return [line[2:] for line in found[0]["examples"].strip().split("\n")]

    assert block("conversation.yml", "out_of_scope", "cs")[-1] == new_cs
    assert new_cs not in (data / "conversation.yml").read_text().split(new_cs, 1)[1]  # once
    assert block("step3_levels.yml", "choose_tier", "en")[-1] == new_en
    assert all(new_cs not in "\n".join(block("conversation.yml", "out_of_scope", lang)) for lang in LANGUAGES
               if lang != "cs")
    from rasa.shared.nlu.training_data.loading import load_data

    assert any(m.get("text") == new_en.replace("[platinum](tier)", "platinum") and m.get("entities")
               for m in load_data(str(data)).intent_examples)
    assert before == {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in (ROOT / "data" / "nlu").glob("*.yml")}


def test_export_keeps_spreadsheets_from_running_formulas(tmp_path):
    report = {"languages": ["en"], "unanswered": {"en": [
        {"text": "=HYPERLINK(\"http://x\")", "count": 1, "variants": ["=HYPERLINK(\"http://x\")"], "guess": "help",
         "confidence": 0.2}]}}
    path, = exchange.export_csv(report, tmp_path)
    row = list(csv.DictReader(path.open(encoding="utf-8")))[0]
    assert row["text"].startswith("'=") and exchange.read_annotations(path) == []
    row["intent"] = "help"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, exchange.COLUMNS)
        writer.writeheader()
        writer.writerow(row)
    assert exchange.read_annotations(path)[0].text.startswith("=HYPERLINK")


# ----------------------------------------------------------------------------- /insights on the page server
def web_app(**insights: Any):
    import importlib

    return importlib.import_module("web.__main__").build("http://127.0.0.1:9", "", **insights)


def basic(password: str) -> str:
    return "Basic " + base64.b64encode(f"staff:{password}".encode()).decode()


def test_the_route_needs_its_own_login_and_does_not_exist_without_a_token(database, report):
    from aiohttp.test_utils import TestClient, TestServer

    async def check() -> None:
        async with TestClient(TestServer(web_app())) as client:
            for path in ("/insights", "/insights/report.json"):
                assert (await client.get(path, headers={"Authorization": f"Bearer {TOKEN}"})).status == 404
        async with TestClient(TestServer(web_app(insights_token=TOKEN, insights_db=database))) as client:
            for headers in ({}, {"Authorization": "Bearer wrong-token-wrong-token"}, {"Authorization": basic("no")},
                            {"Authorization": TOKEN}, {"Authorization": "Basic !!!"}):
                response = await client.get("/insights", headers=headers)
                assert response.status == 401, headers
                assert response.headers["WWW-Authenticate"].startswith("Basic")
            assert (await client.get("/insights/report.json")).status == 401
            response = await client.get("/insights", headers={"Authorization": f"Bearer {TOKEN}"})
            assert response.status == 200
            page = await response.text()
            policy = response.headers["Content-Security-Policy"]
            assert render.STYLE_HASH in policy and "script-src" not in policy and "default-src 'none'" in policy
            assert response.headers["X-Frame-Options"] == "DENY" and response.headers["Cache-Control"] == "no-store"
            assert "check_points" in page and "data:image/png;base64," in page
            assert not any(secret in page for secret in secret_strings())
            response = await client.get("/insights/report.json", headers={"Authorization": basic(TOKEN)})
            served = await response.json()
            assert {k: v for k, v in served.items() if k != "generated"} == \
                {k: v for k, v in report.items() if k != "generated"}
            bad = await client.get("/insights?since=yesterday", headers={"Authorization": f"Bearer {TOKEN}"})
            assert bad.status == 400
            assert (await client.get("/")).status == 200  # the public page as before
        async with TestClient(TestServer(web_app(insights_token=TOKEN, insights_db="sqlite:////nowhere/x"))) as client:
            response = await client.get("/insights", headers={"Authorization": f"Bearer {TOKEN}"})
            assert response.status == 503  # and the server goes on
            assert (await client.get("/")).status == 200

    asyncio.run(check())
    with pytest.raises(ValueError):
        web_app(insights_token="short")
    assert authorised(f"Bearer {TOKEN}", TOKEN) and not authorised(f"Bearer {TOKEN}x", TOKEN)


def test_screenshot_in_headless_chromium(database):
    from aiohttp import web
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver):
        pytest.fail("chromium and chromedriver are missing: run scripts/setup_web.sh --test")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(web_app(insights_token=TOKEN, insights_db=database))
    loop.run_until_complete(runner.setup())
    loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", port).start())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    options = Options()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync",
                 "--disable-background-networking", "--disable-component-update", "--window-size=1280,900",
                 f"--user-data-dir={tempfile.mkdtemp(prefix='chromium-')}"):
        options.add_argument(flag)
    browser = webdriver.Chrome(service=Service(driver), options=options)
    try:
        browser.set_page_load_timeout(60)
        browser.execute_cdp_cmd("Network.enable", {})
        browser.execute_cdp_cmd("Network.setExtraHTTPHeaders", {"headers": {"Authorization": f"Bearer {TOKEN}"}})
        browser.get(f"http://127.0.0.1:{port}/insights")
        images = browser.execute_script("return [...document.images].map(i => i.complete && i.naturalWidth)")
        assert len(images) == len(render.IMAGES) and all(images), "the CSP blocked a plot"
        assert browser.execute_script("return getComputedStyle(document.body).maxWidth") == "1180px", \
            "the CSP blocked the style"
        height = browser.execute_script("return document.documentElement.scrollHeight")
        browser.set_window_size(1280, min(height + 40, 16000))
        out = ROOT / "reports" / "insights"
        out.mkdir(parents=True, exist_ok=True)
        assert browser.save_screenshot(str(out / "screenshot.png"))
    finally:
        browser.quit()
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.run_until_complete(runner.cleanup())
        loop.close()


def test_source_finds_the_store_as_run_sh_tells_rasa(tmp_path):
    env = {"STATE_DIR": str(tmp_path)}
    assert source.database_url(None, env) == f"sqlite:///{tmp_path / 'tracker.sqlite3'}"
    assert source.database_url(None, {**env, "TRACKER_DB": str(tmp_path / "x.db")}).endswith("x.db")
    (tmp_path / "postgres.password").write_text("s3cret/pw\n")
    scaled = {**env, "TRACKER_DB_HOST": "127.0.0.1", "TRACKER_DB_PORT": "5999", "TRACKER_DB_USER": "rasa"}
    assert source.database_url(None, scaled) == "postgresql://rasa:s3cret%2Fpw@127.0.0.1:5999/rasa"
    assert source.database_url("sqlite:////elsewhere.db", scaled) == "sqlite:////elsewhere.db"


def test_the_store_is_opened_read_only(database):
    import sqlalchemy as sa

    engine = source.open_read_only(database)
    with engine.connect() as connection, pytest.raises(sa.exc.OperationalError):
        connection.exec_driver_sql("DELETE FROM events")
    engine.dispose()
