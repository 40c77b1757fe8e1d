"""The double's HTTP plumbing both route tables stand on: answers, errors, bodies, the token, the
gate (rate limits and faults), a deposition by id, an upload's body read in one place, and the
test hooks (no token) a test uses to read counters or set faults."""

from __future__ import annotations

import hashlib
import json
import time
from http.server import BaseHTTPRequestHandler

from archiver.zenodo.double.rdm_mapping import decide_review
from archiver.zenodo.double.store import MAX_KEPT_BYTES, Deposition, DoubleState, Faults


class BaseHandler(BaseHTTPRequestHandler):
    server_version = "ZenodoDouble/1"
    protocol_version = "HTTP/1.1"

    @property
    def state(self) -> DoubleState:
        state: DoubleState = self.server.state  # type: ignore[attr-defined]
        return state

    def log_message(self, format: str, *args) -> None:
        pass

    # ------------------------------------------------------------------ plumbing

    def _rate_key(self) -> tuple[str, str]:
        # invenio-app keys the limit by User-Agent and remote address, not by token or user.
        return (self.headers.get("User-Agent", ""), self.client_address[0])

    def _send(self, status: int, body: object | None, extra: dict | None = None, count: bool = True) -> None:
        headers, _ = self.state.rate_headers(self._rate_key(), count=False)
        data = b"" if body is None else json.dumps(body).encode()
        if self.state.faults.latency_ms:
            time.sleep(self.state.faults.latency_ms / 1000)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in {**headers, **(extra or {})}.items():
            self.send_header(key, value)
        self.end_headers()
        if data:
            self.wfile.write(data)

    def _error(self, status: int, message: str, errors: list | None = None) -> None:
        body: dict = {"status": status, "message": message}
        if errors:
            body["errors"] = errors
        if self.state.faults.echo_request and status in (400, 500):
            body["request"] = {"path": self.path, "headers": dict(self.headers.items())}
        self._send(status, body)

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _json_body(self) -> object:
        data = self._read_body()
        if not data:
            return {}
        try:
            return json.loads(data)
        except ValueError:
            return None

    def _authorised(self) -> bool:
        header = self.headers.get("Authorization", "")
        token = header[7:] if header.startswith("Bearer ") else None
        return token is not None and token in self.state.tokens

    def _gate(self) -> bool:
        """Rate limit, faults and auth before the request is handled; False when already answered."""
        state = self.state
        with state.lock:
            state.counters["requests"] += 1
            state.request_count += 1
            faults = state.faults
            if faults.burst_every and state.request_count % faults.burst_every == 0:
                state.burst_left = faults.burst_length
            in_burst = state.burst_left > 0
            if in_burst:
                state.burst_left -= 1
            roll = state.rng.random()
        headers, over = state.rate_headers(self._rate_key())
        if over or in_burst:
            with state.lock:
                state.counters["429"] += 1
            self._read_body()
            extra = {"Retry-After": "1"} if in_burst and not over else {}
            span = "1 minute" if state.window == 60 else f"{state.window} second"
            limit = f"{state.hourly_limit} per 1 hour" if headers["X-RateLimit-Limit"] == str(state.hourly_limit) and over else f"{state.rate_limit} per {span}"
            self._send(429, {"status": 429, "message": limit}, extra)
            return False
        if roll < faults.error_share:
            with state.lock:
                state.counters["faults"] += 1
            self._read_body()
            status = (500, 502, 503)[int(roll * 1000) % 3]
            if status == 500:
                self._send(500, {
                    "error_id": f"{state.rng.getrandbits(128):032x}",
                    "message": "The server encountered an internal error and was unable to complete your request. "
                    "Either the server is overloaded or there is an error in the application.",
                    "status": 500,
                    **({"request": {"path": self.path, "headers": dict(self.headers.items())}} if faults.echo_request else {}),
                })
            else:
                self._send(status, {"status": status, "message": "Service unavailable."})
            return False
        if not self._authorised():
            self._read_body()
            self._send(403, {"status": 403, "message": "Permission denied."})
            return False
        return True

    def _deposition(self, raw_id: str) -> Deposition | None:
        number = self.state.internal(raw_id)
        return self.state.depositions.get(number) if number is not None else None

    def _not_found(self) -> None:
        self._send(404, {"status": 404, "message": "The persistent identifier does not exist."})

    # ------------------------------------------------------------------ routes

    def upload_fails(self) -> bool:
        """The fail-uploads fault: the upload's body read, and a 500 answered (True)."""
        if not self.state.faults.fail_uploads:
            return False
        with self.state.lock:
            self.state.counters["faults"] += 1
        self._read_body()
        self._send(500, {"status": 500, "message": "The server encountered an internal error and was unable to complete your request."})
        return True

    def _delete_draft(self, dep: Deposition) -> None:
        """DELETE and actions/discard are one handler (delete_draft): a draft, new versions
        included, is removed and the index refreshed at once; a published record has no draft: 404."""
        with self.state.lock:
            if dep.submitted:
                return self._not_found()
            self.state.depositions.pop(dep.id, None)
            self.state.buckets.pop(dep.bucket, None)
            self.state.counters["delete"] += 1
        self._send(204, None)

    def receive_file(self, length: int) -> tuple[str, int, bytes | None] | None:
        """The bytes of an upload as (md5, size, the bytes when at most MAX_KEPT_BYTES); None when
        the drop-upload fault cut the connection mid-body (the client sees it go)."""
        state = self.state
        with state.lock:
            drop = state.rng.random() < state.faults.drop_upload_share
        if drop:
            self.rfile.read(length // 2)
            self.close_connection = True
            self.connection.shutdown(2)
            return None
        digest, size, left, chunks = hashlib.md5(usedforsecurity=False), 0, length, []
        while left:
            chunk = self.rfile.read(min(left, 1 << 20))
            if not chunk:
                break
            digest.update(chunk)
            if size + len(chunk) <= MAX_KEPT_BYTES:
                chunks.append(chunk)
            size += len(chunk)
            left -= len(chunk)
        return digest.hexdigest(), size, b"".join(chunks) if size <= MAX_KEPT_BYTES else None

    # ------------------------------------------------------------------ test hooks (no token)

    def _admin_get(self) -> None:
        state = self.state
        with state.lock:
            body = {
                "counters": dict(state.counters),
                "depositions": [state.view(d) for d in state.depositions.values()],
            }
        self._send(200, body, count=False)

    def _admin_post(self) -> None:
        body = self._json_body()
        if self.path == "/_double/faults" and isinstance(body, dict):
            self.state.set_faults(Faults(**body))
            return self._send(200, {"ok": True}, count=False)
        if self.path == "/_double/community" and isinstance(body, dict):
            community_id = self.state.add_community(body["slug"], review_policy=body.get("review_policy", "closed"), curator=body.get("curator", False))
            return self._send(200, {"id": community_id}, count=False)
        if self.path == "/_double/review" and isinstance(body, dict):
            return self._send(200, {"ok": decide_review(self.state, self.state.internal(str(body["record_id"])) or 0, bool(body["accept"]))}, count=False)
        self._send(404, {"status": 404, "message": "no such test hook"}, count=False)
