"""Two Rasa instances and two action servers behind nginx, with the PostgreSQL
tracker store and the Redis lock store: a conversation keeps its order and
loses nothing when its messages land on different instances."""
from __future__ import annotations

import concurrent.futures
import glob
import os
import re
import socket
import subprocess
import tempfile

import pytest
import requests

from tests.stack import Stack, new_sender

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
