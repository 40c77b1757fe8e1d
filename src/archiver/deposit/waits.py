"""Every wait of the deposit stage: one backoff, bounded, said aloud when it is long.

The transport waits for the repository's own limits (its Retry-After, its rate window); the stage
waits only for the search index to catch up with a write, and before trying a publish again. Both
go through ``Waiter``: attempt n waits min(STEP * n, LONGEST) seconds (2, 4, 6, 8, 10, ...), so
five looks at the index span 20 seconds, the window the exactly-once guarantees were measured with.
"""

from __future__ import annotations

from collections.abc import Callable

from archiver.progress import ANNOUNCE_AFTER

STEP = 2.0
LONGEST = 10.0


def delay(attempt: int) -> float:
    """The wait before try ``attempt + 1``, after ``attempt`` tries (2, 4, 6, 8, 10, 10, ... seconds)."""
    return min(STEP * attempt, LONGEST)


class Waiter:
    """Waits through the client's own sleep (tests pass one that only counts), saying the long ones."""

    def __init__(self, sleep: Callable[[float], None], announce: Callable[[str], None] | None) -> None:
        self.sleep = sleep
        self.announce = announce

    def after(self, attempt: int, why: str) -> None:
        seconds = delay(attempt)
        if seconds >= ANNOUNCE_AFTER and self.announce is not None:
            self.announce(f"waiting {seconds:.0f} s: {why}")
        self.sleep(seconds)
