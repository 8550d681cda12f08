"""Two Rasa instances and two action servers behind nginx, with the PostgreSQL
tracker store and the Redis lock store: a conversation keeps its order and
loses nothing when its messages land on different instances, nor while Redis
is down and after it is back."""
from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import glob
import os
import re
import socket
import subprocess
import tempfile
import time
from typing import Callable, Iterator, List

import pytest
import requests

from tests.chat_client import ChatClient, conversation_key
from tests.stack import Stack, new_sender, response_texts
from tests.supervision import Held, Supervised, accepts_queries, answers_with_its_password, postgres_port, redis_port

MESSAGES = ["Hello", "how do I log in?", "how many points do I have?", "which levels can I choose?",
            "how can I pay?", "thanks"]


@pytest.fixture(scope="module")
def scaled(tmp_path_factory):
    pg_data = tempfile.mkdtemp(prefix="cps-pg-")  # reachable by the postgres user, unlike pytest's tmp
    stack = Stack(tmp_path_factory.mktemp("scaled"),
                  env={"RASA_INSTANCES": "2", "ACTION_SERVERS": "2", "PG_DATA": pg_data}).start(timeout=420)
    yield stack
    stack.stop()


def turns(tracker):
    """The events of a conversation as (user text, number of bot messages after it)."""
    result = []
    for event in tracker["events"]:
        if event["event"] == "user":
            result.append([event.get("text"), 0])
        elif event["event"] == "bot" and result:
            result[-1][1] += 1
    return result


def test_concurrent_conversations_keep_order_across_instances(scaled):
    senders = [new_sender("scaled") for _ in range(6)]

    def converse(sender):
        for text in MESSAGES:
            assert scaled.say(sender, text, language="en", cps_token="demo-pro")

    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        list(pool.map(converse, senders))
    for sender in senders:
        history = turns(scaled.tracker(sender))
        assert [text for text, _ in history] == MESSAGES
        assert all(bot_messages >= 1 for _, bot_messages in history), history

    upstreams = (scaled.state_dir / "logs" / "nginx-upstreams.log").read_text().split()
    used = {word for word in upstreams if word.startswith("127.0.0.1:")}
    assert len(used) == 2, f"messages did not reach both instances: {used}"


def test_messages_of_one_conversation_sent_at_once_are_serialised(scaled):
    sender = new_sender("burst")
    with concurrent.futures.ThreadPoolExecutor(len(MESSAGES)) as pool:
        replies = list(pool.map(lambda text: scaled.say(sender, text, language="en"), MESSAGES))
    assert all(replies)
    history = turns(scaled.tracker(sender))
    assert sorted(text for text, _ in history) == sorted(MESSAGES), history
    # The lock store let one message in at a time: each has its own answers before the next.
    assert all(bot_messages >= 1 for _, bot_messages in history), history


def drop_tracker_connections(stack: Stack) -> int:
    """What clients see when PostgreSQL restarts: the server ends every session."""
    port = re.search(r"PostgreSQL :(\d+)", (stack.state_dir / "run.out").read_text()).group(1)
    psql = sorted(glob.glob("/usr/lib/postgresql/*/bin/psql"))[-1]
    result = subprocess.run(
        [psql, "-h", "127.0.0.1", "-p", port, "-U", "rasa", "-d", "postgres", "-tAc",
         "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
         "WHERE datname = 'rasa' AND pid <> pg_backend_pid()"],
        capture_output=True, text=True, check=True, timeout=30,
        env={**os.environ, "PGPASSWORD": stack.secret("postgres.password")})
    return int(result.stdout.strip())


def test_conversation_survives_the_database_dropping_every_connection(scaled):
    sender = new_sender("pgdrop")
    for text in MESSAGES[:2]:
        assert scaled.say(sender, text, language="en")
    assert drop_tracker_connections(scaled) >= 2  # the pools of both instances
    for text in MESSAGES[2:]:  # round-robin: each instance meets its dead connections
        assert scaled.say(sender, text, language="en"), text
    assert [text for text, _ in turns(scaled.tracker(sender))] == MESSAGES


def test_only_the_channels_pass_nginx_and_the_stores_need_their_passwords(scaled):
    for path in ("/conversations/x/tracker", "/model", "/status", "/domain"):
        assert requests.get(f"{scaled.rasa_url}{path}", params=scaled.api_token, timeout=10).status_code == 404, path
    assert requests.get(f"{scaled.api_url}/status", params=scaled.api_token, timeout=10).status_code == 200
    port = re.search(r"Redis :(\d+)", (scaled.state_dir / "run.out").read_text()).group(1)
    with socket.create_connection(("127.0.0.1", int(port)), timeout=5) as redis:
        redis.sendall(b"PING\r\n")
        assert redis.recv(100).startswith(b"-NOAUTH"), "Redis answers without its password"
    psql = sorted(glob.glob("/usr/lib/postgresql/*/bin/psql"))[-1]
    pg_port = re.search(r"PostgreSQL :(\d+)", (scaled.state_dir / "run.out").read_text()).group(1)
    refused = subprocess.run([psql, "-h", "127.0.0.1", "-p", pg_port, "-U", "rasa", "-d", "rasa", "-w", "-tAc",
                              "select 1"], capture_output=True, text=True, timeout=30,
                             env={k: v for k, v in os.environ.items() if k != "PGPASSWORD"})
    assert refused.returncode != 0 and "password" in refused.stderr, refused.stderr


def await_condition(condition: Callable[[], bool], what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"{what}: not within {seconds} s"
        time.sleep(0.1)


def refuses_connections(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except ConnectionRefusedError:
        return True
    return False


@contextlib.contextmanager
def redis_down(stack: Stack) -> Iterator[int]:
    """Redis killed (SIGKILL) and kept down until the block ends; then supervisord starts it
    again exactly as at start-up. Yields the port."""
    port = redis_port(stack)
    with Held(Supervised(stack), "redis") as held:
        await_condition(lambda: refuses_connections(port), "Redis still accepts connections")
        yield port
    await_condition(lambda: answers_with_its_password(stack, port), "Redis not back on its port")
    assert Supervised(stack).pid("redis") not in (0, held.pid)


def texts(replies: List[dict]) -> List[str]:
    return [r["text"] for r in replies if r.get("text")]


async def socket_texts(visitor: ChatClient, text: str, language: str) -> List[str]:
    """The answers to one widget message; silence fails the test."""
    try:
        return texts(await visitor.say(text, {"language": language}, timeout=20))
    except asyncio.TimeoutError:
        pytest.fail(f"socket.io: no answer to {text!r} within 20 s")


def comparable(events: List[dict]) -> List[tuple]:
    return [(e["event"], e.get("timestamp"), e.get("name"), e.get("text"), e.get("value")) for e in events]


def test_redis_down_asks_to_try_again_in_the_users_language_and_the_conversation_resumes(scaled):
    """Redis (the lock store) down: REST and socket.io answer, in the conversation's language,
    "please try again" and store nothing; back on its port, the next messages are answered."""
    rest = new_sender("redisdown")
    cs_login, cs_password = "Jak se přihlásím ke svému účtu?", "zapomnel jsem heslo"
    fi_login = "Miten kirjaudun sisään tililleni?"
    unavailable = {language: response_texts("utter_service_unavailable", language) for language in ("cs", "fi")}

    async def scenario() -> None:
        say = lambda *args, **kwargs: asyncio.to_thread(scaled.say, *args, **kwargs)  # noqa: E731
        tracker = lambda sender: asyncio.to_thread(scaled.tracker, sender)  # noqa: E731
        async with ChatClient(scaled.web_url) as visitor:
            await visitor.request_session()
            widget = conversation_key(visitor.session_id)
            assert texts(await say(rest, "Dobrý den", language="cs"))
            assert await socket_texts(visitor, "Hyvää päivää", "fi")
            before = {sender: (await tracker(sender))["events"] for sender in (rest, widget)}

            with redis_down(scaled):
                # No language in the metadata (the backend sends it once): the conversation's and the text's.
                for _ in range(2):  # round-robin: both instances
                    assert texts(await say(rest, cs_login, expect_failure=True)) == unavailable["cs"]
                assert await socket_texts(visitor, fi_login, "fi") == unavailable["fi"]
                for sender in (rest, widget):
                    assert comparable((await tracker(sender))["events"]) == comparable(before[sender]), sender

            assert response_texts("utter_login", "cs")[0] in texts(await say(rest, cs_login))
            assert response_texts("utter_password_reset", "cs")[0] in texts(await say(rest, cs_password))
            replies = await socket_texts(visitor, fi_login, "fi")
            assert response_texts("utter_login", "fi")[0] in replies, replies

            for sender, said in ((rest, ["Dobrý den", cs_login, cs_password]), (widget, ["Hyvää päivää", fi_login])):
                after = await tracker(sender)
                assert comparable(after["events"][:len(before[sender])]) == comparable(before[sender]), sender
                assert [text for text, _ in turns(after)] == said, turns(after)
                assert all(bot_messages >= 1 for _, bot_messages in turns(after)), turns(after)
                assert after["slots"]["language"] == ("cs" if sender == rest else "fi")

    asyncio.run(scenario())


def test_postgres_killed_asks_to_try_again_stores_nothing_and_the_conversation_goes_on(scaled):
    """PostgreSQL (the tracker store) killed: every message meanwhile is answered, in the visitor's
    language, with "please try again", and nothing of it is stored (Rasa alone would answer it as a
    new conversation and keep it in memory only). Once supervisord has the database back, the
    conversation goes on from what was stored, every event once and in order."""
    sender = new_sender("pgkilled")
    login, password = "Kaip prisijungti prie savo paskyros?", "pamiršau slaptažodį, ką daryti?"
    assert texts(scaled.say(sender, "Laba diena", language="lt"))
    assert response_texts("utter_login", "lt")[0] in texts(scaled.say(sender, login, language="lt"))
    before = scaled.tracker(sender)["events"]
    unavailable = response_texts("utter_service_unavailable", "lt")

    with Held(Supervised(scaled), "postgres") as held:
        for _ in range(2):  # round-robin: both instances
            assert texts(scaled.say(sender, password, expect_failure=True, language="lt")) == unavailable
    await_condition(lambda: Supervised(scaled).pid("postgres") not in (0, held.pid)
                    and accepts_queries(postgres_port(scaled)), "PostgreSQL not back", 90)

    replies = texts(scaled.say(sender, password, language="lt"))
    assert response_texts("utter_password_reset", "lt")[0] in replies, replies
    after = scaled.tracker(sender)
    assert comparable(after["events"][:len(before)]) == comparable(before)
    assert [text for text, _ in turns(after)] == ["Laba diena", login, password], turns(after)
    assert all(bot_messages >= 1 for _, bot_messages in turns(after)), turns(after)


def test_one_rasa_instance_killed_under_load_the_others_carry_every_conversation(scaled):
    """16 conversations run while one of the two Rasa instances is killed (SIGKILL). nginx leaves it
    out (passive health checks) and supervisord starts it again. Only a turn in flight on the killed
    instance fails (502); the client sends it again, as the website's backend does. Afterwards every
    conversation holds each of its messages once, in order, each answered."""
    supervised = Supervised(scaled)
    victim = supervised.name("rasa").split(":")[1]
    victim_pid = supervised.pid(victim)
    rounds = 2
    failures: List[str] = []

    def say_until_answered(sender: str, text: str) -> None:
        for _ in range(5):
            try:
                # A turn whose conversation the killed instance held waits for that ticket to
                # expire (Rasa's TICKET_LOCK_LIFETIME, 60 s): the client waits longer than that.
                replies = scaled.say(sender, text, language="en", timeout=150)
            except requests.RequestException as error:
                failures.append(f"{sender} {text!r}: {error}")
                time.sleep(1)
                continue
            assert texts(replies), f"no answer to {text!r}"
            return
        pytest.fail(f"{sender}: {text!r} unanswered after 5 tries: {failures[-5:]}")

    def converse(sender: str) -> None:
        for text in MESSAGES * rounds:
            say_until_answered(sender, text)

    senders = [new_sender("killed-under-load") for _ in range(16)]
    with concurrent.futures.ThreadPoolExecutor(len(senders)) as pool:
        running = [pool.submit(converse, sender) for sender in senders]
        time.sleep(3)  # the load under way
        killed_at = time.monotonic()
        supervised.kill(victim)
        for future in running:
            future.result()
    await_condition(lambda: supervised.pid(victim) not in (0, victim_pid) and not refuses_connections(
        int(victim.split("-")[1])), f"{victim} not back", 240)
    print(f"\n{victim}: SIGKILL -> serving again in {time.monotonic() - killed_at:.0f}s; "
          f"{len(failures)} turns sent again: {failures[:3]}")
    assert len(failures) <= len(senders), f"more failures than turns in flight: {failures}"
    for sender in senders:
        said = turns(scaled.tracker(sender))
        assert [text for text, _ in said] == MESSAGES * rounds, f"{sender}: {said}"
        assert all(bot_messages >= 1 for _, bot_messages in said), f"{sender}: {said}"
