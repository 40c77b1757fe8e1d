"""An exact set of record ids at four bytes an id, so duplicate detection does not grow memory much.

Record ids are ``SRCH:`` and eight hex digits, a 32-bit number. Recent ids sit in a small Python
set; when it fills they become a sorted ``array('I')`` run, and runs are merged as they pile up
(a log-structured set). A million ids cost about 4 MB instead of the ~70 MB of a set of strings.
"""

from __future__ import annotations

import re
from array import array
from bisect import bisect_left
from heapq import merge

from archiver.vocabulary import RECORD_ID_HEX, RECORD_ID_PREFIX

_ID = re.compile(f"{RECORD_ID_PREFIX}({RECORD_ID_HEX})\\Z")


class IdSet:
    def __init__(self, buffer_size: int = 1 << 16, max_runs: int = 6) -> None:
        self.buffer: set[int] = set()
        self.runs: list[array] = []
        self.buffer_size = buffer_size
        self.max_runs = max_runs
        self.others: set[str] = set()  # ids of another shape (never produced by a valid record today)

    def add(self, record_id: str) -> bool:
        """Add an id; False when it was already present."""
        match = _ID.match(record_id)
        if match is None:
            if record_id in self.others:
                return False
            self.others.add(record_id)
            return True
        key = int(match.group(1), 16)
        if key in self.buffer:
            return False
        for run in self.runs:
            if _contains(run, key):
                return False
        self.buffer.add(key)
        if len(self.buffer) >= self.buffer_size:
            self._spill()
        return True

    def __len__(self) -> int:
        return len(self.buffer) + sum(len(run) for run in self.runs) + len(self.others)

    def _spill(self) -> None:
        self.runs.append(array("I", sorted(self.buffer)))
        self.buffer = set()
        if len(self.runs) > self.max_runs:
            self.runs = [array("I", merge(*self.runs))]


def _contains(run: array, key: int) -> bool:
    index = bisect_left(run, key)
    return index < len(run) and run[index] == key
