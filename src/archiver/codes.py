"""Every error, warning, reason and skip code archiver reports, each with its one-line meaning.

This is the one registry of codes. The README's code tables are generated from it
(``python -m archiver.codes``), and tests/test_codes.py holds the source to it: a code that is
emitted somewhere must be registered here, and a registered code must be emitted somewhere.
"""

from __future__ import annotations

import sys
from typing import NamedTuple


class Code(NamedTuple):
    name: str
    kind: str  # one of KINDS
    meaning: str


# Kind -> what the codes of that kind are, in the order the README shows them.
KINDS = {
    "input": "the input cannot be read as a record (the record is invalid)",
    "value": "a value of the record is wrong (the record is invalid)",
    "rule": "a cross-field rule of the contracts is broken (the record is invalid)",
    "warning": "worth a look; the record stays valid",
    "reason": "why a valid record may not be deposited (report.json `reasons`, eligibility.csv)",
    "skip": "a file a folder walk leaves alone (a warning; the run goes on)",
    "run": "what stops a command, or one record's deposit (`archiver: message [code]`)",
}

_CODES = (
    # ---------------------------------------------------------------- input
    Code("unreadable", "input", "the file cannot be opened or read, or does not exist"),
    Code("empty-input", "input", "the input is empty"),
    Code("binary-input", "input", "binary data (NUL bytes), not a record page or JSON"),
    Code("encoding", "input", "not UTF-8 or UTF-16 text (UTF-16 is read with or without a byte-order mark)"),
    Code("input-too-large", "input", "larger than 16 MiB: one record is never that large; use JSONL for batches"),
    Code("json-syntax", "input", "not JSON (NaN, Infinity and numbers too large for a double included)"),
    Code("too-deep", "input", "JSON nested deeper than 512 levels, refused before parsing"),
    Code("not-a-record", "input", "a text with no record sections (no heading such as 'Verification Level')"),
    Code("not-an-object", "input", "JSON that is not one object (a record or manifest is an object)"),
    Code("page-truncated", "input", "the page ends early or lacks required sections or provenance rows"),
    # ---------------------------------------------------------------- value
    Code("id-missing", "value", "the record has no id (SRCH:XXXXXXXX); no archival id is ever invented"),
    Code("id-invalid", "value", "the id is not SRCH: and eight upper-case hex digits"),
    Code("duplicate-id", "value", "the id appeared earlier in the same batch"),
    Code("doi-invalid", "value", "the DOI is not 10.NNNN/suffix"),
    Code("date-invalid", "value", "not a real calendar date (YYYY-MM-DD; on a page, e.g. 29 May 2026)"),
    Code("datetime-invalid", "value", "not an ISO 8601 date-time with a time zone"),
    Code("deposition-id-invalid", "value", "an InvenioRDM deposition id whose check digits are wrong (its form is the schema's)"),
    Code("repository-with-environment", "rule", "a record deposited in another repository names Zenodo's environment too"),
    Code("score-invalid", "value", "a page's review score is not of the form x/10"),
    Code("not-a-number", "value", "a page's count is not a whole number"),
    Code("range", "value", "a number out of its bounds (a score above 10, a negative count)"),
    Code("enum", "value", "a value outside its vocabulary (tier, level, status, rating)"),
    Code("const", "value", "a value that must be one constant is another"),
    Code("pattern", "value", "a text does not match its pattern"),
    Code("required", "value", "a required field is missing"),
    Code("additional-property", "value", "a field the contract does not know"),
    Code("min-length", "value", "an empty text where text is required"),
    Code("type", "value", "a value of the wrong JSON type (manifest validation)"),
    Code("string-type", "value", "a text field holds another type (record reading)"),
    Code("int-type", "value", "a whole-number field holds another type (record reading)"),
    Code("float-type", "value", "a number field holds another type (record reading)"),
    Code("bool-type", "value", "a true/false field holds another type (record reading)"),
    Code("bool-parsing", "value", "a true/false field holds text that is not true or false (record reading)"),
    Code("model-type", "value", "an object field holds another type (record reading)"),
    Code("tuple-type", "value", "a list field holds another type (record reading)"),
    Code("timezone-aware", "value", "a date-time without a time zone (record reading)"),
    Code("date-from-datetime-inexact", "value", "a date written as a date-time with a time of day (record reading)"),
    Code("contract-missing", "value", "a manifest names no contract"),
    Code("contract-unknown", "value", "a manifest names a contract archiver does not have"),
    Code("contract-unsupported", "value", "a page names a contract version other than the one archiver implements"),
    Code("title-truncated-without-question", "value", "title_truncated is true but the research question does not start with the title"),
    # ---------------------------------------------------------------- rule
    Code("l1-claims", "rule", "verification level L1 (literature synthesis) has 0 source-grounded claims"),
    Code("verified-needs-artifact", "rule", "Gate 2 VERIFIED needs gate.artifact; never derived from score or claims"),
    Code("registered-needs-doi", "rule", "a Registered external record has a DOI"),
    Code("registered-needs-l4", "rule", "a Registered external record makes public provenance L4"),
    Code("doi-without-registration", "rule", "only a Registered external record has a DOI"),
    Code("l4-without-registration", "rule", "only a Registered external record makes public provenance L4"),
    Code("l4-label", "rule", 'L4 is labelled "External archival record"'),
    Code("corrected-without-corrections", "rule", "status CORRECTED needs at least one correction"),
    Code("corrections-not-public", "rule", "corrections_public false (only the count is public) lists no correction"),
    Code("correction-count", "rule", "the correction count equals the corrections listed, unless they are not public"),
    Code("correction-sequence", "rule", "corrections are numbered 1..n"),
    Code("correction-order", "rule", "correction dates never go backwards (corrections are additive)"),
    # ---------------------------------------------------------------- warning
    Code("title-truncated", "warning", "the title is a strict prefix of the research question; the full question is used to archive"),
    Code("score-from-abstract", "warning", 'the review score appears only in the abstract ("a score of 2.5/10") and is taken from there'),
    Code("score-mismatch", "warning", "header score and abstract score differ"),
    Code("tier-basis-mismatch", "warning", "the declared tier does not match its basis sentence"),
    Code("header-mismatch", "warning", "a web-layout header value disagrees with its section"),
    Code("claim-lineage-mismatch", "warning", "the claim lineage count differs from the source-grounded claims"),
    # ---------------------------------------------------------------- reason
    Code("manifest-invalid", "reason", "the record or its manifest has errors; fix them and export again"),
    Code("below-doi-grade", "reason", "the computed tier is not DOI grade"),
    Code("no-review-score", "reason", "no public review score: no tier can be computed, and DOI grade needs one"),
    Code("declared-tier-disagrees", "reason", "the tier declared on the page is not the computed one"),
    Code("retracted", "reason", "the correction record says RETRACTED"),
    Code("withdrawn", "reason", "the correction record says WITHDRAWN"),
    Code("report-artifact-unavailable", "reason", "the report artifact is not Available"),
    Code("report-artifact-file-missing", "reason", "the page says the report is Available, but the artifacts folder holds no file of it (deposited only where the policy allows)"),
    Code("already-registered", "reason", "the record carries a DOI: nothing to deposit"),
    Code("corrected-since-deposit", "reason", "registered, but its correction record changed since the deposit: a new version awaits (deposit --new-versions)"),
    Code("no-submission-date", "reason", "no submission date, which Zenodo's publication date comes from"),
    Code("gate-not-verified", "reason", "the policy asks for Gate 2 VERIFIED"),
    Code("dimension-below-minimum", "reason", "a quality dimension is below the policy's minimum"),
    # ---------------------------------------------------------------- skip
    Code("special-file", "skip", "a FIFO, device, socket or broken symbolic link met in a folder walk; never opened"),
    Code("unreadable", "skip", "a directory of the walk that cannot be listed"),
    # ---------------------------------------------------------------- run
    Code("usage", "run", "the command line cannot be carried out as given"),
    Code("os-error", "run", "the operating system refused a read or write (disk full, permissions)"),
    Code("nothing-readable", "run", "no source held a record archiver could read: nothing is exported, the previous export is kept"),
    Code("package-check-failed", "run", "the data package failed its frictionless check: the previous export is kept"),
    Code("out-refused", "run", "--out is the file system root, or exists and is not a directory"),
    Code("out-overlaps-source", "run", "--out is inside a SOURCE, or holds one"),
    Code("out-not-export", "run", "--out holds files archiver did not write"),
    Code("busy", "run", "another archiver process is writing the same export"),
    Code("report-unreadable", "run", "report.json is not one archiver wrote, or is cut short"),
    Code("unsafe-id", "run", "a record id that cannot become a safe file name"),
    Code("unsafe-path", "run", "a file name that would land outside its directory"),
    Code("policy-invalid", "run", "a policy value, its TOML or its table is wrong"),
    Code("policy-missing", "run", "the policy file, or its [tool.archiver] table, does not exist"),
    Code("no-schemas", "run", "the JSON Schema contracts are missing from the installation"),
    Code("metadata-invalid", "run", "the deposit metadata of a record fails its model (before anything is sent)"),
    Code("artifact-missing", "run", "the record's report artifact is not a file"),
    Code("artifact-empty", "run", "the record's report artifact is empty (Zenodo refuses empty files)"),
    Code("artifact-too-large", "run", "a file of the record is over Zenodo's 50 GB a file"),
    Code("too-many-files", "run", "the record would have more than Zenodo's 100 files"),
    Code("manifest-invalid", "run", "a manifest in the export, or the registered one, fails its contract (deposit)"),
    Code("correction-behind", "run", "the export's record has fewer corrections than the version Zenodo publishes: an older export; nothing is sent"),
    Code("create-unknown", "run", "a create's answer was lost and Zenodo's search lists no draft of the record yet; the next run looks again first"),
    Code("remote-unrecognised", "run", "a deposition on Zenodo carries the record's id but no manifest.json archiver can read"),
    Code("draft-not-listed", "run", "Zenodo's search does not list an open new-version draft yet; a rerun resumes"),
    Code("checksum-mismatch", "run", "the md5 Zenodo reports for a file is not the one sent"),
    Code("publish-failed", "run", "publish did not go through after retries"),
    Code("answer-mismatch", "run", "Zenodo's answer is not about what was asked (another deposition, another record's DOI, not published)"),
    Code("foreign-link", "run", "a link in Zenodo's answer points off the configured API origin: refused, nothing stored"),
    Code("redirect-refused", "run", "Zenodo answered with a redirect: not followed (archiver talks to the configured origin only)"),
    Code("rate-limited", "run", "Zenodo asks for a wait that is not finite or longer than 300 s, or still answers 429 after retries"),
    Code("production-flag", "run", "a URL of Zenodo's production without --production, or of its sandbox with it: refused before anything is read or sent"),
    Code("plan-incomplete", "run", "a dry run with a token could not read the repository: the plan does not say what it holds (exit 2)"),
    Code("server-failing", "run", "Zenodo failed (5xx) three records in a row: the run stops starting records; a rerun resumes"),
    Code("stopping", "run", "a request not sent, or a wait not begun, because the run is stopping (halted): the record resumes next run"),
    Code("no-token", "run", "ZENODO_SANDBOX_TOKEN (or ZENODO_TOKEN with --production, or the [repository]'s token_variable) is not set"),
    Code("no-answer", "run", "Zenodo did not answer (connection error, or nothing by --timeout) after retries; the run stops"),
    Code("token-refused", "run", "Zenodo refused the token (401, or 403 Permission denied): the run stops starting records"),
    Code("zenodo-rejected", "run", "Zenodo refused the request (4xx)"),
    Code("zenodo-error", "run", "Zenodo failed (5xx) after retries"),
    Code("repository-rejected", "run", "the repository the policy names ([repository]) refused the request (4xx)"),
    Code("repository-error", "run", "the repository the policy names ([repository]) failed (5xx) after retries"),
    Code("repository-mismatch", "run", "the server answers with ids of the other kind (numbers where InvenioRDM mints ids, or the reverse): the run stops"),
    Code("doi-prefix-mismatch", "run", "a record was published under another DOI prefix than the policy's: not registered; the run stops"),
    Code("vocabulary-unknown", "run", "an entry the deposit names (licence, language, type) is not in the repository's vocabularies"),
    Code("answer-invalid", "run", "Zenodo's answer lacks what archiver reads from it (an id, a list, a draft link)"),
    Code("ledger-corrupt", "run", "the deposit ledger is unreadable"),
    Code("ledger-other-server", "run", "the export's ledger records deposits to another server (e.g. the local double): export anew for this one"),
    Code("ledger-too-new", "run", "the deposit ledger was written by a newer archiver"),
    Code("draft-open", "run", "Zenodo says a new-version draft is open without naming it; it is looked for"),
    Code("metadata-not-kept", "run", "a save's answer does not hold the metadata as sent (Zenodo's lenient save dropped or changed a field): nothing is published"),
    Code("review-not-submitted", "run", "a draft's submission to its community's review did not go through; the next run submits it again"),
    Code("review-declined", "run", "the community declined the record's review request: it is not published; decide, then deposit again"),
    Code("community-missing", "run", "a community of the policy does not exist, or the record is not in it after publish (legacy API)"),
)

# A few names serve two kinds (manifest-invalid is a reason and a deposit error; unreadable an
# input error and a skip): CODES holds the first, KINDS_OF every kind of a name.
CODES: dict[str, Code] = {}
KINDS_OF: dict[str, set[str]] = {}
for _code in _CODES:
    CODES.setdefault(_code.name, _code)
    KINDS_OF.setdefault(_code.name, set()).add(_code.kind)

# Input codes that mean nothing of the file was read as a record; an export of nothing but
# these is "nothing readable" (exit 2). A JSON syntax error still read a JSON file.
NOTHING_READ = frozenset({"unreadable", "empty-input", "binary-input", "encoding", "input-too-large", "not-a-record"})


def markdown_table(kind: str) -> str:
    """The README table of one kind of code."""
    rows = [f"| `{code.name}` | {code.meaning} |" for code in _CODES if code.kind == kind]
    return "\n".join(["| code | meaning |", "| --- | --- |", *rows])


def main() -> int:
    """``python -m archiver.codes KIND`` prints that kind's table as the README holds it;
    with no KIND, every table under its heading."""
    arguments = sys.argv[1:]
    unknown = [kind for kind in arguments if kind not in KINDS]
    if unknown or len(arguments) > 1:
        print(f"usage: python -m archiver.codes [KIND]   KIND: {', '.join(KINDS)}", file=sys.stderr)
        return 0 if unknown in (["-h"], ["--help"]) else 2
    if arguments:
        print(markdown_table(arguments[0]))
    else:
        print("\n\n".join(f"{kind}: {KINDS[kind]}\n\n{markdown_table(kind)}" for kind in KINDS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
