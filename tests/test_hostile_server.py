"""A broken or hostile server costs no DOI, no hang, no traceback and no token.

`archiver deposit` runs as a user runs it (a subprocess, `-v`) against a fault-injecting proxy in
front of the double (tests/hostile.py), with a trap listening on another port. Each case asserts:
the run ends within its bound, prints no traceback, no raw control character and no line a server
forged, keeps the token to the configured origin (the trap never sees it; no output or stored file
holds it); then, with the faults gone, reruns end with exactly one published deposition per eligible
record, whose DOI its manifest carries.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from archiver.exportdir import state_dir_for
from archiver.zenodo.double import ZenodoDouble
from conftest import EXAMPLES, REPOSITORY_TOKEN_VARIABLE, run_cli
from hostile import (
    Exchange,
    HostileProxy,
    Trap,
    answer,
    broken_chunks,
    drip,
    gzip_bomb,
    json_changed,
    never_answers,
    truncated,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

TOKEN = "tok_HOSTILE_SERVER_0123456789abcdefghijklmno"
ARCHIVER = str(Path(sys.executable).parent / "archiver")
ELIGIBLE = {"SRCH:4A7C19E2", "SRCH:2B9E4410", "SRCH:D1CE0F00"}
CREATE = r"^/api/deposit/depositions$"
LIST = r"^/api/deposit/depositions\?"
PUBLISH = r"/actions/publish$"
BUCKET = r"^/api/files/"
TIMEOUT = 3  # --timeout for every case: each request ends within it


@dataclass
class Run:
    code: int
    out: str
    err: str
    seconds: float


@dataclass
class World:
    double: ZenodoDouble
    proxy: HostileProxy
    trap: Trap
    export: Path
    config: Path | None = None  # a policy with api = "records" (the records API's world), or naming a repository

    def deposit(self, *extra: str, limit: float = 60.0) -> Run:
        env = {**os.environ, "ZENODO_SANDBOX_TOKEN": TOKEN, REPOSITORY_TOKEN_VARIABLE: TOKEN}
        command = [ARCHIVER, "deposit", str(self.export), "--zenodo-url", self.proxy.api_url, "--timeout", str(TIMEOUT), "-v", *extra]
        if self.config is not None:
            command += ["--config", str(self.config)]
        started = time.monotonic()
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=limit)
        return Run(done.returncode, done.stdout, done.stderr, time.monotonic() - started)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    out = tmp_path_factory.mktemp("template") / "export"
    assert run_cli("export", EXAMPLES, "--out", out, "--created", "2026-01-01T00:00:00Z", "--quiet").code == 0
    return out


@pytest.fixture
def world(tmp_path, exported):
    out = tmp_path / "export"
    shutil.copytree(exported, out)
    with ZenodoDouble(tokens={TOKEN}, rate_limit=100_000, index_lag=0.2) as double, HostileProxy(double.url) as proxy, Trap() as trap:
        yield World(double, proxy, trap, out)


@pytest.fixture
def records_world(world, tmp_path):
    config = tmp_path / "archiver.toml"
    config.write_text('api = "records"\n')
    world.config = config
    return world


@pytest.fixture
def repository_world(tmp_path, exported):
    """The double as another InvenioRDM repository, behind the proxy, which the policy names."""
    out = tmp_path / "export"
    shutil.copytree(exported, out)
    with ZenodoDouble.as_repository(tokens={TOKEN}, rate_limit=100_000, index_lag=0.2) as double, \
            HostileProxy(double.url) as proxy, Trap() as trap:
        config = tmp_path / "archiver.toml"
        config.write_text(f'[repository]\nurl = "{proxy.api_url}"\ndoi_prefix = "{double.state.doi_prefix}"\n'
                          f'token_variable = "{REPOSITORY_TOKEN_VARIABLE}"\n')
        yield World(double, proxy, trap, out, config)


def minted(world: World, deposition_id) -> str:
    """The DOI the double mints for the id a manifest names: {prefix}/zenodo.{id} as Zenodo, {prefix}/{id} as a repository."""
    state = world.double.state
    return f"{state.doi_prefix}/{deposition_id}" if state.repository else f"{state.doi_prefix}/zenodo.{deposition_id}"


def record_of(dep):
    (record_id,) = [k for k in dep.metadata.get("keywords", []) if k.startswith("SRCH:")]
    return record_id


def assert_sane(run: Run, world: World, bound: float) -> None:
    text = run.out + run.err
    assert run.seconds <= bound, f"took {run.seconds:.1f} s (bound {bound} s)"
    assert "Traceback" not in text, run.err[-2000:]
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f\x9b]", text), "a raw control character reached the terminal"
    assert all(len(line) <= 1500 for line in text.splitlines()), "a line no terminal should get"
    for line in run.out.splitlines():  # every deposited line names a DOI the double minted for that record
        match = re.match(r"(SRCH:[0-9A-F]{8}): (deposited|resumed|adopted|registered) (\S+)", line)
        if match:
            dep = next((d for d in world.double.state.depositions.values() if d.doi == match.group(3)), None)
            assert dep is not None and record_of(dep) == match.group(1), f"a forged line: {line!r}"
    assert TOKEN not in text
    assert all(auth is None for _, _, auth in world.trap.seen), "the token reached another origin"
    for path in state_dir_for(world.export).rglob("*"):
        if path.is_file():
            assert TOKEN.encode() not in path.read_bytes(), f"the token is stored in {path}"


def assert_no_lie_registered(world: World) -> None:
    """The lie is never registered: whatever a manifest says is the deposition's own DOI."""
    for path in (world.export / "manifests").glob("*.json"):
        external = json.loads(path.read_text())["provenance"]["external_record"]
        if external.get("deposition_id"):
            assert external["doi"] == minted(world, external["deposition_id"])
    report = (world.export / "report.json").read_text()
    assert "10.5072/zenodo.987654" not in report and OTHER_ID not in report


def settle(world: World) -> None:
    """The faults gone, reruns finish; one published deposition per eligible record, in the manifests."""
    world.proxy.clear()
    for _ in range(3):
        time.sleep(0.3)  # the double's index lag
        final = world.deposit()
        assert_sane(final, world, 60)
        if final.code == 0:
            break
    assert final.code == 0, final.out + final.err
    published = {}
    for dep in world.double.state.depositions.values():
        assert dep.submitted, f"draft {dep.id} left open"
        assert record_of(dep) not in published, f"a second deposition of {record_of(dep)}"
        published[record_of(dep)] = dep
    assert set(published) == ELIGIBLE
    for record_id, dep in published.items():
        manifest = json.loads((world.export / "manifests" / f"{record_id.replace(':', '_')}.json").read_text())
        assert manifest["provenance"]["external_record"]["doi"] == dep.doi == world.double.state.minted(dep.id)
    assert run_cli("validate", world.export / "manifests").code == 0


def bucket_to(url_of):
    def edit(document, exchange: Exchange):
        document["links"]["bucket"] = url_of(exchange)

    return json_changed(edit)


def _token(exchange: Exchange) -> str:
    return exchange.headers.get("Authorization", "").removeprefix("Bearer ")


# (id, method, path, action, times, bound in seconds, a code the run must name or None)
CASES = [
    # a 2xx answer archiver cannot read: the create may have happened; it is found, never repeated
    ("create-truncated", "POST", CREATE, truncated, 1, 30, None),
    ("create-empty", "POST", CREATE, answer(201, b"", forward=True), 1, 30, None),
    ("create-html", "POST", CREATE, answer(201, "<html><body>Welcome</body></html>", {"Content-Type": "text/html"}, forward=True), 1, 30, None),
    ("create-json-list", "POST", CREATE, answer(201, [], forward=True), 1, 30, None),
    ("create-id-not-a-number", "POST", CREATE, json_changed(lambda d, e: d.update(id="one")), 1, 30, None),
    ("create-gzip-bomb", "POST", CREATE, gzip_bomb(256), 1, 30, None),
    ("create-broken-chunking", "POST", CREATE, broken_chunks, 1, 30, None),
    ("create-never-answers", "POST", CREATE, never_answers, 1, 40, None),
    # lying publish answers: nothing of them is registered
    ("publish-other-id", "POST", PUBLISH, json_changed(lambda d, e: d.update(id=d["id"] + 1000)), 9, 30, None),
    ("publish-other-records-doi", "POST", PUBLISH, json_changed(lambda d, e: d.update(doi="10.5072/zenodo.987654")), 9, 30, None),
    ("publish-invalid-doi", "POST", PUBLISH, json_changed(lambda d, e: d.update(doi="not a doi\n")), 9, 30, None),
    ("publish-unpublished", "POST", PUBLISH, json_changed(lambda d, e: d.update(submitted=False)), 9, 30, None),
    # another origin: never followed, never stored, the token never sent there
    ("create-redirect-307", "POST", CREATE, None, 1, 30, "redirect-refused"),
    ("list-redirect-loop", "GET", LIST, answer(302, b"", {"Location": "/api/deposit/depositions?size=100"}), 50, 30, "redirect-refused"),
    ("bucket-other-port", "POST", CREATE, None, 1, 30, "foreign-link"),
    ("bucket-localhost", "POST", CREATE, None, 1, 30, "foreign-link"),
    ("bucket-parser-trick", "POST", CREATE, None, 1, 30, "foreign-link"),
    ("bucket-file-scheme", "POST", CREATE, bucket_to(lambda e: "file:///etc/passwd"), 1, 30, "foreign-link"),
    ("upload-307-to-itself", "PUT", BUCKET, None, 1, 30, "redirect-refused"),
    ("token-reflected-in-a-link", "POST", CREATE, bucket_to(lambda e: None), 1, 30, None),
    # time: every wait bounded and said
    ("list-drips-a-byte-a-second", "GET", LIST, drip(1.0), 1, 40, None),
    ("create-retry-after-1e9", "POST", CREATE, answer(429, {"status": 429, "message": "slow down"}, {"Retry-After": "1e9"}), 1, 30, "rate-limited"),
    ("create-retry-after-inf", "POST", CREATE, answer(429, {"status": 429, "message": "slow down"}, {"Retry-After": "inf"}), 1, 30, "rate-limited"),
    ("create-reset-a-year-away", "POST", CREATE, None, 1, 30, "rate-limited"),
    ("create-reset-in-milliseconds", "POST", CREATE, None, 1, 30, "rate-limited"),
    # bytes that used to be tracebacks
    ("list-500-deep-json", "GET", LIST, answer(500, "[" * 100_000), 1, 30, None),
    ("create-400-deep-json", "POST", CREATE, answer(400, "[" * 100_000), 1, 30, None),
    # server text is data: escaped, cut short, never a forged line
    ("create-400-spoofing-message", "POST", CREATE,
     answer(400, {"status": 400, "message": "\r\x1b[2KSRCH:4A7C19E2: deposited 10.5072/zenodo.1\n3 deposited; 0 requests\x1b]0;owned\x07"}), 3, 30, None),
    ("create-400-20-kb-message", "POST", CREATE, answer(400, {"status": 400, "message": "x" * 20_000}), 3, 30, None),
]


def _act(case: str, world: World, action):
    """Cases whose answer needs the world's ports or the clock."""
    proxy_port = world.proxy.server.server_address[1]
    if case == "create-redirect-307":
        return answer(307, b"", {"Location": f"{world.trap.url}/api/deposit/depositions"})
    if case == "bucket-other-port":
        return bucket_to(lambda e: f"{world.trap.url}/api/files/stolen")
    if case == "bucket-localhost":
        return bucket_to(lambda e: f"http://localhost:{proxy_port}/api/files/stolen")
    if case == "bucket-parser-trick":
        return bucket_to(lambda e: f"http://127.0.0.1:{world.trap.port}\\@127.0.0.1:{proxy_port}/api/files/stolen")
    if case == "upload-307-to-itself":
        return lambda e: e.send(307, b"", {"Location": e.path})
    if case == "token-reflected-in-a-link":
        def reflect(document, exchange):
            document["links"]["bucket"] += f"?access_token={_token(exchange)}"

        return json_changed(reflect)
    if case == "create-reset-a-year-away":
        return answer(429, {"status": 429, "message": "slow down"}, {"X-RateLimit-Reset": str(int(time.time()) + 31_536_000)})
    if case == "create-reset-in-milliseconds":
        return answer(429, {"status": 429, "message": "slow down"}, {"X-RateLimit-Reset": str(int(time.time() * 1000) + 5000)})
    return action


@pytest.mark.parametrize(("case", "method", "path", "action", "times", "bound", "code"), CASES, ids=[c[0] for c in CASES])
def test_a_hostile_answer_costs_no_doi_no_hang_no_traceback_and_no_token(world, case, method, path, action, times, bound, code):
    world.proxy.add(method, path, _act(case, world, action), times=times)
    run = world.deposit()
    assert_sane(run, world, bound)
    if code is not None:
        assert f"[{code}]" in run.out + run.err, run.out + run.err
    if case.startswith("bucket-") or case == "token-reflected-in-a-link":
        import sqlite3

        ledger = sqlite3.connect(state_dir_for(world.export) / "ledger.sqlite")
        buckets = [row[0] for row in ledger.execute("SELECT bucket_url FROM deposits") if row[0]]
        ledger.close()
        assert all(bucket.startswith(f"{world.proxy.api_url}/files/") and "?" not in bucket for bucket in buckets), buckets
    if case == "create-gzip-bomb":
        assert "larger than 16 MiB" in run.out + run.err or run.code == 0
    if case.startswith("publish-"):
        assert_no_lie_registered(world)
    settle(world)


def test_a_server_that_never_answers_ends_the_run_with_one_line_within_its_bound(world):
    world.proxy.add("GET", LIST, never_answers, times=100)
    run = world.deposit()
    assert_sane(run, world, 4 * TIMEOUT + 10)  # what --help promises: about 4 x --timeout
    assert run.code == 2 and "Zenodo did not answer" in run.err and "[no-answer]" in run.err
    assert "trying again (2 of 3)" in run.err and "trying again (3 of 3)" in run.err  # no silent minutes
    assert "no further record was started" in run.err and run.out.count(": failed - ") == len(ELIGIBLE)  # each accounted for
    settle(world)


def test_the_second_ctrl_c_ends_the_process_within_a_second(world):
    world.proxy.add("GET", LIST, never_answers, times=100)
    env = {**os.environ, "ZENODO_SANDBOX_TOKEN": TOKEN}
    process = subprocess.Popen(
        [ARCHIVER, "deposit", str(world.export), "--zenodo-url", world.proxy.api_url, "--timeout", "600"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    time.sleep(1.5)  # the lookup is waiting on a server that never answers
    process.send_signal(signal.SIGINT)
    time.sleep(0.3)
    second = time.monotonic()
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=10)
    assert time.monotonic() - second < 1.0
    assert process.returncode == 130 and "Traceback" not in err and "stopped at once" in err
    settle(world)


# The records API (policy api = "records"): the same guarantees, on its endpoints.
R_CREATE = r"^/api/records$"
R_SEARCH = r"^/api/user/records\?"
R_PUBLISH = r"/draft/actions/publish$"
R_CONTENT = r"/draft/files/[^/]+/content$"
R_COMMIT = r"/draft/files/[^/]+/commit$"


def _nested(path: str, value):
    """A json_changed edit that sets one dotted path of the answer."""
    def edit(document, exchange):
        *parents, last = path.split(".")
        node = document
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value(document, exchange) if callable(value) else value

    return json_changed(edit)


RECORDS_CASES = [
    ("create-truncated", "POST", R_CREATE, truncated, 1, 30, None),
    ("create-empty", "POST", R_CREATE, answer(201, b"", forward=True), 1, 30, None),
    ("create-json-list", "POST", R_CREATE, answer(201, [], forward=True), 1, 30, None),
    ("create-id-not-a-number", "POST", R_CREATE, json_changed(lambda d, e: d.update(id="abcd-1234")), 1, 30, None),
    ("create-gzip-bomb", "POST", R_CREATE, gzip_bomb(256), 1, 30, None),
    ("create-never-answers", "POST", R_CREATE, never_answers, 1, 40, None),
    ("create-another-records-subjects", "POST", R_CREATE, _nested("metadata.subjects", [{"subject": "SRCH:FFFFFFFF"}]), 1, 30, None),
    ("publish-other-id", "POST", R_PUBLISH, json_changed(lambda d, e: d.update(id=str(int(d["id"]) + 1000))), 9, 30, None),
    ("publish-other-records-doi", "POST", R_PUBLISH, _nested("pids.doi.identifier", "10.5072/zenodo.987654"), 9, 30, None),
    ("publish-other-concept-doi", "POST", R_PUBLISH, _nested("parent.pids.doi.identifier", "10.5072/zenodo.987654"), 9, 30, None),
    ("publish-unpublished", "POST", R_PUBLISH, json_changed(lambda d, e: d.update(is_published=False)), 9, 30, None),
    ("commit-other-checksum", "POST", R_COMMIT, json_changed(lambda d, e: d.update(checksum="md5:" + "0" * 32)), 1, 30, "checksum-mismatch"),
    ("commit-other-key", "POST", R_COMMIT, json_changed(lambda d, e: d.update(key="other.json")), 1, 30, "answer-mismatch"),
    ("create-redirect-307", "POST", R_CREATE, None, 1, 30, "redirect-refused"),
    ("search-redirect-loop", "GET", R_SEARCH, answer(302, b"", {"Location": "/api/user/records?size=100"}), 50, 30, "redirect-refused"),
    ("content-307-to-itself", "PUT", R_CONTENT, None, 1, 30, "redirect-refused"),
    ("create-landing-page-elsewhere", "POST", R_CREATE, None, 1, 30, "foreign-link"),
    ("search-drips-a-byte-a-second", "GET", R_SEARCH, drip(1.0), 1, 40, None),
    ("search-500-deep-json", "GET", R_SEARCH, answer(500, "[" * 100_000), 1, 30, None),
    ("create-400-spoofing-message", "POST", R_CREATE,
     answer(400, {"status": 400, "message": "\r\x1b[2KSRCH:4A7C19E2: deposited 10.5072/zenodo.1\n\x1b]0;owned\x07"}), 3, 30, None),
    ("search-hits-not-a-list", "GET", R_SEARCH, answer(200, {"hits": {"hits": "nope", "total": 1}}), 3, 30, "answer-invalid"),
    ("create-id-superscript-digit", "POST", R_CREATE, json_changed(lambda d, e: d.update(id="²")), 1, 30, None),
    ("create-id-arabic-indic-digits", "POST", R_CREATE, json_changed(lambda d, e: d.update(id="١٠٠٢٥٩")), 1, 30, None),
    ("search-hits-of-odd-types", "GET", R_SEARCH, json_changed(lambda d, e: [
        hit.update(id="¹", parent={"id": "1", "review": {"status": 7}}, metadata={"version": 2}) for hit in d["hits"]["hits"]]), 9, 30, None),
    ("create-errors-with-control-characters", "POST", R_CREATE, json_changed(lambda d, e: d.update(
        errors=[{"field": "metadata\x1b[2K\r\x1b[32mSRCH:4A7C19E2: deposited 10.5281/zenodo.1 - forged", "messages": ["x"]}])), 1, 30,
     "metadata-not-kept"),
]


def _records_act(case: str, world: World, action):
    if case == "create-redirect-307":
        return answer(307, b"", {"Location": f"{world.trap.url}/api/records"})
    if case == "content-307-to-itself":
        return lambda e: e.send(307, b"", {"Location": e.path})
    if case == "create-landing-page-elsewhere":
        return _nested("links.self_html", f"{world.trap.url}/records/1")
    return action


@pytest.mark.parametrize(("case", "method", "path", "action", "times", "bound", "code"), RECORDS_CASES, ids=[c[0] for c in RECORDS_CASES])
def test_a_hostile_records_api_answer_costs_no_doi_no_hang_no_traceback_and_no_token(records_world, case, method, path, action, times, bound, code):
    world = records_world
    world.proxy.add(method, path, _records_act(case, world, action), times=times)
    run = world.deposit()
    assert_sane(run, world, bound)
    if code is not None:
        assert f"[{code}]" in run.out + run.err, run.out + run.err
    if case.startswith("publish-") or case == "create-another-records-subjects":
        assert_no_lie_registered(world)
    settle(world)


# Another InvenioRDM repository (the policy's [repository]): the same guarantees, where ids are not
# numbers and DOIs are {prefix}/{id}. The lies are told in that repository's own forms.
OTHER_ID = "q5jr8-hny72"  # a well-formed id of no deposition the double holds


def _prefix_of(document: dict, *path: str) -> str:
    for key in path:
        document = document[key]
    return str(document).split("/")[0]


def _repository_case(case):
    name, method, path, action, times, bound, code = case
    if name == "publish-other-id":
        action = json_changed(lambda d, e: d.update(id=OTHER_ID))
    elif name == "publish-other-records-doi":
        action = _nested("pids.doi.identifier", lambda d, e: f"{_prefix_of(d, 'pids', 'doi', 'identifier')}/{OTHER_ID}")
    elif name == "publish-other-concept-doi":
        action = _nested("parent.pids.doi.identifier", lambda d, e: f"{_prefix_of(d, 'parent', 'pids', 'doi', 'identifier')}/{OTHER_ID}")
    return name, method, path, action, times, bound, code


REPOSITORY_CASES = [_repository_case(case) for case in RECORDS_CASES] + [
    ("create-id-a-number", "POST", R_CREATE, json_changed(lambda d, e: d.update(id="100259")), 1, 30, "repository-mismatch"),
    ("create-id-bad-check-digits", "POST", R_CREATE, json_changed(lambda d, e: d.update(id=d["id"][:-2] + ("00" if d["id"][-2:] != "00" else "01"))),
     1, 30, "answer-invalid"),
    ("publish-zenodos-doi-form", "POST", R_PUBLISH, _nested("pids.doi.identifier", lambda d, e: d["pids"]["doi"]["identifier"].replace("/", "/zenodo.")),
     9, 30, None),
    ("vocabulary-answers-another-entry", "GET", r"^/api/vocabularies/", json_changed(lambda d, e: d.update(id="cc-by-nc-4.0")), 1, 30,
     "answer-mismatch"),
]


@pytest.mark.parametrize(("case", "method", "path", "action", "times", "bound", "code"), REPOSITORY_CASES, ids=[c[0] for c in REPOSITORY_CASES])
def test_a_hostile_repository_answer_costs_no_doi_no_hang_no_traceback_and_no_token(repository_world, case, method, path, action, times, bound,
                                                                                     code):
    world = repository_world
    world.proxy.add(method, path, _records_act(case, world, action), times=times)
    run = world.deposit()
    assert_sane(run, world, bound)
    assert "Zenodo" not in run.out + run.err, "the run names the repository, never Zenodo"
    if code is not None:
        assert f"[{code}]" in run.out + run.err, run.out + run.err
    if case.startswith("publish-") or case == "create-another-records-subjects":
        assert_no_lie_registered(world)
    settle(world)
