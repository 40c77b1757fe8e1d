"""Ctrl-C in two stages: the first lets what is in progress finish, the second stops at once."""

from __future__ import annotations

import os
import signal
import sys
import threading

from archiver.cli.common import print_err


class TwoStageInterrupt:
    """While held, SIGINT sets ``stop`` (the run starts nothing new and names what it finishes);
    a second SIGINT ends the process at once, exit 130. The ledger commits each step as it is
    confirmed (SQLite, WAL), so a rerun resumes from there either way."""

    def __init__(self, command: str) -> None:
        self.command = command
        self.stop = threading.Event()
        self.in_progress: set[str] = set()
        self._previous: object = None

    def _interrupted(self, signum, frame) -> None:
        if self.stop.is_set():
            print_err(f"{self.command}: stopped at once; every confirmed step is in the ledger and a rerun resumes from it")
            sys.stderr.flush()
            os._exit(130)
        self.stop.set()
        busy = ", ".join(sorted(self.in_progress)) or "nothing in progress"
        print_err(
            f"{self.command}: interrupted: finishing {busy} (no new record is started), then bringing "
            "report.json, report.html and the CSVs in line with the manifests; Ctrl-C again stops at once"
        )

    def __enter__(self) -> TwoStageInterrupt:
        self._previous = signal.signal(signal.SIGINT, self._interrupted)
        return self

    def __exit__(self, *_exc: object) -> None:
        signal.signal(signal.SIGINT, self._previous)  # type: ignore[arg-type]
