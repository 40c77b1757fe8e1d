"""A fault-injecting HTTP proxy on 127.0.0.1 in front of the Zenodo double, and a trap listener.

The proxy forwards every request to the double unless a rule matches it; a rule may forward the
request (so Zenodo really acts) and then answer with something else: a truncated, empty, lying,
redirected, dripping, endless, enormous or compressed answer. The trap is a second listener on
another port that records whatever reaches it (a link or redirect that sends archiver elsewhere,
and any Authorization header that came with it).
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from http.client import HTTPConnection
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


@dataclass
class Exchange:
    """What a rule sees: the request, a way to forward it, and the handler to answer through."""

    handler: BaseHTTPRequestHandler
    method: str
    path: str
    headers: dict
    body: bytes
    upstream: str
    public: str  # the proxy's own base URL: links in forwarded answers name it, as a reverse proxy's do

    def forward(self) -> tuple[int, dict, bytes]:
        parts = urlsplit(self.upstream)
        connection = HTTPConnection(parts.hostname, parts.port, timeout=30)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "accept-encoding")}
        connection.request(self.method, self.path, body=self.body or None, headers=headers)
        answer = connection.getresponse()
        data = answer.read().replace(self.upstream.encode(), self.public.encode())
        out = {k: v for k, v in answer.getheaders() if k.lower() not in ("content-length", "transfer-encoding", "connection")}
        connection.close()
        return answer.status, out, data

    def send(self, status: int, body: bytes | str | dict | list = b"", headers: dict | None = None, length: int | None = None) -> None:
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        if isinstance(body, str):
            body = body.encode()
        self.handler.send_response(status)
        for key, value in (headers or {"Content-Type": "application/json"}).items():
            self.handler.send_header(key, value)
        self.handler.send_header("Content-Length", str(len(body) if length is None else length))
        self.handler.end_headers()
        self.handler.wfile.write(body)
        self.handler.wfile.flush()

    def raw(self, data: bytes) -> None:
        self.handler.wfile.write(data)
        self.handler.wfile.flush()

    def close(self) -> None:
        self.handler.close_connection = True
        try:
            self.handler.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


@dataclass
class Rule:
    method: str
    path: str  # a regular expression matched against the path (query included)
    act: Callable[[Exchange], None]
    times: int = 1  # how many matching requests it takes; the rest are forwarded
    hits: int = 0


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        pass  # a client that went away mid-answer is what several faults are about


class _Handler(BaseHTTPRequestHandler):
    """Every method goes to ``answer(body)``; nothing is logged."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args) -> None:
        pass

    def answer(self, body: bytes) -> None:
        raise NotImplementedError

    def _any(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.answer(self.rfile.read(length) if length else b"")

    do_GET = do_POST = do_PUT = do_DELETE = _any


class _Listener:
    """A threaded server on 127.0.0.1, any free port, started and stopped as a context manager."""

    def __init__(self, handler: type[_Handler]) -> None:
        self.server = _Server(("127.0.0.1", 0), handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


class HostileProxy(_Listener):
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.rules: list[Rule] = []
        self.lock = threading.Lock()
        proxy = self

        class Handler(_Handler):
            def answer(self, body: bytes) -> None:
                exchange = Exchange(self, self.command, self.path, dict(self.headers.items()), body, proxy.upstream, proxy.url)
                rule = proxy._take(self.command, self.path)
                if rule is not None:
                    rule.act(exchange)
                    return
                status, headers, data = exchange.forward()
                exchange.send(status, data, headers)

        super().__init__(Handler)

    @property
    def api_url(self) -> str:
        return f"{self.url}/api"

    def _take(self, method: str, path: str) -> Rule | None:
        with self.lock:
            for rule in self.rules:
                if rule.method == method and re.search(rule.path, path) and rule.hits < rule.times:
                    rule.hits += 1
                    return rule
        return None

    def add(self, method: str, path: str, act: Callable[[Exchange], None], times: int = 1) -> Rule:
        rule = Rule(method, path, act, times)
        with self.lock:
            self.rules.append(rule)
        return rule

    def clear(self) -> None:
        with self.lock:
            self.rules.clear()


class Trap(_Listener):
    """A listener on another port: records each request (method, path, Authorization) it gets."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str | None]] = []
        trap = self

        class Handler(_Handler):
            def answer(self, body: bytes) -> None:
                trap.seen.append((self.command, self.path, self.headers.get("Authorization")))
                reply = b'{"key": "x", "checksum": "md5:0"}'
                self.send_response(201)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

        super().__init__(Handler)


# ---------------------------------------------------------------------------- answers


def forwarded_then(change: Callable[[int, dict, bytes], tuple[int, dict, bytes]]) -> Callable[[Exchange], None]:
    """Let Zenodo act, then answer with ``change`` applied to its answer."""

    def act(exchange: Exchange) -> None:
        status, headers, body = change(*exchange.forward())
        exchange.send(status, body, headers)

    return act


def json_changed(edit: Callable[[dict, Exchange], None]) -> Callable[[Exchange], None]:
    def act(exchange: Exchange) -> None:
        status, headers, body = exchange.forward()
        document = json.loads(body)
        edit(document, exchange)
        exchange.send(status, json.dumps(document).encode(), headers)

    return act


def truncated(exchange: Exchange) -> None:
    status, headers, body = exchange.forward()
    exchange.send(status, body[: len(body) // 2], headers, length=len(body))  # promises more than it sends
    exchange.close()


def gzip_bomb(megabytes: int = 256) -> Callable[[Exchange], None]:
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # gzip
    block = b"\0" * (1 << 20)
    bomb = b"".join(packer.compress(block) for _ in range(megabytes)) + packer.flush()

    def act(exchange: Exchange) -> None:
        exchange.forward()
        exchange.send(201, bomb, {"Content-Type": "application/json", "Content-Encoding": "gzip"})

    return act


def drip(seconds_per_byte: float = 1.0) -> Callable[[Exchange], None]:
    def act(exchange: Exchange) -> None:
        status, headers, body = exchange.forward()
        exchange.handler.send_response(status)
        exchange.handler.send_header("Content-Type", "application/json")
        exchange.handler.send_header("Content-Length", str(len(body)))
        exchange.handler.end_headers()
        try:
            for byte in body:
                exchange.raw(bytes([byte]))
                time.sleep(seconds_per_byte)
        except OSError:
            return

    return act


def never_answers(exchange: Exchange) -> None:
    exchange.forward()  # it happened; the answer never comes
    for _ in range(600):
        time.sleep(0.1)
        try:
            if exchange.handler.connection.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b"":
                return  # the client gave up
        except BlockingIOError:
            continue
        except OSError:
            return


def broken_chunks(exchange: Exchange) -> None:
    exchange.forward()
    exchange.handler.send_response(201)
    exchange.handler.send_header("Content-Type", "application/json")
    exchange.handler.send_header("Transfer-Encoding", "chunked")
    exchange.handler.end_headers()
    exchange.raw(b"zz\r\n{}\r\n0\r\n\r\n")  # a chunk length that is not hex
    exchange.close()


def answer(status: int, body: bytes | str | dict | list, headers: dict | None = None, forward: bool = False) -> Callable[[Exchange], None]:
    def act(exchange: Exchange) -> None:
        if forward:
            exchange.forward()
        exchange.send(status, body, headers)

    return act
