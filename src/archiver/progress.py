"""A terminal progress line (records, records/s, ETA) that stays silent off a terminal, and when a wait is said aloud."""

from __future__ import annotations

import sys
import time

# A wait this long or longer is said on stderr, whoever waits: the transport for the server's
# limits, the deposit stage for the search index.
ANNOUNCE_AFTER = 3.0


class Progress:
    def __init__(self, total: int | None, *, enabled: bool, label: str = "records", stream=None) -> None:
        self.total = total
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.label = label
        self.done = 0
        self.started = time.monotonic()
        self._last = 0.0

    @classmethod
    def for_terminal(cls, total: int | None, *, quiet: bool, label: str = "records") -> Progress:
        return cls(total, enabled=not quiet and sys.stderr.isatty(), label=label)

    def advance(self, count: int = 1) -> None:
        self.done += count
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._last >= 0.1:
            self._last = now
            self._draw(now)

    def _draw(self, now: float) -> None:
        elapsed = max(now - self.started, 1e-9)
        rate = self.done / elapsed
        text = f"{self.done:,} {self.label}  {rate:,.0f}/s"
        if self.total:
            share = min(self.done / self.total, 1.0)
            filled = int(share * 24)
            remaining = (self.total - self.done) / rate if rate > 0 else 0
            minutes, seconds = divmod(int(max(remaining, 0)), 60)
            text = f"[{'#' * filled}{'.' * (24 - filled)}] {share:4.0%}  {text}  ETA {minutes}:{seconds:02d}"
        self.stream.write("\r" + text + "\033[K")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self._draw(time.monotonic())
            self.stream.write("\n")
            self.stream.flush()
