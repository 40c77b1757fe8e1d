"""Read record pages (pipe-table and web-text layouts), JSON and JSONL into validated Records.

Every input yields one ReadResult per record: a Record or coded errors, plus coded warnings.
Nothing here raises for bad content; ArchiverError is kept for sources that cannot be opened.
"""

from __future__ import annotations

import itertools
import os
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from pydantic import ValidationError

from archiver import jsontext
from archiver.contract_words import findings_from_validation_error, in_contract_words
from archiver.findings import Finding
from archiver.model import Record
from archiver.pages import Page, read_page, structure_errors
from archiver.quality import check_quality
from archiver.vocabulary import MANIFEST_CONTRACT
from archiver.walk import OnSkip, open_source, read_at_most, walk_files

MAX_INPUT_BYTES = 16 * 1024 * 1024  # a record page or JSON file larger than this is not a record

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


def _under(location: str, places: set[str]) -> bool:
    """True when ``location`` is one of ``places`` or inside one of them."""
    return any(location == place or location.startswith((place + ".", place + "[")) for place in places)


def _build(raw: dict, result: ReadResult, lines: dict[str, int]) -> ReadResult:
    """Validate manifest-shaped data into a Record; errors already on ``result`` (values a page
    could not convert) are kept, and the model's findings at those places are not repeated."""
    result.raw = raw
    record_id = raw.get("id")
    result.record_id = record_id if isinstance(record_id, str) else None
    tier = raw.get("quality_tier")
    if isinstance(tier, dict) and isinstance(tier.get("tier"), str):
        result.declared_tier = tier["tier"]
    bad_places = {finding.location for finding in result.errors}
    quality = check_quality(raw, lines)
    result.warnings.extend(quality.warnings)
    inferred = {key: value for key, value in quality.inferred.items() if f"$.{key}" not in bad_places}
    if inferred:
        raw = result.raw = {**raw, **inferred}
    candidate = raw
    if "id" not in raw:
        result.errors.append(
            Finding("id-missing", "the record has no id line (SRCH:XXXXXXXX); no archival id is invented", "$.id")
        )
        candidate = dict(raw, id="SRCH:00000000")  # only to collect the record's other errors
    try:
        record = Record.model_validate(candidate)
    except ValidationError as exc:
        found = [finding for finding in findings_from_validation_error(exc, lines) if not _under(finding.location, bad_places)]
        result.errors.extend(in_contract_words(found, raw, lines))
        return result
    if not result.errors:
        result.record = record
    return result


def parse_page(text: str, source: str) -> ReadResult:
    """Parse a record page in either layout; every bad value is reported, not just the first."""
    page = Page(text)
    result = ReadResult(source=source, layout=page.layout)
    if not page.sections_seen:
        result.errors.append(
            Finding("not-a-record", "no record sections found (expected headings such as 'Verification Level')", "$")
        )
        return result
    reading = read_page(page)
    result.errors.extend(reading.errors)
    result.warnings.extend(reading.warnings)
    incomplete = structure_errors(page)
    if incomplete:  # a page cut short: its other values are reported, the model is not asked
        result.errors.extend(incomplete)
        result.raw = reading.raw
        result.record_id = reading.raw.get("id")
        result.warnings.extend(check_quality(reading.raw, reading.lines).warnings)
        return result
    return _build(reading.raw, result, reading.lines)


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
        text = _utf16_without_bom(data)
        if text is not None:
            return text
        return _failed(source, "binary-input", "binary data (NUL bytes), not a record page or JSON")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return _failed(
            source,
            "encoding",
            f"not UTF-8 text: byte 0x{data[exc.start]:02x} at offset {exc.start} ({exc.reason}); re-save as UTF-8",
        )


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 text saved without a byte-order mark (some Windows tools do): mostly Latin text has a
    NUL in every other byte, odd ones for little-endian, even ones for big-endian. None when the
    bytes are not that, or do not decode to text without NULs."""
    if len(data) % 2:
        return None
    pairs = len(data) // 2
    odd, even = data[1::2].count(0), data[0::2].count(0)
    for encoding, zeros, others in (("utf-16-le", odd, even), ("utf-16-be", even, odd)):
        if zeros >= 0.9 * pairs and others == 0:
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError:
                return None
            return text if "\x00" not in text else None
    return None


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
    warnings, inferred = check_quality(view)
    if "review_score" in inferred:
        return None  # a score read from the abstract must pass the model's range checks
    if "title_truncated" in inferred:
        record = record.model_copy(update={"title_truncated": True})
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
            # read once, as it comes, with the format told from the content as for a file: JSONL
            # line by line, a page or a JSON record as one block
            stream = stdin if stdin is not None else sys.stdin.buffer
            try:
                yield from _stream_units(stream, "<stdin>")
            except OSError as exc:
                yield ("failed", "<stdin>", "unreadable", f"cannot read: {exc.strerror or exc}")
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
    """Every record of every source, in order; ``-`` reads standard input (JSONL, JSON or a page)."""
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
