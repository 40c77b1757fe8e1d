"""Read a record page (pipe-table or flattened web text) into manifest-shaped data, by one table of labels.

Both layouts are scanned into the same rows (section -> label -> value and line). ``PAGE_FIELDS``
then says, for every label, which field of the manifest it fills and how its text is converted;
a page is read by walking that table once. Every value that cannot be converted is reported,
not just the first, and the page is still read as far as it goes.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any, NamedTuple

from archiver.findings import Finding, json_path
from archiver.vocabulary import (
    CORRECTION_CONTRACT,
    DIMENSION_BY_LABEL,
    MANIFEST_CONTRACT,
    PROVENANCE_CONTRACT,
)

# Section headings (as written, case-blind) -> section key.
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
_LONGEST_HEADING = 64  # far longer than any heading with its colons; abstract lines run longer
TEXT_SECTIONS = ("abstract", "research_question")
REQUIRED_SECTIONS = ("verification", "quality_tier", "correction_record", "provenance")
REQUIRED_PROVENANCE_ROWS = ("Publisher", "Public provenance", "External record")
HEADER = "header"  # the lines above the first section: "Label: value"


class BadValue(Exception):
    """A page value that cannot be converted; the reader turns it into a Finding at its place."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# --------------------------------------------------------------------------- converters
# Each takes the text of a row and returns the manifest value, or None to leave the field out.

_SCORE = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*/\s*(\d+(?:\.\d+)?)\s*$")
_INTEGER = re.compile(r"^[+-]?\d+$")
_DATE_FORMATS = ("%d %B %Y", "%d %b %Y", "%Y-%m-%d", "%B %d, %Y")


def text(value: str) -> str:
    return value


def whole_number(value: str) -> int:
    if not _INTEGER.match(value.strip()):
        raise BadValue("not-a-number", f"{value!r} is not a whole number")
    return int(value)


def score_out_of_10(value: str) -> float:
    match = _SCORE.match(value)
    if not match:
        raise BadValue("score-invalid", f"review score {value!r} is not of the form x/10")
    if float(match.group(2)) != 10:
        raise BadValue("score-invalid", f"review score {value!r} is not out of 10")
    return float(match.group(1))


def page_date(value: str) -> str:
    stripped = value.strip()
    for pattern in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(stripped, pattern).date().isoformat()
        except ValueError:
            continue
    raise BadValue("date-invalid", f"{value!r} is not a date (e.g. 29 May 2026)")


def level_part(value: str) -> str:
    """``L2, source-grounded claims`` -> ``L2``."""
    return value.partition(",")[0].strip()


def label_part(value: str) -> str | None:
    """``L2, source-grounded claims`` -> ``source-grounded claims`` (None when there is none)."""
    return value.partition(",")[2].strip() or None


def contract(expected: str, name: str) -> Callable[[str], str]:
    """A row naming a contract: only the contract this archiver implements is accepted."""

    def check(value: str) -> str:
        if value != expected:
            raise BadValue("contract-unsupported", f"{name} {value!r} is not {expected!r}")
        return value

    return check


# --------------------------------------------------------------------------- the table


class PageField(NamedTuple):
    """One label of a page and the manifest field it fills.

    Fields that share a ``path`` are alternatives: the first one present on the page wins (a
    section row before its header echo). ``needs`` names a field that must have a value for this
    one to apply; ``unless_section`` skips a header echo when that section has rows of its own.
    """

    section: str
    label: str
    path: tuple[str, ...]
    convert: Callable[[str], Any] = text
    needs: tuple[str, ...] | None = None
    unless_section: str | None = None


_TIER = ("quality_tier", "tier")
_ARTIFACT = ("provenance", "report_artifact", "status")
_EXTERNAL = ("provenance", "external_record", "status")

PAGE_FIELDS: tuple[PageField, ...] = (
    PageField(HEADER, "Submitted", ("submitted",), page_date),
    PageField(HEADER, "Review score", ("review_score",), score_out_of_10),
    PageField("verification", "Paper level", ("verification", "level"), level_part),
    PageField("verification", "Paper level", ("verification", "label"), label_part),
    PageField("verification", "Source-grounded claims", ("verification", "source_grounded_claims"), whole_number),
    PageField(HEADER, "Verified claims", ("verification", "source_grounded_claims"), whole_number),
    PageField("verification", "Claim record source", ("verification", "claim_record_source")),
    PageField("gate", "Gate", ("gate", "name")),
    PageField("gate", "Status", ("gate", "status")),
    PageField(HEADER, "Gate status", ("gate", "status"), unless_section="gate"),
    PageField("gate", "Reason", ("gate", "reason")),
    PageField("gate", "Evaluated", ("gate", "evaluated")),
    PageField("gate", "Reproducible artifact", ("gate", "artifact")),
    PageField("gate", "Artifact", ("gate", "artifact")),
    PageField("quality_tier", "Tier", _TIER),
    PageField(HEADER, "Quality tier", _TIER),
    PageField("quality_tier", "Basis", ("quality_tier", "basis"), needs=_TIER),
    *(
        PageField("quality_dimensions", label.capitalize(), ("quality_dimensions", name))
        for label, name in DIMENSION_BY_LABEL.items()
    ),
    PageField("correction_record", "Status", ("correction_record", "status")),
    PageField("correction_record", "Correction count", ("correction_record", "correction_count"), whole_number),
    PageField("correction_record", "Manifest contract", ("contract",), contract(MANIFEST_CONTRACT, "manifest contract")),
    PageField(
        "correction_record", "Correction contract", ("correction_record", "contract"),
        contract(CORRECTION_CONTRACT, "correction contract"),
    ),
    PageField(
        "provenance", "Provenance contract", ("provenance", "contract"),
        contract(PROVENANCE_CONTRACT, "provenance contract"),
    ),
    PageField("provenance", "Publisher", ("provenance", "publisher")),
    PageField("provenance", "Public provenance", ("provenance", "public_provenance", "level"), level_part),
    PageField("provenance", "Public provenance", ("provenance", "public_provenance", "label"), label_part),
    PageField("provenance", "Report artifact", _ARTIFACT),
    PageField("provenance", "Report artifact path", ("provenance", "report_artifact", "path"), needs=_ARTIFACT),
    PageField("provenance", "External record", _EXTERNAL),
    PageField("provenance", "DOI", ("provenance", "external_record", "doi"), needs=_EXTERNAL),
    PageField(HEADER, "DOI", ("provenance", "external_record", "doi"), needs=_EXTERNAL),
    PageField("provenance", "Claim lineage", ("provenance", "claim_lineage")),
    PageField("provenance", "Review method", ("provenance", "review_method")),
    PageField("provenance", "Quality guide", ("provenance", "quality_guide")),
    PageField("provenance", "Note", ("provenance", "note")),
)

# The header repeats some section values; these are compared, and a disagreement is a warning.
HEADER_ECHOES: tuple[tuple[str, tuple[str, ...], Callable[[str], Any]], ...] = (
    ("Quality tier", _TIER, text),
    ("Gate status", ("gate", "status"), text),
    ("Verification", ("verification", "level"), level_part),
    ("Verified claims", ("verification", "source_grounded_claims"), text),
)

# Labels per section, longest first: flattened web text ("Paper levelL2, ...") is split at the
# longest label that starts the line, the same split a pipe row makes at its bar.
_LABELS: dict[str, list[str]] = {}
for _field in PAGE_FIELDS:
    if _field.label not in _LABELS.setdefault(_field.section, []):
        _LABELS[_field.section].append(_field.label)
for _label, _path, _convert in HEADER_ECHOES:
    if _label not in _LABELS[HEADER]:
        _LABELS[HEADER].append(_label)
SECTION_LABELS = {section: sorted(labels, key=len, reverse=True) for section, labels in _LABELS.items()}
HEADER_LABELS = frozenset(SECTION_LABELS[HEADER])
# A pipe row names its label whole: found by its lower-case form in one lookup.
_LABEL_BY_LOWER = {section: {label.lower(): label for label in labels} for section, labels in SECTION_LABELS.items()}
_LOWERED_LABELS = {section: [(label, label.lower()) for label in labels] for section, labels in SECTION_LABELS.items()}
# The table as plain tuples with each field's JSON path rendered once: read_page walks it per page.
_COMPILED = tuple(
    (
        field.section, field.label, field.path[:-1], field.path[-1], json_path(field.path),
        None if field.convert is text else field.convert, field.needs, field.unless_section,
    )
    for field in PAGE_FIELDS
)


# --------------------------------------------------------------------------- scanning


_ID_LINE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*:\S+$")
_NAV_LINE = re.compile(r"^Index\s*\|")
_CORRECTION_ROW = re.compile(r"^Correction\s+(\d+)\s*(.*)$", re.IGNORECASE)


def _match_label(line: str, labels: list[tuple[str, str]]) -> tuple[str, str] | None:
    """The longest label that starts ``line`` (``labels``: (label, its lower case), longest first)."""
    lowered = line.lower()
    for label, label_lower in labels:
        if lowered.startswith(label_lower):
            return label, line[len(label) :].strip()
    return None


def _pipe_cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


class Page:
    """The rows of a record page, grouped by section, each with its line number."""

    def __init__(self, text: str) -> None:
        self.id_line: tuple[str, int] | None = None
        self.title: tuple[str, int] | None = None
        self.texts: dict[str, list[tuple[str, int]]] = {}
        self.rows: dict[str, dict[str, tuple[str, int]]] = {HEADER: {}}
        self.corrections: list[tuple[int, str, int]] = []
        self.sections_seen: list[str] = []
        self.pipe_rows = 0
        self._scan(text)

    @property
    def layout(self) -> str:
        return "pipe-table" if self.pipe_rows else "web-text"

    @property
    def header(self) -> dict[str, tuple[str, int]]:
        return self.rows[HEADER]

    def _scan(self, text: str) -> None:
        section: str | None = None
        for number, raw_line in enumerate(text.splitlines(), start=1):
            line = raw_line.strip()
            if not line:
                continue
            # A heading is a short line: the long lines of an abstract are not lower-cased to find out.
            heading = SECTIONS.get(line.lower().rstrip(":")) if len(line) <= _LONGEST_HEADING else None
            if heading:
                section = heading
                self.sections_seen.append(heading)
                continue
            if section is None:
                self._header_line(line, number)
            elif section in TEXT_SECTIONS:
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
            known = _LABEL_BY_LOWER.get(section, {}).get(label.lower())
        else:
            matched = _match_label(line, _LOWERED_LABELS.get(section, []))
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

    def section_text(self, section: str) -> tuple[str | None, int | None]:
        lines = self.texts.get(section)
        if not lines:
            return None, None
        joined = "\n".join(line for line, _ in lines)
        if section == "abstract" and joined.lower().startswith("abstract:"):
            joined = joined[len("abstract:") :].strip()
        return (joined or None), lines[0][1]


# --------------------------------------------------------------------------- page -> manifest data


class PageReading(NamedTuple):
    """What a page says: manifest-shaped data (values still unchecked by the model), the line of
    each field, every value that could not be converted, and the page's own warnings."""

    raw: dict[str, Any]
    lines: dict[str, int]
    errors: list[Finding]
    warnings: list[Finding]


def _get(data: dict[str, Any], path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


def read_page(page: Page) -> PageReading:
    """Walk PAGE_FIELDS over the page's rows; collect every bad value instead of stopping."""
    raw: dict[str, Any] = {"contract": MANIFEST_CONTRACT}
    lines: dict[str, int] = {}
    errors: list[Finding] = []
    if page.id_line:
        raw["id"], lines["$.id"] = page.id_line
    if page.title:
        raw["title"], lines["$.title"] = page.title
    for section in ("research_question", "abstract"):
        value, number = page.section_text(section)
        if value and number is not None:
            raw[section], lines[f"$.{section}"] = value, number
    # The objects a manifest always has, even when the page fills nothing in them.
    raw["verification"] = {}
    raw["quality_dimensions"] = {}
    raw["correction_record"] = {"contract": CORRECTION_CONTRACT}
    raw["provenance"] = {"contract": PROVENANCE_CONTRACT}

    decided: set[str] = set()  # fields a present row has spoken for, good value or bad
    rows = page.rows
    for section, label, parent, key, location, convert, needs, unless_section in _COMPILED:
        section_rows = rows.get(section)
        row = section_rows.get(label) if section_rows else None
        if row is None or location in decided:
            continue
        if needs is not None and _get(raw, needs) is None:
            continue
        if unless_section is not None and rows.get(unless_section):
            continue
        value, number = row
        decided.add(location)
        if convert is not None:
            try:
                value = convert(value)
            except BadValue as bad:
                errors.append(Finding(bad.code, bad.message, location, number))
                continue
            if value is None:
                continue
        target = raw
        for step in parent:
            inner = target.get(step)
            if inner is None:
                inner = target[step] = {}
            target = inner
        target[key] = value
        lines[location] = number

    corrections = []
    for index, (sequence, rest, number) in enumerate(page.corrections):
        date_text, _, description = rest.partition(" ")
        where = f"$.correction_record.corrections[{index}]"
        try:
            date = page_date(date_text.strip(":;,"))
        except BadValue as bad:
            errors.append(Finding(bad.code, bad.message, f"{where}.date", number))
            continue
        corrections.append({"sequence": sequence, "date": date, "description": description.strip(" -—:") or rest})
        lines[where] = number
    correction_record = raw["correction_record"]
    correction_record["corrections"] = corrections
    count = correction_record.get("correction_count")
    if not page.corrections and isinstance(count, int) and count > 0:
        # Pages show the count only ("Public corrections are additive records"), not the entries.
        correction_record["corrections_public"] = False
    return PageReading(raw, lines, errors, header_warnings(page, raw))


def header_warnings(page: Page, raw: dict[str, Any]) -> list[Finding]:
    """The web layout repeats some values in its header block; say so when they disagree."""
    warnings = []
    for label, path, part in HEADER_ECHOES:
        echo = page.header.get(label)
        section_value = _get(raw, path)
        if echo is None or section_value is None:
            continue
        header_value, number = echo
        header_value = part(header_value)
        if header_value.strip() != str(section_value).strip():
            warnings.append(
                Finding(
                    "header-mismatch",
                    f"header {label} {header_value!r} disagrees with the section value {section_value!r}",
                    json_path(path),
                    number,
                )
            )
    return warnings


def structure_errors(page: Page) -> list[Finding]:
    """What a page lacks as a whole: required sections, or the provenance rows every record has."""
    missing = [section for section in REQUIRED_SECTIONS if section not in page.sections_seen]
    if missing:
        return [
            Finding(
                "page-truncated",
                "the page ends early or lacks required sections: " + ", ".join(missing),
                json_path([missing[0]]),
            )
        ]
    absent_rows = [label for label in REQUIRED_PROVENANCE_ROWS if label not in page.rows.get("provenance", {})]
    if absent_rows:
        return [Finding("page-truncated", "the Provenance section lacks rows: " + ", ".join(absent_rows), "$.provenance")]
    return []
