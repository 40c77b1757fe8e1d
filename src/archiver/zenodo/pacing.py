"""Pacing to the server's own rate limit: its X-RateLimit headers spread a batch over the window.

A window, a remaining count or a reset that is not a finite number of seconds up to MAX_WAIT is no
instruction (a lie, or a unit mistake): it is not slept on.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from archiver.progress import ANNOUNCE_AFTER

MAX_WAIT = 300.0  # seconds: a Retry-After or X-RateLimit-Reset beyond this is not slept on


class RateLimiter:
    """Spreads requests over the window the server announces, so a batch stays under the limit.

    After each answer it knows how many requests are left (X-RateLimit-Remaining) until when
    (X-RateLimit-Reset); the next request waits for its share of that time. A window that is not
    finite or longer than MAX_WAIT is not a pacing instruction (it is a lie or a unit mistake).
    """

    def __init__(
        self, clock: Callable[[], float] = time.time, sleep: Callable[[float], None] = time.sleep,
        announce: Callable[[str], None] | None = None, server_name: str = "Zenodo",
    ) -> None:
        self.clock = clock
        self.sleep = sleep
        self.server_name = server_name
        self.announce = announce
        self.lock = threading.Lock()
        self.next_at = 0.0
        self.interval = 0.0
        self.blocked_until = 0.0
        self.in_flight = 0  # requests sent by any worker whose answer has not come back

    def wait(self, stopping: Callable[[], bool] | None = None) -> bool:
        """Wait for this request's turn; False (without waiting or taking a turn) when ``stopping``
        says the run will not use it: a run that has decided to stop does not wait on limits."""
        with self.lock:
            now = self.clock()
            start = max(now, self.next_at, self.blocked_until)
            if start - now >= ANNOUNCE_AFTER and stopping is not None and stopping():
                return False
            self.next_at = start + self.interval
            self.in_flight += 1
        if start > now:
            if start - now >= ANNOUNCE_AFTER and self.announce:
                self.announce(f"waiting {start - now:.0f} s: pacing requests to {self.server_name}'s rate limit (X-RateLimit headers)")
            self.sleep(start - now)
        return True

    def release(self) -> None:
        """A request ended without an answer to learn from."""
        with self.lock:
            self.in_flight = max(self.in_flight - 1, 0)

    def observe(self, headers, status: int) -> None:
        with self.lock:
            self.in_flight = max(self.in_flight - 1, 0)
        remaining = header_number(headers.get("X-RateLimit-Remaining"))
        reset = header_number(headers.get("X-RateLimit-Reset"))
        if remaining is None or reset is None:
            return
        with self.lock:
            now = self.clock()
            window = reset - now
            if not 0.0 <= window <= MAX_WAIT:
                return  # in the past, or beyond any window Zenodo keeps (a year away, milliseconds)
            budget = int(remaining) - self.in_flight  # the other workers' requests are already on their way
            self.interval = window / budget if budget > 0 else window
            if budget <= 0:
                self.blocked_until = max(self.blocked_until, reset)
            if status == 429:
                # Retry-After on a 429 is the server's instruction; elsewhere it only counts down the window
                told = header_number(headers.get("Retry-After"))
                wait = told if told is not None and 0.0 <= told <= MAX_WAIT else window
                self.blocked_until = max(self.blocked_until, now + wait)
            elif remaining <= 0:
                self.blocked_until = max(self.blocked_until, reset)


def header_number(value: object) -> float | None:
    """A header's number, or None when absent, not a number, or not finite."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None
