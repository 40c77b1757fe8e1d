"""What a deposit makes public about a record, in no API's words: the description each adapter maps
to its payload, and the fields a curator compares (what was sent, what would be sent now).

The ledger keeps ``public_fields`` of what each deposition was last sent, so a change of the record
or the policy that would change the landing page is seen without the network (``changed_fields``);
adapters map the same fields to what the repository shows, through its renamings.
"""

from __future__ import annotations

import html
import json
from dataclasses import asdict, dataclass

from archiver.model import Record
from archiver.policy import Policy

SYNTHESIS_NOTE = "Machine-generated synthesis of existing literature. Not primary research."
# What archiver deposits is a report, on both APIs: the legacy pair and the records API's id.
RESOURCE_TYPE = "publication-report"
# The record's public page is the same work as the deposit.
RELATION = "isidenticalto"


@dataclass(frozen=True)
class Creator:
    name: str  # "Family, Given" for a person
    organisation: bool
    orcid: str | None = None
    affiliation: str | None = None
    affiliation_ror: str | None = None
    ror: str | None = None  # an organisation's own ROR id


@dataclass(frozen=True)
class Description:
    """What the deposit says about a record, in no API's words."""

    record_id: str
    title: str
    publication_date: str
    description_html: str
    notes: str
    version: str
    creators: tuple[Creator, ...]
    publisher: str
    license: str  # as the policy names it
    keywords: tuple[str, ...]  # the record id last: how archiver finds the record on Zenodo again
    languages: tuple[str, ...]
    related_url: str | None
    communities: tuple[str, ...]


def describe(record: Record, policy: Policy) -> Description:
    """The record's deposit description. Never carries a DOI, nor anything private: everything
    here is on the landing page and goes to DataCite."""
    tier = record.quality_tier
    lines = []
    if record.abstract:
        lines.append(f"<p>{html.escape(record.abstract)}</p>")
    if record.research_question:
        lines.append(f"<p><strong>Research question:</strong> {html.escape(record.research_question)}</p>")
    level = record.verification
    lines.append(
        f"<p><strong>Verification level:</strong> {html.escape(level.level)}"
        f"{', ' + html.escape(level.label) if level.label else ''}; "
        f"{level.source_grounded_claims} source-grounded claims.</p>"
    )
    if tier:
        basis = f" ({html.escape(tier.basis)})" if tier.basis else ""
        lines.append(f"<p><strong>Quality tier:</strong> {html.escape(tier.tier)}{basis}</p>")
    lines.append(f"<p>{html.escape(SYNTHESIS_NOTE)}</p>")
    creators = tuple(
        Creator(c.name, c.type == "organizational", c.orcid, c.affiliation, c.affiliation_ror, c.ror) for c in policy.creators
    ) or (Creator(policy.publisher, True, ror=policy.publisher_ror),)
    return Description(
        record_id=record.id,
        title=record.archival_title,
        publication_date=record.submitted.isoformat() if record.submitted else "",
        description_html="\n".join(lines),
        notes=f"Record {record.id}. {SYNTHESIS_NOTE}",
        version=str(1 + record.correction_record.correction_count),
        creators=creators,
        publisher=policy.publisher,
        license=policy.license,
        keywords=(*policy.keywords, record.id),
        languages=policy.languages,
        # Zenodo detects a related identifier's scheme from the identifier alone (idutils) and
        # refuses one it cannot classify, such as a bare SRCH id: only the public page's URL goes.
        related_url=policy.record_page(record.id),
        communities=policy.communities,
    )


# The fields of the landing page a metadata update can change in place, as status and the review
# page name them. ``version`` is not among them: it counts corrections, which take a new version.
PUBLIC_FIELDS = (
    "title", "description", "creators", "publisher", "license", "keywords", "related_identifiers", "languages",
    "communities", "resource_type", "notes", "publication_date",
)


def public_fields(described: Description) -> dict[str, object]:
    """The description's public fields as JSON values (what the ledger keeps of what was sent)."""
    return {
        "title": described.title,
        "description": described.description_html,
        "creators": [{key: value for key, value in asdict(creator).items() if value not in (None, False)} for creator in described.creators],
        "publisher": described.publisher,
        "license": described.license,
        "keywords": list(described.keywords),
        "related_identifiers": [{"identifier": described.related_url, "relation": RELATION}] if described.related_url else [],
        "languages": list(described.languages),
        "communities": list(described.communities),
        "resource_type": RESOURCE_TYPE,
        "notes": described.notes,
        "publication_date": described.publication_date,
    }


def fields_text(fields: dict[str, object]) -> str:
    """The canonical text the ledger stores."""
    return json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def public_text(record: Record, policy: Policy) -> str:
    """What the ledger keeps of the metadata a deposit of ``record`` sends under ``policy``."""
    return fields_text(public_fields(describe(record, policy)))


def changed_fields(sent: str | None, now: dict[str, object], ignore: tuple[str, ...] = ()) -> list[str]:
    """The public fields whose value now differs from what was sent (``sent``: the ledger's text;
    None, or unreadable, when the ledger does not know: nothing is claimed), but those in
    ``ignore`` (fields the API does not send)."""
    if sent is None:
        return []
    try:
        before = json.loads(sent)
    except ValueError:
        return []
    if not isinstance(before, dict):
        return []
    return [name for name in PUBLIC_FIELDS if name in before and name not in ignore and before[name] != now.get(name)]
