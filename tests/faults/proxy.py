"""A fault-injecting HTTP proxy for the AWS JSON and query protocols, on 127.0.0.1, in front of a moto server.

Each request is forwarded to moto unless the current *plan* picks a fault for it. The plan is a mapping from the
number of the request (1, 2, ... counted per operation name since the last :meth:`FaultProxy.arm`) to a fault:

``throttle``
    the service's throttling error, not forwarded: SQS ``RequestThrottled`` (HTTP 400, JSON with the query error
    header), Kinesis ``ProvisionedThroughputExceededException`` (HTTP 400), SNS ``Throttled`` (HTTP 429, XML).
``500`` / ``503``
    an internal error / service unavailable, not forwarded.
``reset``
    the connection is reset (RST) before anything is forwarded.
``reset-after``
    forwarded (moto applies the call), then the connection is reset instead of answering.
``delay``
    forwarded (moto applies the call), then the answer is held past the client's read timeout.

With ``latency`` every request is held that many seconds before it is forwarded or answered, as a network round
trip to SQS would be. ``one_at_a_time`` names operations forwarded to moto one
at a time (see there). The proxy counts the requests in flight: ``peak`` (the most at once, per operation and
``"*"`` for all) and ``overlaps`` (pairs of operations seen in flight at the same moment), so that tests can prove
that calls overlap without measuring time.

Only the faults that let moto apply the call (``reset-after``, ``delay``) can make a retry deliver twice; the proxy
counts them (``applied_faults``) so that tests can bound duplicates. Everything stops with :meth:`close`.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

FAULTS = ("throttle", "500", "503", "reset", "reset-after", "delay")
APPLIED = frozenset({"reset-after", "delay"})


def operation_of(headers: Mapping[str, str], body: bytes) -> tuple[str, str]:
    """(service, operation) of a request: X-Amz-Target for the JSON protocols, Action for the query protocol."""
    target = headers.get("X-Amz-Target", "")
    if target.startswith("AmazonSQS."):
        return "sqs", target.split(".", 1)[1]
    if target.startswith("Kinesis_"):
        return "kinesis", target.split(".", 1)[1]
    action = parse_qs(body.decode("utf-8", "replace")).get("Action", [""])[0]
    return "sns", action


def error_response(service: str, fault: str) -> tuple[int, dict[str, str], bytes]:
    status = {"throttle": 429 if service == "sns" else 400, "500": 500, "503": 503}[fault]
    if service == "sns":
        code = {"throttle": "Throttled", "500": "InternalError", "503": "ServiceUnavailable"}[fault]
        body = (
            '<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type>'
            f"<Code>{code}</Code><Message>injected</Message></Error><RequestId>fault</RequestId></ErrorResponse>"
        )
        return status, {"Content-Type": "text/xml"}, body.encode()
    if service == "kinesis":
        code = {
            "throttle": "ProvisionedThroughputExceededException",
            "500": "InternalFailure",
            "503": "ServiceUnavailable",
        }[fault]
        return (
            status,
            {"Content-Type": "application/x-amz-json-1.1"},
            json.dumps({"__type": code, "message": "injected"}).encode(),
        )
    code = {"throttle": "RequestThrottled", "500": "InternalError", "503": "ServiceUnavailable"}[fault]
    headers = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-query-error": f"{code};Sender"}
    return status, headers, json.dumps({"__type": f"com.amazonaws.sqs#{code}", "message": "injected"}).encode()


class FaultProxy:
    """Listens on 127.0.0.1 (a free port), forwards to ``upstream`` (host, port) and injects the armed faults."""

    def __init__(
        self,
        upstream: tuple[str, int],
        *,
        delay: float,
        latency: float = 0.0,
        one_at_a_time: frozenset[str] = frozenset(),
    ) -> None:
        self.upstream = upstream
        self.delay = delay
        self.latency = latency
        # Operations forwarded to moto one at a time (held concurrently all the same): moto's server runs requests
        # on threads without a lock, so two FIFO receives at once can both take messages of one group, which SQS
        # never does (it returns none of a group while one of it is in flight).
        self.one_at_a_time = one_at_a_time
        self._forward_lock = threading.Lock()
        self._lock = threading.Lock()
        self._active: Counter[str] = Counter()  # requests in flight now, by operation
        self.peak: Counter[str] = Counter()  # the most in flight at once, by operation; "*": all operations
        self.overlaps: set[tuple[str, str]] = set()  # (a, b), a <= b: both in flight at one moment
        self._plan: dict[str, dict[int, str]] = {}
        self.requests: Counter[str] = Counter()
        self.injected: Counter[str] = Counter()
        self.applied_faults: list[str] = []  # operations whose call moto applied but whose answer was lost
        self._injected_at: list[tuple[str, str]] = []  # (operation, fault), in order
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                service, operation = operation_of(self.headers, body)
                proxy._enter(operation)
                try:
                    self._handle(service, operation, body)
                finally:
                    proxy._leave(operation)

            def _handle(self, service: str, operation: str, body: bytes) -> None:
                if proxy.latency:
                    time.sleep(proxy.latency)
                fault = proxy._next_fault(operation)
                if fault in ("throttle", "500", "503"):
                    self._answer(*error_response(service, fault))
                    return
                if fault == "reset":
                    self._reset()
                    return
                status, headers, payload = proxy._forward(self.command, self.path, dict(self.headers), body)
                if fault == "reset-after":
                    self._reset()
                    return
                if fault == "delay":
                    time.sleep(proxy.delay)  # the client has given up by now; answering fails or is ignored
                    self.close_connection = True
                self._answer(status, headers, payload)

            do_GET = do_POST

            def _answer(self, status: int, headers: Mapping[str, str], payload: bytes) -> None:
                try:
                    self.send_response(status)
                    for name, value in headers.items():
                        if name.lower() not in ("content-length", "transfer-encoding", "connection", "date", "server"):
                            self.send_header(name, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    self.wfile.flush()
                except OSError:
                    self.close_connection = True

            def _reset(self) -> None:
                self.close_connection = True
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.close()

            def finish(self) -> None:
                with contextlib.suppress(OSError):
                    super().finish()

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    @property
    def endpoint(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def arm(self, plan: Mapping[str, Mapping[int, str]]) -> None:
        """Faults by operation name and request number (from 1); resets the counters."""
        with self._lock:
            self._plan = {operation: dict(faults) for operation, faults in plan.items()}
            self.requests.clear()
            self.injected.clear()
            self.applied_faults.clear()
            self._injected_at.clear()
            self.peak.clear()
            self.overlaps.clear()

    def _enter(self, operation: str) -> None:
        with self._lock:
            for other, count in self._active.items():
                if count:
                    self.overlaps.add((min(operation, other), max(operation, other)))
            self._active[operation] += 1
            self.peak[operation] = max(self.peak[operation], self._active[operation])
            self.peak["*"] = max(self.peak["*"], sum(self._active.values()))

    def _leave(self, operation: str) -> None:
        with self._lock:
            self._active[operation] -= 1

    def _next_fault(self, operation: str) -> str | None:
        with self._lock:
            self.requests[operation] += 1
            fault = self._plan.get(operation, {}).get(self.requests[operation])
            if fault is not None:
                self.injected[fault] += 1
                self._injected_at.append((operation, fault))
                if fault in APPLIED:
                    self.applied_faults.append(operation)
            return fault

    def injected_requests(self, operation: str) -> list[str]:
        """The faults injected into ``operation`` since the last arm()."""
        with self._lock:
            return [fault for name, fault in self._injected_at if name == operation]

    def _forward(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        if operation_of(headers, body)[1] in self.one_at_a_time:
            with self._forward_lock:
                return self._forward_now(method, path, headers, body)
        return self._forward_now(method, path, headers, body)

    def _forward_now(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        connection = http.client.HTTPConnection(*self.upstream, timeout=30)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            connection.close()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
