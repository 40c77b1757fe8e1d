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
from archiver.model import DepositionId

# Record ids per search. Each record has a few depositions at most (its versions, a draft), so one
# page of PAGE_SIZE hits usually answers a whole batch; the ids stay well inside any URL limit.
LOOKUP_BATCH = 50


def _batches(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def id_order(deposition_id: DepositionId) -> tuple[int, int, str]:
    """Ids in order: Zenodo's numbers by value, another repository's ids as text (which says nothing of time)."""
    return (0, deposition_id, "") if isinstance(deposition_id, int) else (1, 0, deposition_id)


def creation_order(deposition: RemoteDeposition) -> tuple:
    """Earliest created first, the id breaking a tie (or standing alone where ``created`` is not
    known). On Zenodo ids grow with time, so this is the order of its ids; InvenioRDM's are random."""
    created = deposition.created
    return (created is None, created.timestamp() if created is not None else 0.0, id_order(deposition.id))


def version_order(deposition: RemoteDeposition) -> tuple:
    """Latest version last: the highest ``versions.index``, where the repository says it; else by creation."""
    index = deposition.version_index
    return (index is not None, index or 0, creation_order(deposition))


@dataclass(frozen=True)
class Found:
    """What the repository's search holds for one record: its depositions, earliest created first."""

    record_id: str
    depositions: tuple[RemoteDeposition, ...] = ()

    def _concept_order(self, concept: str | None) -> tuple:
        return min((creation_order(d) for d in self.depositions if d.concept == concept), default=())

    @property
    def published(self) -> RemoteDeposition | None:
        """The latest published version of the record's first concept (a record deposited twice
        before archiver looked first has two concepts: the earlier created is the record's)."""
        published = [d for d in self.depositions if d.published]
        if not published:
            return None
        first = min(published, key=lambda d: self._concept_order(d.concept)).concept
        return max((d for d in published if d.concept == first), key=version_order)

    @property
    def first_drafts(self) -> tuple[RemoteDeposition, ...]:
        """Open drafts of concepts never published (a first deposit under way), earliest created first."""
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
    return {record_id: Found(record_id, tuple(sorted(deps, key=creation_order))) for record_id, deps in found.items()}
