"""The one client every action uses to talk to the CPS API.

Two `requests.Session`s (one that retries, one that never does), short connect and read timeouts on every call,
retries with backoff only where repeating is safe (GETs and writes that carry
an Idempotency-Key), typed errors, and the bearer token never in a log line or
an exception message. `AsyncCPSClient` runs the same calls in a worker thread
so that the action server's event loop never blocks on the network.
"""
from __future__ import annotations

import asyncio
import functools
import logging
import os
from typing import Any, Dict, List, Optional

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from bot.token_cipher import could_be_token

logger = logging.getLogger(__name__)

DEFAULT_URL = "http://127.0.0.1:8000"


class CPSError(Exception):
    """Any failure talking to the CPS API."""


class CPSUnauthorized(CPSError):
    """401: the token is missing, unknown or expired; the visitor must sign in again."""


class CPSNotFound(CPSError):
    """404: the account has no such resource."""


class CPSConflict(CPSError):
    """409: the request clashes with the account's state (see `problem_type`)."""

    def __init__(self, message: str, problem_type: str = "") -> None:
        super().__init__(message)
        self.problem_type = problem_type


class CPSValidationError(CPSError):
    """400/422: the API refused the request's content (see `detail`)."""

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail


class CPSUnavailable(CPSError):
    """The API could not be reached in time, or kept failing (5xx)."""


class CPSInvalidResponse(CPSError):
    """The API answered something that is not the JSON the contract promises."""


class CPSClient:
    def __init__(
        self,
        base_url: Optional[str] = None,
        connect_timeout: float = 1.5,
        read_timeout: float = 4.0,
        retries: int = 1,
    ) -> None:
        self.base_url = (base_url or os.environ.get("CPS_API_URL") or DEFAULT_URL).rstrip("/")
        self.timeout = (connect_timeout, read_timeout)
        retry = Retry(
            total=retries,
            connect=retries,
            read=retries,
            status=retries,
            backoff_factor=0.2,
            status_forcelist=(502, 503, 504),
            allowed_methods=None,  # we decide per call which session may retry
            raise_on_status=False,
        )
        self.retrying = self._session(HTTPAdapter(max_retries=retry, pool_maxsize=32))
        self.once = self._session(HTTPAdapter(max_retries=0, pool_maxsize=32))

    @staticmethod
    def _session(adapter: HTTPAdapter) -> requests.Session:
        session = requests.Session()
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        return session

    # --- the calls of the contract (cps_api/openapi.yaml)
    def account(self, token: str) -> Dict[str, Any]:
        return self._call("GET", "/v1/account", token)

    def products(self, token: str) -> Dict[str, Any]:
        return self._call("GET", "/v1/products", token)

    def update_product(self, token: str, product_id: str, **fields: Any) -> Dict[str, Any]:
        return self._call("PATCH", f"/v1/products/{product_id}", token, body=fields, idempotent=True)

    def migrate(self, token: str, idempotency_key: str) -> Dict[str, Any]:
        return self._call("POST", "/v1/migrations", token, idempotency_key=idempotency_key)

    def points(self, token: str) -> Dict[str, Any]:
        return self._call("GET", "/v1/points", token)

    def levels(self, token: str) -> Dict[str, Any]:
        return self._call("GET", "/v1/membership/levels", token)

    def choose_level(self, token: str, level: str, payment_method: str, idempotency_key: str) -> Dict[str, Any]:
        body = {"level": level, "payment_method": payment_method}
        return self._call("POST", "/v1/membership", token, body=body, idempotency_key=idempotency_key)

    def membership(self, token: str) -> Dict[str, Any]:
        return self._call("GET", "/v1/membership", token)

    def open_ticket(
        self,
        token: Optional[str],
        contact_email: str,
        language: str,
        summary: str,
        product: Optional[str] = None,
        serial_number: Optional[str] = None,
        excerpt: Optional[List[Dict[str, str]]] = None,
        idempotency_key: Optional[str] = None,
    ) -> Dict[str, Any]:
        body = {
            "contact_email": contact_email,
            "language": language,
            "summary": summary,
            "product": product,
            "serial_number": serial_number,
            "conversation_excerpt": excerpt or [],
        }
        return self._call("POST", "/v1/support/tickets", token, body=body, idempotency_key=idempotency_key)

    def ticket(self, token: Optional[str], ticket_id: str) -> Dict[str, Any]:
        return self._call("GET", f"/v1/support/tickets/{ticket_id}", token)

    # --- transport
    def _call(
        self,
        method: str,
        path: str,
        token: Optional[str],
        body: Optional[Dict[str, Any]] = None,
        idempotency_key: Optional[str] = None,
        idempotent: bool = False,
    ) -> Dict[str, Any]:
        headers = {"Accept": "application/json"}
        if token and not could_be_token(token):
            # Never put it in a header (requests would echo it in its error): it cannot be valid.
            raise CPSUnauthorized(f"CPS API token for {method} {path} has characters no token has")
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        # A write without a key might be applied twice if retried: send it once.
        session = self.retrying if method == "GET" or idempotency_key or idempotent else self.once
        try:
            response = session.request(method, self.base_url + path, json=body, headers=headers, timeout=self.timeout)
        except (requests.ConnectionError, requests.Timeout) as error:
            logger.warning("CPS API %s %s unreachable: %s", method, path, type(error).__name__)
            raise CPSUnavailable(f"CPS API at {self.base_url} did not answer {method} {path} in time") from None
        return self._result(method, path, response)

    def _result(self, method: str, path: str, response: requests.Response) -> Dict[str, Any]:
        status = response.status_code
        logger.debug("CPS API %s %s -> %s", method, path, status)
        problem = self._json(response, strict=False)
        problem = problem if isinstance(problem, dict) else {}
        detail = str(problem.get("detail") or problem.get("title") or "")
        if status == 401:
            raise CPSUnauthorized(f"CPS API refused the token for {method} {path}")
        if status == 404:
            raise CPSNotFound(f"CPS API has no {path}")
        if status == 409:
            raise CPSConflict(f"CPS API conflict on {method} {path}: {detail}", str(problem.get("type", "")))
        if status in (400, 422):
            raise CPSValidationError(f"CPS API rejected {method} {path}: {detail}", detail)
        if status >= 500:
            raise CPSUnavailable(f"CPS API failed on {method} {path} with {status}")
        if status >= 300:
            raise CPSInvalidResponse(f"CPS API answered {status} to {method} {path}")
        data = self._json(response, strict=True)
        if not isinstance(data, dict):
            raise CPSInvalidResponse(f"CPS API answered {method} {path} with something other than an object")
        return data

    @staticmethod
    def _json(response: requests.Response, strict: bool) -> Any:
        try:
            return response.json()
        except ValueError:
            if strict:
                raise CPSInvalidResponse(
                    f"CPS API answered {response.request.method} {response.request.path_url} with invalid JSON"
                ) from None
            return None


class AsyncCPSClient:
    """The same calls as coroutines, run in a worker thread."""

    def __init__(self, client: Optional[CPSClient] = None) -> None:
        self.sync = client or CPSClient()

    def __getattr__(self, name: str) -> Any:
        call = getattr(self.sync, name)

        @functools.wraps(call)
        async def run(*args: Any, **kwargs: Any) -> Any:
            return await asyncio.to_thread(call, *args, **kwargs)

        return run
