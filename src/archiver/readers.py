"""Read record pages (pipe-table and web-text layouts), JSON and JSONL into validated Records.

Every input yields one ReadResult per record: a Record or coded errors, plus coded warnings.
Nothing here raises for bad content; ArchiverError is kept for sources that cannot be opened.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from pydantic import ValidationError

from archiver import jsontext
from archiver.findings import Finding, json_path
from archiver.walk import OnSkip, open_source, read_at_most, walk_files
from archiver.model import (
    CORRECTION_CONTRACT,
    MANIFEST_CONTRACT,
    PROVENANCE_CONTRACT,
    Record,
)

MAX_INPUT_BYTES = 16 * 1024 * 1024  # a record page or JSON file larger than this is not a record

SECTIONS = {
    "abstract": "abstract",
    "research question": "research_question",
    "verification level": "verification",
    "truth-engine gate verdict": "gate",
    "quality tier": "quality_tier",
    "quality dimensions": "quality_dimensions",
    "correction record": "correction_record",
    "provenance": "provenance",
}
REQUIRED_SECTIONS = ("verification", "quality_tier", "correction_record", "provenance")

# Row labels per section -> key of the raw row. Matched longest first, case-insensitively,
# so flattened web text ("Paper levelL2, ...") splits the same way as a pipe row.
SECTION_LABELS = {
    "verification": ["Paper level", "Source-grounded claims", "Claim record source"],
    "gate": ["Status", "Gate", "Reason", "Evaluated", "Reproducible artifact", "Artifact"],
    "quality_tier": ["Tier", "Basis"],
    "quality_dimensions": [
        "Evidence strength",
        "Citation grounding",
        "Uncertainty disclosure",
        "Reproducibility status",
    ],
    "correction_record": ["Status", "Correction count", "Manifest contract", "Correction contract"],
    "provenance": [
        "Publisher",
        "Public provenance",
        "Report artifact path",
        "Report artifact",
        "External record",
        "Claim lineage",
        "Review method",
        "Quality guide",
        "Provenance contract",
        "Note",
        "DOI",
    ],
}
HEADER_LABELS = [
    "Submitted",
    "Review score",
    "Verification",
    "Gate status",
    "Quality tier",
    "Verified claims",
    "DOI",
]
_SORTED_LABELS = {
    section: sorted(labels, key=len, reverse=True) for section, labels in SECTION_LABELS.items()
}
_ID_LINE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*:\S+$")
_NAV_LINE = re.compile(r"^Index\s*\|")
_CORRECTION_ROW = re.compile(r"^Correction\s+(\d+)\s*(.*)$", re.IGNORECASE)
_SCORE = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*/\s*(\d+(?:\.\d+)?)\s*$")
_ABSTRACT_SCORE = re.compile(r"score of\s+(-?\d+(?:\.\d+)?)\s*/\s*10\b", re.IGNORECASE)
_INTEGER = re.compile(r"^[+-]?\d+$")
_LEADING_INT = re.compile(r"^\s*(\d+)\b")
_DIMENSION_KEYS = {
    "evidence strength": "evidence_strength",
    "citation grounding": "citation_grounding",
    "uncertainty disclosure": "uncertainty_disclosure",
    "reproducibility status": "reproducibility_status",
}
# Basis sentences seen on the pages, and the tier each one speaks for.
_BASIS_TIERS = (
    ("below 5.0", "Quarantine candidate"),
    ("below doi-grade threshold", "Watchlist"),
    ("meet doi-grade", "DOI grade"),
)


@dataclass
class ReadResult:
    """One input record: the validated Record, or the errors that stopped it, plus warnings."""

    source: str
    layout: str
    record: Record | None = None
    errors: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)
    record_id: str | None = None
    declared_tier: str | None = None
    raw: dict | None = None

    @property
    def valid(self) -> bool:
        return self.record is not None and not self.errors


class _PageError(Exception):
    def __init__(self, finding: Finding) -> None:
        super().__init__(finding.message)
        self.finding = finding


# --------------------------------------------------------------------------- conversion helpers


def _split_level(value: str) -> tuple[str, str | None]:
    level, _, label = value.partition(",")
    return level.strip(), (label.strip() or None)


def _to_int(value: str, location: str, line: int) -> int:
    if not _INTEGER.match(value.strip()):
        raise _PageError(Finding("not-a-number", f"{value!r} is not a whole number", location, line))
    return int(value)


def _to_score(value: str, location: str, line: int) -> float:
    match = _SCORE.match(value)
    if not match:
        raise _PageError(Finding("score-invalid", f"review score {value!r} is not of the form x/10", location, line))
    if float(match.group(2)) != 10:
        raise _PageError(
            Finding("score-invalid", f"review score {value!r} is not out of 10", location, line)
        )
    return float(match.group(1))


def _to_date(value: str, location: str, line: int) -> str:
    text = value.strip()
    for pattern in ("%d %B %Y", "%d %b %Y", "%Y-%m-%d", "%B %d, %Y"):
        try:
            return dt.datetime.strptime(text, pattern).date().isoformat()
        except ValueError:
            continue
    raise _PageError(Finding("date-invalid", f"{value!r} is not a date (e.g. 29 May 2026)", location, line))


def _match_label(line: str, labels: list[str]) -> tuple[str, str] | None:
    lowered = line.lower()
    for label in labels:
        if lowered.startswith(label.lower()):
            return label, line[len(label) :].strip()
    return None


def _pipe_cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


# --------------------------------------------------------------------------- page parsing


class _Page:
    """The rows of a record page, grouped by section, each with its line number."""

    def __init__(self, text: str) -> None:
        self.id_line: tuple[str, int] | None = None
        self.title: tuple[str, int] | None = None
        self.header: dict[str, tuple[str, int]] = {}
        self.texts: dict[str, list[tuple[str, int]]] = {}
        self.rows: dict[str, dict[str, tuple[str, int]]] = {}
        self.corrections: list[tuple[int, str, int]] = []
        self.sections_seen: list[str] = []
        self.pipe_rows = 0
        self._scan(text)

    @property
    def layout(self) -> str:
        return "pipe-table" if self.pipe_rows else "web-text"

    def _scan(self, text: str) -> None:
        section: str | None = None
        for number, raw_line in enumerate(text.splitlines(), start=1):
            line = raw_line.strip()
            if not line:
                continue
            heading = SECTIONS.get(line.lower().rstrip(":"))
            if heading:
                section = heading
                self.sections_seen.append(heading)
                continue
            if section is None:
                self._header_line(line, number)
            elif section in ("abstract", "research_question"):
                self.texts.setdefault(section, []).append((line, number))
            else:
                self._row_line(section, line, number)

    def _header_line(self, line: str, number: int) -> None:
        if _NAV_LINE.match(line):
            return
        if self.id_line is None and self.title is None and _ID_LINE.match(line):
            self.id_line = (line, number)
            return
        label, sep, value = line.partition(":")
        if sep and label.strip() in HEADER_LABELS:
            self.header.setdefault(label.strip(), (value.strip(), number))
            return
        if self.title is None:
            self.title = (line, number)

    def _row_line(self, section: str, line: str, number: int) -> None:
        if line.startswith("|"):
            self.pipe_rows += 1
            cells = _pipe_cells(line)
            label, value = cells[0], (cells[1] if len(cells) > 1 else "")
            known = next((lab for lab in _SORTED_LABELS[section] if lab.lower() == label.lower()), None)
        else:
            matched = _match_label(line, _SORTED_LABELS[section])
            known, value = matched if matched else (None, "")
            label = known or line
        if section == "correction_record":
            correction = _CORRECTION_ROW.match(label if line.startswith("|") else line)
            if correction:
                rest = value if line.startswith("|") else correction.group(2)
                self.corrections.append((int(correction.group(1)), rest.strip(), number))
                return
        if known is not None:
            self.rows.setdefault(section, {}).setdefault(known, (value, number))


def _section_text(page: _Page, section: str) -> tuple[str | None, int | None]:
    lines = page.texts.get(section)
    if not lines:
        return None, None
    text = "\n".join(line for line, _ in lines)
    if section == "abstract" and text.lower().startswith("abstract:"):
        text = text[len("abstract:") :].strip()
    return (text or None), lines[0][1]


def _page_to_raw(page: _Page, lines: dict[str, int], warnings: list[Finding]) -> dict:
    """Turn page rows into the manifest-shaped dict the model validates (values still unchecked)."""
    raw: dict = {"contract": MANIFEST_CONTRACT}
    if page.id_line:
        raw["id"] = page.id_line[0]
        lines["$.id"] = page.id_line[1]
    if page.title:
        raw["title"] = page.title[0]
        lines["$.title"] = page.title[1]
    for section, key in (("research_question", "research_question"), ("abstract", "abstract")):
        text, number = _section_text(page, section)
        if text:
            raw[key] = text
            lines[f"$.{key}"] = number

    header = page.header
    if "Submitted" in header:
        value, number = header["Submitted"]
        raw["submitted"] = _to_date(value, "$.submitted", number)
        lines["$.submitted"] = number
    if "Review score" in header:
        value, number = header["Review score"]
        raw["review_score"] = _to_score(value, "$.review_score", number)
        lines["$.review_score"] = number

    rows = page.rows
    verification = rows.get("verification", {})
    ver: dict = {}
    if "Paper level" in verification:
        value, number = verification["Paper level"]
        level, label = _split_level(value)
        ver["level"] = level
        if label:
            ver["label"] = label
        lines["$.verification.level"] = number
    claims = verification.get("Source-grounded claims") or header.get("Verified claims")
    if claims:
        value, number = claims
        ver["source_grounded_claims"] = _to_int(value, "$.verification.source_grounded_claims", number)
        lines["$.verification.source_grounded_claims"] = number
    if "Claim record source" in verification:
        ver["claim_record_source"] = verification["Claim record source"][0]
    raw["verification"] = ver

    if "gate" in rows:
        gate_rows = rows["gate"]
        gate: dict = {}
        for label, key in (
            ("Gate", "name"),
            ("Status", "status"),
            ("Reason", "reason"),
            ("Evaluated", "evaluated"),
            ("Reproducible artifact", "artifact"),
            ("Artifact", "artifact"),
        ):
            if label in gate_rows and key not in gate:
                gate[key] = gate_rows[label][0]
                lines[f"$.gate.{key}"] = gate_rows[label][1]
        raw["gate"] = gate
    elif "Gate status" in header:
        value, number = header["Gate status"]
        raw["gate"] = {"status": value}
        lines["$.gate.status"] = number

    tier_rows = rows.get("quality_tier", {})
    if "Tier" in tier_rows:
        raw["quality_tier"] = {"tier": tier_rows["Tier"][0]}
        lines["$.quality_tier.tier"] = tier_rows["Tier"][1]
        if "Basis" in tier_rows:
            raw["quality_tier"]["basis"] = tier_rows["Basis"][0]
    elif "Quality tier" in header:
        raw["quality_tier"] = {"tier": header["Quality tier"][0]}
        lines["$.quality_tier.tier"] = header["Quality tier"][1]

    dims = {}
    for label, (value, number) in rows.get("quality_dimensions", {}).items():
        key = _DIMENSION_KEYS[label.lower()]
        dims[key] = value
        lines[f"$.quality_dimensions.{key}"] = number
    raw["quality_dimensions"] = dims

    corr_rows = rows.get("correction_record", {})
    corr: dict = {"contract": CORRECTION_CONTRACT}
    if "Status" in corr_rows:
        corr["status"] = corr_rows["Status"][0]
        lines["$.correction_record.status"] = corr_rows["Status"][1]
    if "Correction count" in corr_rows:
        value, number = corr_rows["Correction count"]
        corr["correction_count"] = _to_int(value, "$.correction_record.correction_count", number)
        lines["$.correction_record.correction_count"] = number
    corrections = []
    for index, (sequence, text, number) in enumerate(page.corrections):
        date_text, _, description = text.partition(" ")
        where = f"$.correction_record.corrections[{index}]"
        corrections.append(
            {
                "sequence": sequence,
                "date": _to_date(date_text.strip(":;,"), f"{where}.date", number),
                "description": description.strip(" -—:") or text,
            }
        )
        lines[where] = number
    corr["corrections"] = corrections
    if not corrections and isinstance(corr.get("correction_count"), int) and corr["correction_count"] > 0:
        # Pages show the count only ("Public corrections are additive records"), not the entries.
        corr["corrections_public"] = False
    for label, expected in (("Manifest contract", MANIFEST_CONTRACT), ("Correction contract", CORRECTION_CONTRACT)):
        if label in corr_rows and corr_rows[label][0] != expected:
            value, number = corr_rows[label]
            raise _PageError(
                Finding("contract-unsupported", f"{label.lower()} {value!r} is not {expected!r}", "$.contract", number)
            )
    raw["correction_record"] = corr

    prov_rows = rows.get("provenance", {})
    prov: dict = {"contract": PROVENANCE_CONTRACT}
    if "Provenance contract" in prov_rows and prov_rows["Provenance contract"][0] != PROVENANCE_CONTRACT:
        value, number = prov_rows["Provenance contract"]
        raise _PageError(
            Finding(
                "contract-unsupported",
                f"provenance contract {value!r} is not {PROVENANCE_CONTRACT!r}",
                "$.provenance.contract",
                number,
            )
        )
    for label, key in (
        ("Publisher", "publisher"),
        ("Claim lineage", "claim_lineage"),
        ("Review method", "review_method"),
        ("Quality guide", "quality_guide"),
        ("Note", "note"),
    ):
        if label in prov_rows:
            prov[key] = prov_rows[label][0]
            lines[f"$.provenance.{key}"] = prov_rows[label][1]
    if "Public provenance" in prov_rows:
        value, number = prov_rows["Public provenance"]
        level, label = _split_level(value)
        prov["public_provenance"] = {"level": level, **({"label": label} if label else {})}
        lines["$.provenance.public_provenance"] = number
    if "Report artifact" in prov_rows:
        prov["report_artifact"] = {"status": prov_rows["Report artifact"][0]}
        if "Report artifact path" in prov_rows:
            prov["report_artifact"]["path"] = prov_rows["Report artifact path"][0]
    if "External record" in prov_rows:
        value, number = prov_rows["External record"]
        external: dict = {"status": value}
        lines["$.provenance.external_record"] = number
        doi = prov_rows.get("DOI") or header.get("DOI")
        if doi:
            external["doi"] = doi[0]
            lines["$.provenance.external_record.doi"] = doi[1]
        prov["external_record"] = external
    raw["provenance"] = prov
    _header_agreement(page, raw, warnings)
    return raw


def _header_agreement(page: _Page, raw: dict, warnings: list[Finding]) -> None:
    """The web layout repeats some values in its header block; say so when they disagree."""
    header = page.header
    checks = []
    if "Quality tier" in header and "quality_tier" in raw:
        checks.append(("Quality tier", header["Quality tier"], raw["quality_tier"].get("tier"), "$.quality_tier.tier"))
    if "Gate status" in header and "gate" in raw:
        checks.append(("Gate status", header["Gate status"], raw["gate"].get("status"), "$.gate.status"))
    if "Verification" in header and "level" in raw["verification"]:
        level, _label = _split_level(header["Verification"][0])
        checks.append(("Verification", (level, header["Verification"][1]), raw["verification"]["level"], "$.verification.level"))
    if "Verified claims" in header and "source_grounded_claims" in raw["verification"]:
        value, number = header["Verified claims"]
        checks.append(
            ("Verified claims", (value, number), str(raw["verification"]["source_grounded_claims"]), "$.verification.source_grounded_claims")
        )
    for label, (header_value, number), section_value, location in checks:
        if section_value is not None and header_value.strip() != str(section_value).strip():
            warnings.append(
                Finding(
                    "header-mismatch",
                    f"header {label} {header_value!r} disagrees with the section value {section_value!r}",
                    location,
                    number,
                )
            )


# --------------------------------------------------------------------------- checks for all inputs


def quality_warnings(raw: dict, lines: dict[str, int] | None = None) -> list[Finding]:
    """Data-quality findings that do not stop a record; may fill ``title_truncated`` and a score."""
    lines = lines or {}
    warnings: list[Finding] = []
    title = raw.get("title")
    question = raw.get("research_question")
    if isinstance(title, str) and isinstance(question, str):
        stripped = title.rstrip()
        if len(stripped) < len(question.rstrip()) and question.startswith(stripped):
            if not raw.get("title_truncated"):
                raw["title_truncated"] = True
            warnings.append(
                Finding(
                    "title-truncated",
                    "title is cut off: it is a strict prefix of the research question (archived under the full question)",
                    "$.title",
                    lines.get("$.title"),
                )
            )
    abstract = raw.get("abstract")
    # "/" is a plain substring test; the case-blind pattern costs more than the rest of this check.
    if isinstance(abstract, str) and "/" in abstract:
        match = _ABSTRACT_SCORE.search(abstract)
        if match:
            in_abstract = float(match.group(1))
            score = raw.get("review_score")
            if score is None:
                raw["review_score"] = in_abstract
                warnings.append(
                    Finding(
                        "score-from-abstract",
                        f"review score {in_abstract:g}/10 appears only in the abstract text",
                        "$.review_score",
                        lines.get("$.abstract"),
                    )
                )
            elif isinstance(score, (int, float)) and abs(score - in_abstract) > 0.005:
                warnings.append(
                    Finding(
                        "score-mismatch",
                        f"review score {score:g}/10 differs from {in_abstract:g}/10 in the abstract",
                        "$.review_score",
                        lines.get("$.review_score"),
                    )
                )
    tier = raw.get("quality_tier")
    if isinstance(tier, dict) and isinstance(tier.get("basis"), str) and isinstance(tier.get("tier"), str):
        basis = tier["basis"].lower()
        implied = next((t for phrase, t in _BASIS_TIERS if phrase in basis), None)
        if implied and implied != tier["tier"]:
            warnings.append(
                Finding(
                    "tier-basis-mismatch",
                    f"declared tier {tier['tier']!r} does not match its basis, which speaks for {implied!r}",
                    "$.quality_tier",
                    lines.get("$.quality_tier.tier"),
                )
            )
    provenance = raw.get("provenance")
    verification = raw.get("verification")
    if isinstance(provenance, dict) and isinstance(verification, dict):
        lineage = provenance.get("claim_lineage")
        claims = verification.get("source_grounded_claims")
        match = _LEADING_INT.match(lineage) if isinstance(lineage, str) else None
        if match and isinstance(claims, int) and int(match.group(1)) != claims:
            warnings.append(
                Finding(
                    "claim-lineage-mismatch",
                    f"claim lineage names {match.group(1)} claims but {claims} are source-grounded",
                    "$.provenance.claim_lineage",
                    lines.get("$.provenance.claim_lineage"),
                )
            )
    return warnings


_PYDANTIC_CODES = {
    "missing": "required",
    "extra_forbidden": "additional-property",
    "greater_than_equal": "range",
    "less_than_equal": "range",
    "greater_than": "range",
    "less_than": "range",
    "enum": "enum",
    "literal_error": "const",
    "string_too_short": "min-length",
    "date_from_datetime_parsing": "date-invalid",
    "date_parsing": "date-invalid",
    "date_type": "date-invalid",
    "datetime_parsing": "datetime-invalid",
    "datetime_from_date_parsing": "datetime-invalid",
    "datetime_type": "datetime-invalid",
    "finite_number": "range",
}


def _line_for(location: str, lines: dict[str, int]) -> int | None:
    probe = location
    while probe:
        if probe in lines:
            return lines[probe]
        cut = max(probe.rfind("."), probe.rfind("["))
        if cut <= 0:
            return None
        probe = probe[:cut]
    return None


def findings_from_validation_error(exc: ValidationError, lines: dict[str, int]) -> list[Finding]:
    findings = []
    for error in exc.errors(include_url=False):
        location = json_path(error["loc"])
        kind = error["type"]
        code = _PYDANTIC_CODES.get(kind, kind.replace("_", "-"))
        if kind == "string_pattern_mismatch":
            code = "id-invalid" if location == "$.id" else ("doi-invalid" if location.endswith(".doi") else "pattern")
        if kind == "missing" and location == "$.id":
            code = "id-missing"
        if kind == "literal_error" and " or " in str(error.get("ctx", {}).get("expected", "")):
            code = "enum"  # vocabulary fields are Literals of several values (model.values_of)
        message = error["msg"]
        if "input" in error and kind not in ("missing",) and not isinstance(error["input"], (dict, list)):
            message = f"{message} (got {error['input']!r})"
        findings.append(Finding(code, message, location, _line_for(location, lines)))
    return findings


def _build(raw: dict, result: ReadResult, lines: dict[str, int]) -> ReadResult:
    result.raw = raw
    record_id = raw.get("id")
    result.record_id = record_id if isinstance(record_id, str) else None
    tier = raw.get("quality_tier")
    if isinstance(tier, dict) and isinstance(tier.get("tier"), str):
        result.declared_tier = tier["tier"]
    result.warnings.extend(quality_warnings(raw, lines))
    if "id" not in raw:
        result.errors.append(
            Finding("id-missing", "the record has no id line (SRCH:XXXXXXXX); no archival id is invented", "$.id")
        )
        raw_without = dict(raw, id="SRCH:00000000")  # only to collect the record's other errors
        try:
            Record.model_validate(raw_without)
        except ValidationError as exc:
            result.errors.extend(findings_from_validation_error(exc, lines))
        return result
    try:
        result.record = Record.model_validate(raw)
    except ValidationError as exc:
        result.errors.extend(findings_from_validation_error(exc, lines))
    return result


def parse_page(text: str, source: str) -> ReadResult:
    """Parse a record page in either layout."""
    page = _Page(text)
    result = ReadResult(source=source, layout=page.layout)
    missing = [s for s in REQUIRED_SECTIONS if s not in page.sections_seen]
    if not page.sections_seen:
        result.errors.append(
            Finding("not-a-record", "no record sections found (expected headings such as 'Verification Level')", "$")
        )
        return result
    lines: dict[str, int] = {}
    try:
        raw = _page_to_raw(page, lines, result.warnings)
    except _PageError as exc:
        result.errors.append(exc.finding)
        if page.id_line:
            result.record_id = page.id_line[0]
        return result
    if missing:
        result.errors.append(
            Finding(
                "page-truncated",
                "the page ends early or lacks required sections: " + ", ".join(missing),
                json_path([missing[0]]),
            )
        )
    else:
        absent_rows = [
            label
            for label in ("Publisher", "Public provenance", "External record")
            if label not in page.rows.get("provenance", {})
        ]
        if absent_rows:
            result.errors.append(
                Finding(
                    "page-truncated",
                    "the Provenance section lacks rows: " + ", ".join(absent_rows),
                    "$.provenance",
                )
            )
    if result.errors:
        result.raw = raw
        result.record_id = raw.get("id")
        result.warnings.extend(quality_warnings(raw, lines))
        return result
    return _build(raw, result, lines)


def parse_json_record(document, source: str, layout: str = "json") -> ReadResult:
    """A structured record: an object in the manifest's own shape (``contract`` optional)."""
    result = ReadResult(source=source, layout=layout)
    if not isinstance(document, dict):
        result.errors.append(Finding("not-an-object", "a JSON record must be an object", "$"))
        return result
    raw = dict(document)
    raw.setdefault("contract", MANIFEST_CONTRACT)
    return _build(raw, result, {})


def _decode(data: bytes, source: str) -> str | ReadResult:
    if not data.strip():
        return _failed(source, "empty-input", "the input is empty")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            return _failed(source, "encoding", f"not valid UTF-16 text: {exc.reason} at byte {exc.start}")
    if b"\x00" in data:
        return _failed(source, "binary-input", "binary data (NUL bytes), not a record page or JSON")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return _failed(
            source,
            "encoding",
            f"not UTF-8 text: byte 0x{data[exc.start]:02x} at offset {exc.start} ({exc.reason}); re-save as UTF-8",
        )


def _failed(source: str, code: str, message: str, line: int | None = None, layout: str = "unknown") -> ReadResult:
    return ReadResult(source=source, layout=layout, errors=[Finding(code, message, "$", line)])


def parse_bytes(data: bytes, source: str) -> Iterator[ReadResult]:
    """Detect the format from the content and yield every record in it."""
    text = _decode(data, source)
    if isinstance(text, ReadResult):
        yield text
        return
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        try:
            document = jsontext.loads(text)
        except jsontext.JsonInputError as exc:
            if exc.reason == "Extra data" and stripped.startswith("{"):
                yield from _parse_jsonl_lines(iter(text.splitlines()), source)
                return
            yield _failed(source, exc.code, exc.message, exc.line, "json")
            return
        if isinstance(document, list):
            yield _failed(source, "not-an-object", "expected one JSON object per file, or JSONL", None, "json")
            return
        yield parse_json_record(document, source)
        return
    yield parse_page(text, source)


def _fast_json_record(line: str | bytes, where: str, number: int) -> ReadResult | None:
    """Validate a JSONL line straight from its bytes (pydantic's Rust parser).

    Returns None when the slow path must speak instead: the line is invalid (it gives the
    detailed, raw-data-aware errors) or a quality check would change a value (title_truncated,
    a score read from the abstract), which must then be validated again.
    """
    try:
        record = Record.model_validate_json(line)
    except ValidationError:
        return None
    tier = record.quality_tier
    view = {
        "title": record.title,
        "research_question": record.research_question,
        "abstract": record.abstract,
        "review_score": record.review_score,
        "title_truncated": record.title_truncated,
        "quality_tier": {"tier": tier.tier, "basis": tier.basis} if tier else None,
        "verification": {"source_grounded_claims": record.verification.source_grounded_claims},
        "provenance": {"claim_lineage": record.provenance.claim_lineage},
    }
    warnings = quality_warnings(view)
    if view["review_score"] != record.review_score:
        return None  # a score read from the abstract must pass the model's range checks
    if view["title_truncated"] != record.title_truncated:
        record = record.model_copy(update={"title_truncated": view["title_truncated"]})
    return ReadResult(
        source=where,
        layout="jsonl",
        record=record,
        warnings=[finding.with_line(number) for finding in warnings],
        record_id=record.id,
        declared_tier=tier.tier if tier else None,
    )


def _parse_jsonl_line(line: str | bytes, where: str, number: int) -> ReadResult:
    fast = _fast_json_record(line, where, number)
    if fast is not None:
        return fast
    if isinstance(line, bytes):
        try:
            line = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            return _failed(where, "encoding", f"not UTF-8 text at byte {exc.start}", number, "jsonl")
    try:
        document = jsontext.loads(line)
    except jsontext.JsonInputError as exc:
        return _failed(where, exc.code, exc.message, number, "jsonl")
    result = parse_json_record(document, where, layout="jsonl")
    result.errors = [finding.with_line(number) for finding in result.errors]
    result.warnings = [finding.with_line(number) for finding in result.warnings]
    return result


def _parse_jsonl_lines(lines: Iterable[str | bytes], source: str) -> Iterator[ReadResult]:
    for number, line in enumerate(lines, start=1):
        if line.strip():
            yield _parse_jsonl_line(line, f"{source}:{number}", number)


def _looks_like_jsonl(handle) -> bool:
    """True when the first non-blank line is a whole JSON object and more lines follow."""
    first = b""
    while True:
        line = handle.readline()
        if not line:
            return False
        if line.strip():
            first = line
            break
    if not first.lstrip().startswith(b"{"):
        return False
    try:
        jsontext.loads(first)
    except jsontext.JsonInputError:
        return False
    rest = handle.readline()
    while rest and not rest.strip():
        rest = handle.readline()
    return bool(rest)


def _read_whole_file(path: str) -> Iterator[ReadResult]:
    """The records of a regular file that is not JSONL (iter_units splits JSONL line by line)."""
    try:
        fd, file_stat = open_source(path)
    except OSError as exc:
        yield _failed(path, "unreadable", f"cannot read: {exc.strerror or exc}")
        return
    try:
        if file_stat is None:  # replaced by a FIFO or device since the walk saw it: never wait on it
            yield _failed(path, "unreadable", "changed into a file that is not regular while being read")
            return
        data = read_at_most(fd, MAX_INPUT_BYTES + 1)
    except OSError as exc:
        yield _failed(path, "unreadable", f"cannot read: {exc.strerror or exc}")
        return
    finally:
        os.close(fd)
    yield from _parse_data(data, path)


def _parse_data(data: bytes, source: str) -> Iterator[ReadResult]:
    if len(data) > MAX_INPUT_BYTES:
        yield _failed(source, "input-too-large", f"larger than {MAX_INPUT_BYTES // (1024 * 1024)} MiB; use JSONL for batches")
        return
    yield from parse_bytes(data, source)


def read_file(path: str) -> Iterator[ReadResult]:
    """Yield the records of one file; JSONL is streamed line by line."""
    for unit in iter_units([path]):
        yield from parse_unit(unit)


def _is_source_dir(name: str) -> bool:
    return not name.startswith(".")


def _is_source_file(name: str) -> bool:
    return not name.startswith(".") and name.lower() != "readme.md"


def iter_source_files(path: str, on_skip: OnSkip | None = None) -> Iterator[str]:
    """A file as given; a directory walked in sorted order, skipping hidden files, and reporting
    FIFOs, devices and sockets to ``on_skip`` instead of opening them."""
    if os.path.isdir(path):
        yield from walk_files(path, keep_dir=_is_source_dir, keep_file=_is_source_file, on_skip=on_skip)
    else:
        yield path


# A work unit is the smallest piece of input that parses on its own: one JSONL line, one other
# file, the bytes of a stream named as a source, or a source that does not exist. The export
# hands units to worker processes.
Unit = tuple


def _stream_units(handle, source: str) -> Iterator[Unit]:
    """Units of a source named directly that can be read only once (a FIFO, a device): JSONL line
    by line, anything else as one bounded block of bytes. Nothing is read twice."""
    head: list[bytes] = []
    size = 0
    first = b""
    while size <= MAX_INPUT_BYTES:
        line = handle.readline(MAX_INPUT_BYTES + 1 - size)
        if not line:
            break
        head.append(line)
        size += len(line)
        if line.strip():
            first = line
            break
    jsonl = False
    if first.lstrip().startswith(b"{") and first.endswith(b"\n"):
        try:
            jsontext.loads(first)
            jsonl = True
        except jsontext.JsonInputError:
            jsonl = False
    if jsonl:
        for number, line in enumerate(itertools.chain(head, handle), start=1):
            if line.strip():
                yield ("line", f"{source}:{number}", number, line)
        return
    rest = handle.read(MAX_INPUT_BYTES + 1 - size) if size <= MAX_INPUT_BYTES else b""
    yield ("bytes", source, b"".join(head) + rest)


def iter_units(sources: Iterable[str], stdin=None, on_skip: OnSkip | None = None) -> Iterator[Unit]:
    """Split the sources into work units, in input order; JSONL is split line by line, streamed."""
    for source in sources:
        if source == "-":
            stream = stdin if stdin is not None else sys.stdin.buffer
            for number, line in enumerate(stream, start=1):
                if line.strip():
                    yield ("line", f"<stdin>:{number}", number, line)
            continue
        if not os.path.lexists(source):
            yield ("missing", source)
            continue
        for path in iter_source_files(source, on_skip):
            try:
                fd, file_stat = open_source(path)
            except OSError:
                yield ("file", path)  # read_file reports why it cannot be opened
                continue
            with open(fd, "rb", closefd=True) as handle:
                if file_stat is None:  # named directly: read once, as it comes
                    try:
                        yield from _stream_units(handle, path)
                    except OSError as exc:
                        yield ("failed", path, "unreadable", f"cannot read: {exc.strerror or exc}")
                    continue
                try:
                    is_jsonl = _looks_like_jsonl(handle)
                except OSError:
                    is_jsonl = False
                if not is_jsonl:
                    yield ("file", path)
                    continue
                handle.seek(0)
                for number, line in enumerate(handle, start=1):
                    if line.strip():
                        yield ("line", f"{path}:{number}", number, line)


def parse_unit(unit: Unit) -> Iterator[ReadResult]:
    kind = unit[0]
    if kind == "line":
        _kind, where, number, line = unit
        yield _parse_jsonl_line(line, where, number)
    elif kind == "file":
        yield from _read_whole_file(unit[1])
    elif kind == "bytes":
        yield from _parse_data(unit[2], unit[1])
    elif kind == "failed":
        yield _failed(unit[1], unit[2], unit[3])
    else:
        yield _failed(unit[1], "unreadable", "no such file or directory")


def read_records(sources: Iterable[str], stdin=None, on_skip: OnSkip | None = None) -> Iterator[ReadResult]:
    """Every record of every source, in order; ``-`` reads JSONL from standard input."""
    for unit in iter_units(sources, stdin, on_skip):
        yield from parse_unit(unit)


def estimate_records(sources: Iterable[str]) -> int | None:
    """A cheap count of the records in ``sources`` for a progress bar (None when unknowable)."""
    total = 0
    for source in sources:
        if source == "-" or not os.path.exists(source):
            return None if source == "-" else total
        for path in iter_source_files(source):
            try:
                fd, file_stat = open_source(path)
                if file_stat is None:
                    os.close(fd)
                    total += 1  # a stream named directly: counted, never read here
                    continue
                with open(fd, "rb") as handle:
                    if _looks_like_jsonl(handle):
                        handle.seek(0)
                        total += sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
                    else:
                        total += 1
            except OSError:
                total += 1
    return total
