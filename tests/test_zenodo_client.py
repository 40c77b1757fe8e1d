"""The Zenodo client's pacing and retries, with a fake clock, against the double."""

from __future__ import annotations

import pytest

from archiver.zenodo.double import Faults, ZenodoDouble
from archiver.zenodo.legacy_client import LegacyClient
from archiver.zenodo.pacing import RateLimiter
from archiver.zenodo.target import resolve_target
from archiver.zenodo.transport import TransportError

TOKEN = "client-test-token"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_pacer_spreads_requests_over_the_announced_window():
    clock = FakeClock()
    limiter = RateLimiter(clock=clock, sleep=clock.sleep)
    limiter.observe({"X-RateLimit-Remaining": "10", "X-RateLimit-Reset": str(clock.now + 20)}, 200)
    for _ in range(5):
        limiter.wait()
    assert clock.slept == pytest.approx([2.0, 2.0, 2.0, 2.0])  # 20 s for 10 requests: one every 2 s


def test_pacer_waits_as_a_429_says_and_until_the_reset_when_nothing_is_left():
    clock = FakeClock()
    limiter = RateLimiter(clock=clock, sleep=clock.sleep)
    limiter.observe({"X-RateLimit-Remaining": "5", "X-RateLimit-Reset": str(clock.now + 30), "Retry-After": "2"}, 429)
    limiter.wait()
    assert clock.slept == pytest.approx([2.0])
    limiter.observe({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(clock.now + 30), "Retry-After": "30"}, 200)
    limiter.wait()
    assert clock.slept[-1] == pytest.approx(30.0)


def client(double, **kwargs):
    target = resolve_target(zenodo_url=double.api_url, environ={"ZENODO_SANDBOX_TOKEN": TOKEN})
    return LegacyClient(target, **kwargs)


def test_429_is_retried_after_at_least_retry_after():
    slept = []
    with ZenodoDouble(tokens={TOKEN}, faults=Faults(burst_every=2, burst_length=1)) as double:  # 2nd request: 429
        api = client(double, sleep=slept.append, limiter=RateLimiter(sleep=lambda s: None))
        api.list_depositions()
        api.list_depositions()
    assert api.stats["429"] == 1 and api.stats["retries"] == 1
    assert slept and slept[0] >= 1.0  # the burst said Retry-After: 1


def test_5xx_on_a_safe_request_is_retried_and_gives_up_clearly():
    with ZenodoDouble(tokens={TOKEN}, faults=Faults(error_share=1.0, seed=4)) as double:
        api = client(double, sleep=lambda s: None, max_attempts=3, limiter=RateLimiter(sleep=lambda s: None))
        with pytest.raises(TransportError) as caught:
            api.list_depositions()
    assert api.stats["requests"] == 3
    assert caught.value.status in (500, 502, 503)
    assert "\n" not in str(caught.value) and TOKEN not in str(caught.value)


def test_a_lost_publish_answer_is_not_repeated_by_the_client():
    with ZenodoDouble(tokens={TOKEN}, faults=Faults(publish_504_share=1.0)) as double:
        api = client(double, sleep=lambda s: None)
        with pytest.raises(TransportError) as caught:
            api.publish(12345)
    assert caught.value.status == 404 and api.stats["requests"] == 1  # unknown id: refused, not retried


# --------------------------------------------------------------------------- typed answers

REFERENCE = __import__("conftest").REPO.parent / "shared" / "zenodo-reference"


def _reference_body(name: str) -> dict:
    import json

    if not REFERENCE.is_dir():
        pytest.skip(f"Zenodo reference exchanges not present at {REFERENCE}")
    return json.loads((REFERENCE / name).read_text(encoding="utf-8"))["response"]["body"]


def test_real_sandbox_answers_read_as_typed_models():
    from archiver.zenodo.legacy_client import LegacyDeposition, LegacyUpload

    sandbox = LegacyClient(resolve_target(environ={"ZENODO_SANDBOX_TOKEN": TOKEN}))
    created = LegacyDeposition.model_validate(_reference_body("01-create-deposition.json"))
    assert created.id == 412011 and created.conceptrecid == "412010" and created.links.bucket
    with pytest.raises(TransportError, match="not published"):
        sandbox.minted(created)  # a draft has no DOI to register
    draft = LegacyDeposition.model_validate(_reference_body("03-get-deposition-with-files.json"))
    with pytest.raises(TransportError) as reserved:
        sandbox.minted(draft)  # a reserved DOI is not a registration
    assert draft.doi and reserved.value.code == "answer-mismatch"
    assert all(f.id and f.filename for f in draft.files)
    published = LegacyDeposition.model_validate(_reference_body("07-publish.json"))
    assert sandbox.minted(published).doi == "10.5072/zenodo.143439" and published.conceptdoi == "10.5072/zenodo.143438"
    assert published.links.html
    old_newversion = LegacyDeposition.model_validate(_reference_body("90-newversion-pre-2023-migration.json"))
    assert old_newversion.links.latest_draft
    uploaded = LegacyUpload.model_validate(_reference_body("02-bucket-upload.json"))
    assert uploaded.md5 == "cc624d72ede85ef061afa494d9951f6f"


def test_an_answer_without_what_archiver_reads_is_a_coded_error():
    with ZenodoDouble(tokens={TOKEN}) as double:
        api = client(double)
        with pytest.raises(TransportError) as refused:
            api._deposition(api.send("GET", "deposit/depositions", retry=True, expect=(200,)), "a list read as one")
    assert refused.value.code == "answer-invalid" and "at $, a list, where it should be an object" in refused.value.message
    assert "LegacyDeposition" not in refused.value.message  # archiver's words, not its model's name


def test_legacy_and_current_error_shapes_are_both_read():
    import json

    from requests.structures import CaseInsensitiveDict

    from archiver.zenodo.transport import Answer, error_message

    def answer(body):
        return Answer(400, CaseInsensitiveDict(), json.dumps(body).encode(), "https://example.org/api")

    current = error_message(answer({"message": "A validation error occurred.", "errors": [{"field": "metadata.license", "messages": ["Invalid license provided: x"]}]}))
    legacy = error_message(answer({"message": "Validation error.", "errors": [{"field": "metadata.creators.0.type", "message": "Unknown field name."}]}))
    assert current == ("A validation error occurred. | metadata.license: Invalid license provided: x", True)
    assert legacy == ("Validation error. | metadata.creators.0.type: Unknown field name.", True)
    assert error_message(Answer(400, CaseInsensitiveDict(), b"<html>", "u")) == ("HTTP 400 (the answer is not JSON)", False)
