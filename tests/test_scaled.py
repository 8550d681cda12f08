"""Two Rasa instances and two action servers behind nginx, with the PostgreSQL
tracker store and the Redis lock store: a conversation keeps its order and
loses nothing when its messages land on different instances."""
from __future__ import annotations

import concurrent.futures
import tempfile

import pytest

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
