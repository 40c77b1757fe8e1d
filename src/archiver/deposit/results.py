"""What a deposit run did: one result per record, and the summary that owns the exit code."""

from __future__ import annotations

from dataclasses import dataclass, field

from archiver.model import DepositionId


@dataclass
class RecordResult:
    record_id: str
    # deposited, resumed, new-version, adopted (found published on Zenodo), registered, skipped, drafted,
    # drifted, metadata-changed (awaits --update-metadata), updated (its metadata, in place), deferred
    # (a concurrent run's deposition wins), in-review (waits for its community), failed, not-started,
    # not-published
    action: str
    detail: str = ""
    doi: str | None = None
    deposition_id: DepositionId | None = None

    def as_dict(self) -> dict:
        return {"id": self.record_id, "action": self.action, "detail": self.detail, "doi": self.doi, "deposition_id": self.deposition_id}


@dataclass
class DepositSummary:
    environment: str
    results: list[RecordResult] = field(default_factory=list)
    requests: int = 0
    throttled: int = 0
    seconds: float = 0.0
    interrupted: bool = False
    token_refused: str | None = None
    unreachable: str | None = None  # Zenodo gave no answer: the run stopped starting records
    rate_limited: bool = False  # ... because its rate limit never let up (the transport's waits are spent)
    failing: str | None = None  # the server kept failing (5xx) record after record: the run stopped starting records

    @property
    def failed(self) -> int:
        """Records not done: failed, drifted (they wait for --new-versions), metadata-changed (for
        --update-metadata) or deferred (to the next run)."""
        return sum(r.action in ("failed", "drifted", "metadata-changed", "deferred") for r in self.results)

    @property
    def exit_code(self) -> int:
        if self.interrupted:
            return 130  # as a shell reports a run ended by Ctrl-C
        if self.token_refused or self.unreachable or self.failing:
            return 2  # could not run: no record can go with this token, or to a server that does not answer or keeps failing
        return 1 if self.failed else 0

    def as_dict(self) -> dict:
        counts: dict[str, int] = {}
        for result in self.results:
            counts[result.action] = counts.get(result.action, 0) + 1
        return {
            "environment": self.environment,
            "totals": dict(sorted(counts.items())),
            "requests": self.requests,
            "429_received": self.throttled,
            "seconds": round(self.seconds, 3),
            "records": [r.as_dict() for r in self.results],
            "interrupted": self.interrupted,
            "token_refused": self.token_refused,
            "unreachable": self.unreachable,
            "rate_limited": self.rate_limited,
            "failing": self.failing,
            "exit_code": self.exit_code,
        }
