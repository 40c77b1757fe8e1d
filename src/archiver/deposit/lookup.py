"""Find records in the repository by their public id: batched searches of the token owner's depositions.

A record's identity there is its id as a keyword or subject (``SRCH:9DC75331``), which is public
and the same from any folder or machine; each adapter asks its API for many records in one query.
That field is analysed text, so a hit is a hint: a deposition counts for a record only when one of
its record ids is exactly the record's id.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from archiver.deposit.port import DepositPort, RemoteDeposition

# Record ids per search. Each record has a few depositions at most (its versions, a draft), so one
# page of PAGE_SIZE hits usually answers a whole batch; the ids stay well inside any URL limit.
LOOKUP_BATCH = 50


def _batches(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass(frozen=True)
class Found:
    """What Zenodo's search holds for one record: its depositions, lowest id first."""

    record_id: str
    depositions: tuple[RemoteDeposition, ...] = ()

    def _concept_order(self, concept: str | None) -> int:
        ids = [d.id for d in self.depositions if d.concept == concept]
        return min(ids) if ids else 0

    @property
    def published(self) -> RemoteDeposition | None:
        """The latest published version of the record's first concept (a record deposited twice
        before archiver looked first has two concepts: the older one is the record's)."""
        published = [d for d in self.depositions if d.published]
        if not published:
            return None
        first = min(published, key=lambda d: self._concept_order(d.concept)).concept
        return max((d for d in published if d.concept == first), key=lambda d: d.id)

    @property
    def first_drafts(self) -> tuple[RemoteDeposition, ...]:
        """Open drafts of concepts never published (a first deposit under way), lowest id first."""
        published_concepts = {d.concept for d in self.depositions if d.published}
        return tuple(d for d in self.depositions if not d.published and d.concept not in published_concepts)

    @property
    def other_concepts(self) -> int:
        """How many published concepts beyond the record's own Zenodo holds (duplicates from before)."""
        return max(len({d.concept for d in self.depositions if d.published}) - 1, 0)


def find_records(api: DepositPort, record_ids: Iterable[str], batch: int = LOOKUP_BATCH) -> dict[str, Found]:
    """Every deposition of each record (all versions, drafts included), in one search per
    ``batch`` records, page after page."""
    wanted = sorted(set(record_ids))
    found: dict[str, list[RemoteDeposition]] = {record_id: [] for record_id in wanted}
    for ids in _batches(wanted, batch):
        for hit in api.search(ids):
            for keyword in hit.record_ids:
                if keyword in found and all(d.id != hit.id for d in found[keyword]):
                    found[keyword].append(hit)
    return {record_id: Found(record_id, tuple(sorted(deps, key=lambda d: d.id))) for record_id, deps in found.items()}
