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
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Callable, Iterator, List

import pytest
import redis
import requests

from tests.chat_client import ChatClient, conversation_key
from tests.stack import Stack, new_sender, response_texts

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


def redis_port(stack: Stack) -> int:
    return int(re.search(r"Redis :(\d+)", (stack.state_dir / "run.out").read_text()).group(1))


def redis_server_pid(port: int) -> int:
    """The redis-server serving `port` (Redis titles its process `redis-server 127.0.0.1:<port>`)."""
    for proc in Path("/proc").iterdir():
        try:
            title = (proc / "cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if title.startswith(b"redis-server 127.0.0.1:%d" % port):
            return int(proc.name)
    raise AssertionError(f"no redis-server on port {port}")


def parent_pid(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"^PPid:\s*(\d+)", status, re.M).group(1))


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


def answers_with_its_password(stack: Stack, port: int) -> bool:
    try:
        return redis.Redis(port=port, password=stack.secret("redis.password"), socket_timeout=2).ping()
    except redis.exceptions.ConnectionError:
        return False


@contextlib.contextmanager
def redis_down(stack: Stack) -> Iterator[int]:
    """Redis killed, and kept down until the block ends; then the stack's keeper
    (scripts/scaled.sh) starts it again exactly as at start-up. Yields the port."""
    port = redis_port(stack)
    server = redis_server_pid(port)
    keeper = parent_pid(server)
    assert b"redis-keeper" in Path(f"/proc/{keeper}/cmdline").read_bytes(), "Redis runs without its keeper"
    os.kill(keeper, signal.SIGSTOP)  # the keeper would start it again at once
    try:
        os.kill(server, signal.SIGKILL)
        await_condition(lambda: refuses_connections(port), "Redis still accepts connections")
        yield port
    finally:
        os.kill(keeper, signal.SIGCONT)
    await_condition(lambda: answers_with_its_password(stack, port), "Redis not back on its port")
    assert redis_server_pid(port) != server


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
