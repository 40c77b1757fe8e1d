"""validation: every rule and value code it reports, produced from a real record by changing one value,
and absent from the record as it is.

The base is seed page 003 (SRCH:08EA5386, registered, title cut off, Gate 2 evaluated) as its
manifest; each case changes the least that breaks one rule, so the case shows what it is about.

Equivalent mutants, left alive on purpose:
- the keyword table's entries whose code is the keyword's own name in lower case (Required, Enum,
  Pattern, Type): the fallback for a keyword outside the table gives the same code;
- the text standing for "nothing after the branch" when a contract's root branch is the whole
  path: no rule is keyed by it, whatever it is;
- a regular file's read (the size of the first read, the size of the next ones, whether more is
  read after the first): every variant reads the whole file, as long as it does not grow meanwhile.
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Callable

import pytest

from archiver import validation
from archiver.findings import ArchiverError
from archiver.rules import REPOSITORY_WITH_ENVIRONMENT
from archiver.validation import code_rule_findings, validate_document
from conftest import seed_003_manifest


@pytest.fixture(scope="module")
def seed_manifest() -> dict:
    return seed_003_manifest()


def _set(path: str, value) -> Callable[[dict], None]:
    def change(manifest: dict) -> None:
        *parents, last = path.split(".")
        node = manifest
        for key in parents:
            node = node[key]
        if value is _DELETE:
            del node[last]
        else:
            node[last] = value

    return change


_DELETE = object()
# the seed's own registration, as a deposit to another InvenioRDM repository would have written it
_IN_REPOSITORY = {"status": "Registered", "doi": "10.48436/q5jr8-hny72", "deposition_id": "q5jr8-hny72",
                  "repository": "https://researchdata.tuwien.ac.at"}


def _unregistered(manifest: dict) -> None:
    manifest["provenance"]["external_record"] = {"status": "Not registered"}
    manifest["provenance"]["public_provenance"] = {"level": "L3", "label": "Claim aggregate record"}


def _both(*changes: Callable[[dict], None]) -> Callable[[dict], None]:
    def change(manifest: dict) -> None:
        for one in changes:
            one(manifest)

    return change


def _corrections(count: int, *entries: tuple[int, str], status: str = "CORRECTED", public: bool | None = None):
    def change(manifest: dict) -> None:
        record = manifest["correction_record"]
        record.update(status=status, correction_count=count)
        record["corrections"] = [{"sequence": seq, "date": date, "description": f"fix {seq}"} for seq, date in entries]
        if public is not None:
            record["corrections_public"] = public

    return change


# code, location, the exact message (None: the library's own words), the change that produces it
CASES = [
    # the contracts' cross-field rules (schema branches, named with the rules' codes)
    ("l1-claims", "$.verification.source_grounded_claims", "verification level L1 (literature synthesis) must have 0 source-grounded claims",
     _both(_set("verification.level", "L1"), _set("verification.label", "Literature synthesis"))),
    ("verified-needs-artifact", "$.gate", "Gate 2 status VERIFIED requires a reproducible artifact reference (gate.artifact)",
     _set("gate.status", "VERIFIED")),
    ("registered-needs-doi", "$.provenance.external_record", "external record Registered requires a DOI",
     _set("provenance.external_record.doi", _DELETE)),
    ("doi-without-registration", "$.provenance.external_record", "a DOI is present but the external record is not Registered",
     _both(_set("provenance.external_record.status", "Not registered"), _set("provenance.public_provenance.level", "L3"),
           _set("provenance.public_provenance.label", "Claim aggregate record"))),
    ("l4-label", "$.provenance.public_provenance.label", "public provenance L4 is labelled 'External archival record'",
     _set("provenance.public_provenance.label", "Archived")),
    ("registered-needs-l4", "$.provenance.public_provenance.level", "external record Registered requires public provenance L4",
     _both(_set("provenance.public_provenance.level", "L3"), _set("provenance.public_provenance.label", "Claim aggregate record"))),
    ("l4-without-registration", "$.provenance.public_provenance.level", "public provenance L4 requires a Registered external record",
     _set("provenance.external_record", {"status": "Not registered"})),
    ("corrections-not-public", "$.correction_record.corrections", "corrections_public is false, so no correction may be listed",
     _corrections(1, (1, "2026-06-01"), public=False)),
    ("corrected-without-corrections", "$.correction_record.correction_count", "status CORRECTED requires at least one correction",
     _corrections(0)),
    ("repository-with-environment", "$.provenance.external_record", REPOSITORY_WITH_ENVIRONMENT,
     _set("provenance.external_record", {**_IN_REPOSITORY, "environment": "sandbox"})),
    # the rules in code
    ("deposition-id-invalid", "$.provenance.external_record.deposition_id",
     "deposition_id 'q5jr8-hny27' fails its check digits (ISO 7064 mod 97-10, as InvenioRDM mints ids)",
     _set("provenance.external_record", {**_IN_REPOSITORY, "deposition_id": "q5jr8-hny27"})),
    ("correction-count", "$.correction_record", "correction count is 2 but 1 corrections are listed",
     _corrections(2, (1, "2026-06-01"))),
    ("correction-sequence", "$.correction_record",
     "correction 1 has sequence 2; corrections are additive and numbered 1..n", _corrections(1, (2, "2026-06-01"))),
    ("correction-order", "$.correction_record", "corrections are additive: their dates must not go backwards",
     _corrections(2, (1, "2026-06-02"), (2, "2026-06-01"))),
    ("date-invalid", "$.submitted", "'2026-02-30' is not a real calendar date (YYYY-MM-DD)", _set("submitted", "2026-02-30")),
    ("date-invalid", "$.correction_record.corrections[0].date", "'2026-06-31' is not a real calendar date (YYYY-MM-DD)",
     _corrections(1, (1, "2026-06-31"))),
    ("datetime-invalid", "$.gate.evaluated", "'2026-06-10T25:30:49+00:00' is not an ISO 8601 date-time",
     _set("gate.evaluated", "2026-06-10T25:30:49+00:00")),
    ("datetime-invalid", "$.gate.evaluated", "'2026-06-10T06:30:49' has no time zone", _set("gate.evaluated", "2026-06-10T06:30:49")),
    ("datetime-invalid", "$.provenance.external_record.registered_at", "'2026-06-10T06:30:49' has no time zone",
     _set("provenance.external_record.registered_at", "2026-06-10T06:30:49")),
    ("title-truncated-without-question", "$.title_truncated",
     "title_truncated is true but the research question does not start with the title", _set("research_question", "Another question?")),
    # the record's identity has codes of its own
    ("id-invalid", "$.id", None, _set("id", "SRCH:08ea538")),
    ("id-missing", "$", '"id" is a required property', _set("id", _DELETE)),
    ("doi-invalid", "$.provenance.external_record.doi", None, _set("provenance.external_record.doi", "zenodo.20432521")),
    # the schema's own keywords
    ("required", "$", '"title" is a required property', _set("title", _DELETE)),
    ("additional-property", "$", None, _set("colour", "blue")),
    ("enum", "$.quality_tier.tier", None, _set("quality_tier.tier", "Gold")),
    ("const", "$.correction_record.contract", None, _set("correction_record.contract", "correction-record-v2")),
    ("pattern", "$.provenance.external_record.concept_doi", None, _set("provenance.external_record.concept_doi", "zenodo.1")),
    ("range", "$.review_score", "12.4 is greater than the maximum of 10", _set("review_score", 12.4)),
    ("range", "$.verification.source_grounded_claims", "-1 is less than the minimum of 0", _set("verification.source_grounded_claims", -1)),
    ("type", "$.review_score", '"7.83" is not of type "number"', _set("review_score", "7.83")),
    ("min-length", "$.title", None, _set("title", "")),
]


@pytest.mark.parametrize(("code", "location", "message", "change"), CASES, ids=[f"{c[0]}@{c[1]}" for c in CASES])
def test_each_code_is_produced_by_one_change_and_absent_before_it(seed_manifest, code, location, message, change):
    assert validate_document(seed_manifest) == []  # the record as it is: no code at all
    broken = copy.deepcopy(seed_manifest)
    change(broken)
    findings = validate_document(broken)
    matching = [f for f in findings if (f.code, f.location) == (code, location)]
    assert matching, findings
    if message is not None:
        assert matching[0].message == message
    # one change, one defect: nothing else is reported for it
    assert {f.code for f in findings} == {code}, findings


def test_the_branch_rules_keep_their_codes_whatever_else_is_wrong(seed_manifest):
    broken = copy.deepcopy(seed_manifest)
    _set("gate.status", "VERIFIED")(broken)
    _set("review_score", 11)(broken)
    codes = sorted(f.code for f in validate_document(broken))
    assert codes == ["range", "verified-needs-artifact"]


def test_a_title_cut_at_a_blank_still_starts_the_question(seed_manifest):
    manifest = copy.deepcopy(seed_manifest)
    manifest["title"] = manifest["research_question"][:20] + "   "  # the page cut the title after a blank
    assert code_rule_findings(manifest, manifest["contract"]) == []
    manifest["title_truncated"] = False  # not cut off: the title need not start the question
    manifest["research_question"] = "Another question?"
    assert code_rule_findings(manifest, manifest["contract"]) == []
    del manifest["research_question"]  # cut off, and no question to archive under
    manifest["title_truncated"] = True
    assert [f.code for f in code_rule_findings(manifest, manifest["contract"])] == ["title-truncated-without-question"]


def test_a_correction_record_document_is_checked_on_its_own(seed_manifest):
    record = {"contract": "correction-record-v1", "status": "CORRECTED", "correction_count": 2,
              "corrections": [{"sequence": 1, "date": "2026-06-31", "description": "a"}, {"sequence": 3, "date": "2026-06-01", "description": "b"}]}
    found = [(f.code, f.location) for f in validate_document(record)]
    assert found == [("date-invalid", "$.corrections[0].date"), ("correction-sequence", "$"), ("correction-order", "$")]
    record["corrections"][0]["date"] = "2026-05-31"
    record["corrections"][1]["sequence"] = 2
    assert validate_document(record) == []


def test_corrections_that_are_not_a_list_or_hold_odd_entries_are_left_to_the_schema(seed_manifest):
    manifest = copy.deepcopy(seed_manifest)
    manifest["correction_record"]["corrections"] = "none"
    assert code_rule_findings(manifest, manifest["contract"]) == []
    manifest["correction_record"]["corrections"] = ["not an object"]
    manifest["correction_record"]["correction_count"] = 5  # the entry is unreadable: its count is not judged
    assert code_rule_findings(manifest, manifest["contract"]) == []
    manifest["correction_record"]["correction_count"] = "5"
    manifest["correction_record"]["corrections"] = [{"sequence": 1, "date": "2026-06-01"}]
    assert code_rule_findings(manifest, manifest["contract"]) == []  # a count that is not a number is the schema's


def test_odd_status_and_public_flags_are_read_as_absent():
    record = {"contract": "correction-record-v1", "status": 3, "correction_count": 0, "corrections_public": "no",
              "corrections": [{"sequence": 1, "date": "2026-06-01"}]}
    # a public flag that is not true/false is not "false": the listed corrections are counted
    assert [f.code for f in code_rule_findings(record, "correction-record-v1")] == ["correction-count"]
    record["corrections_public"] = False
    assert code_rule_findings(record, "correction-record-v1") == []  # the schema says corrections-not-public


def test_code_rules_apply_to_the_contracts_that_state_them(seed_manifest):
    provenance = {"contract": "source-provenance-v1", "submitted": "2026-02-30", "gate": {"evaluated": "yesterday"}}
    assert code_rule_findings(provenance, "source-provenance-v1") == []
    manifest = copy.deepcopy(seed_manifest)
    manifest["submitted"] = "2026-02-30"
    manifest["gate"]["evaluated"] = "yesterday"
    manifest["provenance"]["external_record"]["registered_at"] = "soon"
    assert [(f.code, f.location) for f in code_rule_findings(manifest, manifest["contract"])] == [
        ("date-invalid", "$.submitted"), ("datetime-invalid", "$.gate.evaluated"),
        ("datetime-invalid", "$.provenance.external_record.registered_at"),
    ]


@pytest.mark.parametrize(
    ("document", "code", "location", "message"),
    [
        ([], "not-an-object", "$", "a manifest must be a JSON object"),
        ({"id": "SRCH:08EA5386"}, "contract-missing", "$", "no 'contract' field names the schema to validate against"),
        ({"contract": "paper-manifest-v9"}, "contract-unknown", "$.contract",
         "unknown contract 'paper-manifest-v9' (known: correction-record-v1, paper-manifest-v1.1, source-provenance-v1)"),
    ],
)
def test_documents_that_name_no_known_contract(document, code, location, message):
    [finding] = validate_document(document)
    assert (finding.code, finding.location, finding.message) == (code, location, message)


def test_a_contract_given_by_the_caller_wins_over_the_documents(seed_manifest):
    provenance = copy.deepcopy(seed_manifest["provenance"])
    assert validate_document(provenance) == []
    assert [f.code for f in validate_document(provenance, "correction-record-v1")] != []


def test_a_document_nested_past_what_the_validator_walks_is_too_deep(seed_manifest):
    manifest = copy.deepcopy(seed_manifest)
    node: dict = {}
    manifest["abstract"] = node
    for _ in range(3000):
        node["a"] = {}
        node = node["a"]
    [finding] = validate_document(manifest)
    assert (finding.code, finding.location) == ("too-deep", "$")
    assert re.fullmatch(r"the document is nested too deeply to validate \(.+\)", finding.message)


def test_files_empty_not_json_missing_and_valid(tmp_path, seed_manifest):
    import json

    empty = tmp_path / "empty.json"
    empty.write_text("  \n")
    result = validation.validate_file(str(empty))
    assert (result.readable, result.valid, [f.code for f in result.findings]) == (True, False, ["empty-input"])
    broken = tmp_path / "broken.json"
    broken.write_text('{\n  "id": \n')
    result = validation.validate_file(str(broken))
    assert result.readable and [(f.code, f.line) for f in result.findings] == [("json-syntax", 3)]
    missing = validation.validate_file(str(tmp_path / "missing.json"))
    assert (missing.readable, missing.valid, [f.code for f in missing.findings]) == (False, False, ["unreadable"])
    assert missing.as_dict() == {"path": str(tmp_path / "missing.json"), "valid": False, "readable": False,
                                 "errors": [missing.findings[0].as_dict()]}
    good = tmp_path / "good.json"
    good.write_text(json.dumps(seed_manifest))
    result = validation.validate_file(str(good))
    assert result.valid and result.as_dict() == {"path": str(good), "valid": True, "readable": True, "errors": []}


def test_a_stream_is_read_to_its_limit_and_no_further(monkeypatch):
    monkeypatch.setattr(validation, "MAX_MANIFEST_BYTES", 1024 * 1024)
    result = validation.validate_file("/dev/zero")
    assert not result.readable
    assert [(f.code, f.message) for f in result.findings] == [("unreadable", "a stream larger than 1 MiB is not a manifest")]


def test_a_folder_is_searched_for_json_and_an_export_for_its_manifests(tmp_path):
    (tmp_path / "a.json").write_text("{}")
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.json").write_text("{}")
    found = list(validation.expand_paths([str(tmp_path)]))
    assert [os.path.relpath(p, tmp_path) for p in found] == ["a.json", os.path.join("sub", "b.json")]
    assert list(validation.expand_paths([str(tmp_path / "notes.txt")])) == [str(tmp_path / "notes.txt")]

    from archiver.exportdir import MANIFESTS, MARKER

    export = tmp_path / "export"
    (export / MANIFESTS).mkdir(parents=True)
    (export / MARKER).write_text("{}")
    (export / "report.json").write_text("{}")
    (export / MANIFESTS / "SRCH-08EA5386.json").write_text("{}")
    notes: list[str] = []
    found = list(validation.expand_paths([str(export)], on_note=notes.append))
    assert [os.path.basename(p) for p in found] == ["SRCH-08EA5386.json"]
    assert notes == [f"{export} is an archiver export: validating its {MANIFESTS}/ only, not archiver's own files"]
    assert [r.path for r in validation.validate_paths([str(export)])] == found


def test_the_contracts_come_from_the_package_else_the_source_tree(monkeypatch, tmp_path):
    packaged = tmp_path / "site" / "archiver"
    (packaged / "schemas").mkdir(parents=True)
    monkeypatch.setattr(validation, "__file__", str(packaged / "validation.py"))
    assert validation.schema_dir() == str(packaged / "schemas")
    tree = tmp_path / "checkout" / "src" / "archiver"
    tree.mkdir(parents=True)
    (tmp_path / "checkout" / "schemas").mkdir()
    monkeypatch.setattr(validation, "__file__", str(tree / "validation.py"))
    assert validation.schema_dir() == str(tmp_path / "checkout" / "schemas")
    monkeypatch.setattr(validation, "__file__", str(tmp_path / "nowhere" / "src" / "archiver" / "validation.py"))
    with pytest.raises(ArchiverError) as caught:
        validation.schema_dir()
    assert caught.value.code == "no-schemas"


def test_every_rule_code_of_the_readme_has_a_case_here():
    from archiver.codes import KINDS_OF

    rules = {name for name, kinds in KINDS_OF.items() if "rule" in kinds}
    assert rules <= {case[0] for case in CASES}


def test_an_external_record_that_is_not_an_object_is_left_to_the_schema(seed_manifest):
    manifest = copy.deepcopy(seed_manifest)
    manifest["provenance"]["external_record"] = "Registered"
    assert code_rule_findings(manifest, manifest["contract"]) == []
    manifest["provenance"] = "L4"
    assert code_rule_findings(manifest, manifest["contract"]) == []
    manifest["gate"] = "VERIFIED"
    manifest["correction_record"] = []
    assert code_rule_findings(manifest, manifest["contract"]) == []


def test_the_contracts_missing_in_so_many_words(monkeypatch, tmp_path):
    monkeypatch.setattr(validation, "__file__", str(tmp_path / "nowhere" / "src" / "archiver" / "validation.py"))
    with pytest.raises(ArchiverError) as caught:
        validation.schema_dir()
    assert caught.value.message == "the JSON Schema contracts are missing from this installation"


def _stream_with(data: bytes):
    """A pipe whose writer sends ``data`` and closes, named by a path (/proc/self/fd/N) as a FIFO
    would be: the pipe's own read end stays open here, so nothing is lost before the reader opens."""
    import threading

    read_end, write_end = os.pipe()

    def write() -> None:
        with os.fdopen(write_end, "wb") as handle:
            handle.write(data)

    writer = threading.Thread(target=write)
    writer.start()
    return f"/proc/self/fd/{read_end}", writer, read_end


def test_a_stream_at_the_limit_is_read_and_one_byte_more_is_not():
    limit = 64 * 1024 * 1024  # the documented limit of a stream named as a manifest
    path, writer, read_end = _stream_with(b" " * limit)
    result = validation.validate_file(path)
    writer.join()
    os.close(read_end)
    assert [(f.code, f.location) for f in result.findings] == [("empty-input", "$")]  # read whole: all blanks
    path, writer, read_end = _stream_with(b" " * (limit + 1))
    result = validation.validate_file(path)
    writer.join()
    os.close(read_end)
    assert not result.readable
    assert [(f.code, f.message) for f in result.findings] == [("unreadable", "a stream larger than 64 MiB is not a manifest")]


def test_a_manifest_from_a_stream_is_validated(seed_manifest):
    import json

    path, writer, read_end = _stream_with(json.dumps(seed_manifest).encode())
    result = validation.validate_file(path)
    writer.join()
    os.close(read_end)
    assert result.valid


def test_no_file_is_left_open(tmp_path, seed_manifest):
    import json

    path = tmp_path / "m.json"
    path.write_text(json.dumps(seed_manifest))
    before = len(os.listdir("/proc/self/fd"))
    for _ in range(5):
        validation.validate_file(str(path))
    assert len(os.listdir("/proc/self/fd")) == before


def test_where_a_file_problem_is_said(tmp_path):
    (tmp_path / "empty.json").write_text("")
    (tmp_path / "bad.json").write_text("{")
    assert [(f.code, f.location) for f in validation.validate_file(str(tmp_path / "empty.json")).findings] == [("empty-input", "$")]
    assert validation.validate_file(str(tmp_path / "empty.json")).findings[0].message == "the input is empty"
    assert [(f.code, f.location) for f in validation.validate_file(str(tmp_path / "bad.json")).findings] == [("json-syntax", "$")]
    assert [(f.code, f.location) for f in validation.validate_file(str(tmp_path / "none.json")).findings] == [("unreadable", "$")]
