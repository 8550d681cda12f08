"""actions/cps_client.py against real local servers that misbehave on purpose."""
from __future__ import annotations

import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from actions.cps_client import (CPSClient, CPSConflict, CPSInvalidResponse, CPSUnauthorized, CPSUnavailable,
                                CPSValidationError)
from tests.stack import free_port


def serve(status: int, body: bytes, delay: float = 0.0):
    calls = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            calls.append(self.path)
            time.sleep(delay)
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except OSError:
                pass

        do_POST = do_GET

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, calls


@pytest.fixture()
def misbehaving():
    servers = []

    def start(status, body=b"{}", delay=0.0):
        server, calls = serve(status, body, delay)
        servers.append(server)
        return CPSClient(f"http://127.0.0.1:{server.server_port}", read_timeout=0.5), calls

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def timed(call):
    started = time.monotonic()
    try:
        call()
    finally:
        timed.elapsed = time.monotonic() - started


def test_connection_refused_is_unavailable_quickly():
    client = CPSClient(f"http://127.0.0.1:{free_port()}")
    with pytest.raises(CPSUnavailable):
        timed(lambda: client.points("demo-pro"))
    assert timed.elapsed < 5


def test_slow_answer_times_out_and_is_retried_for_gets(misbehaving):
    client, calls = misbehaving(200, b"{}", delay=2.0)
    with pytest.raises(CPSUnavailable):
        timed(lambda: client.points("demo-pro"))
    assert timed.elapsed < 5 and len(calls) == 2  # one retry, both cut at the read timeout


def test_a_write_without_key_is_not_retried(misbehaving):
    client, calls = misbehaving(200, b"{}", delay=2.0)
    with pytest.raises(CPSUnavailable):
        client.open_ticket(None, "a@b.cz", "cs", "x")
    time.sleep(0.2)
    assert len(calls) == 1


@pytest.mark.parametrize("status, body, error", [
    (500, b'{"title": "boom"}', CPSUnavailable),
    (401, b'{"title": "no"}', CPSUnauthorized),
    (409, b'{"type": "x/no-linked-account"}', CPSConflict),
    (422, b'{"detail": "bad level"}', CPSValidationError),
    (200, b'{"allocated": 4', CPSInvalidResponse),
    (200, b'[1, 2]', CPSInvalidResponse),
])
def test_each_failure_becomes_its_typed_error(misbehaving, status, body, error):
    client, _ = misbehaving(status, body)
    with pytest.raises(error):
        timed(lambda: client.points("demo-pro"))
    assert timed.elapsed < 5


def test_token_never_in_logs_or_errors(misbehaving, caplog):
    caplog.set_level(logging.DEBUG)
    secret = "demo-secret-token-123"
    for status in (401, 500):
        client, _ = misbehaving(status)
        with pytest.raises(Exception) as raised:
            client.account(secret)
        assert secret not in str(raised.value)
    with pytest.raises(CPSUnavailable) as raised:
        CPSClient(f"http://127.0.0.1:{free_port()}").account(secret)
    assert secret not in str(raised.value)
    assert secret not in caplog.text


def test_against_the_real_server(api):
    client = CPSClient(api.url)
    assert client.points("demo-incomplete")["pending"] == 600
    with pytest.raises(CPSUnauthorized):
        client.points("nobody")
    with pytest.raises(CPSConflict) as conflict:
        client.migrate("demo-unlinked", idempotency_key="x")
    assert conflict.value.problem_type.endswith("/no-linked-account")
