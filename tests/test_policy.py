"""The eligibility policy: defaults that agree with the seed pages, and TOML configuration."""

from __future__ import annotations

import pytest

from archiver.eligibility import compute_tier
from archiver.findings import ArchiverError
from archiver.policy import DEFAULT_POLICY, load_policy
from archiver.readers import read_records


def test_default_policy_agrees_with_every_seed_page(seed_dir):
    checked = 0
    for result in read_records([str(seed_dir)]):
        raw = result.raw
        decision = compute_tier(raw.get("review_score"), raw["verification"]["source_grounded_claims"], DEFAULT_POLICY)
        if decision.tier is not None:
            assert decision.tier == result.declared_tier, result.source
            checked += 1
        else:
            assert raw.get("review_score") is None  # only a missing score leaves the tier unknown
    assert checked == 3  # 000, 002, 003 carry a score; 001 and 004 do not


@pytest.mark.parametrize(
    ("score", "claims", "tier"),
    [
        (4.99, 20, "Quarantine candidate"),
        (5.0, 20, "Watchlist"),
        (6.99, 20, "Watchlist"),
        (7.0, 4, "Watchlist"),
        (7.0, 5, "DOI grade"),
        (None, 50, None),
    ],
)
def test_threshold_edges(score, claims, tier):
    assert compute_tier(score, claims, DEFAULT_POLICY).tier == tier


def test_policy_from_archiver_toml(tmp_path):
    (tmp_path / "archiver.toml").write_text('doi_min_score = 8.0\ndoi_min_verified_claims = 3\nlicense = "cc0-1.0"\n')
    policy, origin = load_policy(start=tmp_path)
    assert (policy.doi_min_score, policy.doi_min_verified_claims, policy.license) == (8.0, 3, "cc0-1.0")
    assert origin.endswith("archiver.toml")


def test_policy_from_pyproject_tool_table(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n[tool.archiver]\nquarantine_below = 4.0\n')
    policy, origin = load_policy(start=tmp_path)
    assert policy.quarantine_below == 4.0
    assert origin.endswith("pyproject.toml")


def test_creators_and_record_url_from_toml(tmp_path):
    (tmp_path / "archiver.toml").write_text(
        'record_url = "https://example.org/records/{id}"\n'
        '[[creators]]\nname = "Doe, Jane"\norcid = "0000-0002-1825-0097"\naffiliation = "Assignee Research"\n'
    )
    policy, _origin = load_policy(start=tmp_path)
    assert policy.record_page("SRCH:0123ABCD") == "https://example.org/records/SRCH:0123ABCD"
    assert [c.name for c in policy.creators] == ["Doe, Jane"]
    assert DEFAULT_POLICY.record_page("SRCH:0123ABCD") is None and DEFAULT_POLICY.creators == ()


def test_no_config_means_defaults(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    assert load_policy(start=tmp_path) == (DEFAULT_POLICY, "defaults")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("doi_min_score = 11\n", "$.doi_min_score"),
        ('doi_min_score = "high"\n', "$.doi_min_score"),
        ("doi_min_verified_claims = -1\n", "$.doi_min_verified_claims"),
        ("doi_min_score = 4.0\n", "must not be below quarantine_below"),
        ('license = "all-rights-reserved"\n', "license 'all-rights-reserved' is not one of"),
        ("colour = 1\n", "$.colour"),
        ('minimum_dimensions = {brilliance = "HIGH"}\n', "unknown dimensions: brilliance"),
        ("doi_min_score = \n", "not valid TOML"),
        ('record_url = "https://example.org/records/"\n', "must be an http(s) URL holding {id}"),
        ('record_url = "ftp://example.org/{id}"\n', "must be an http(s) URL holding {id}"),
        ('creators = [{name = "Doe, Jane", orcid = "0000-0002"}]\n', "$.creators[0].orcid"),
        ('creators = [{name = "Doe, Jane", type = "group"}]\n', "$.creators[0].type"),
        ('creators = [{name = "Carberry, Josiah", orcid = "0000-0002-1825-0098"}]\n', "fails its check digit"),
        ('creators = [{name = "Assignee Research", type = "organizational", orcid = "0000-0002-1825-0097"}]\n', "an organisation has no ORCID"),
        ('languages = ["en"]\n', "$.languages: Value error, en not in Zenodo's language vocabulary"),
        ('api = "graphql"\n', "$.api"),
        ('keywords = ["SRCH:4A7C19E2"]\n', "$.keywords"),
        ('publisher = "AR"\n', "$.publisher"),
        ('languages = []\n', "$.languages"),
        ('communities = ["Not A Slug"]\n', "$.communities[0]"),
        # each kind of value said in the file's words, and a misspelt key named with the closest known one
        ('doi_min_score = "7"\n', "$.doi_min_score: must be a number (7.5, without quotes), not text '7'"),
        ("doi_min_verified_claims = 5.5\n", "$.doi_min_verified_claims: must be a whole number (5, without quotes), not a number 5.5"),
        ('require_gate_verified = "yes"\n', "$.require_gate_verified: must be true or false (without quotes), not text 'yes'"),
        ("license = 4\n", "$.license: must be text in quotes, not a whole number 4"),
        ("publisher = true\n", "$.publisher: must be text in quotes, not a boolean True"),
        ("publisher = [1]\n", "$.publisher: must be text in quotes, not a list [1]"),
        ("publisher = {a = 1}\n", "$.publisher: must be text in quotes, not a table {'a': 1}"),
        ("doi_min_scor = 7.5\n", "$.doi_min_scor: unknown setting 'doi_min_scor'; did you mean 'doi_min_score'?"),
        ("zzzz = 1\n", "$.zzzz: unknown setting 'zzzz'; known: quarantine_below, doi_min_score,"),
        ('[[creators]]\nname = "Doe, Jane"\norcd = "0000-0002-1825-0097"\n', "$.creators[0].orcd: unknown setting 'orcd'; did you mean 'orcid'?"),
        ('[repository]\nurll = "x"\n', "$.repository.urll: unknown setting 'urll'; did you mean 'url'?"),
    ],
)
def test_bad_policy_values_give_one_clear_error(tmp_path, text, fragment):
    path = tmp_path / "archiver.toml"
    path.write_text(text)
    with pytest.raises(ArchiverError) as caught:
        load_policy(path)
    message = str(caught.value)
    assert str(path) in message
    assert fragment in message and message.endswith("[policy-invalid]")
    assert "\n" not in message


def test_missing_explicit_config_is_an_error(tmp_path):
    with pytest.raises(ArchiverError, match="no such policy file"):
        load_policy(tmp_path / "nope.toml")


@pytest.mark.parametrize("text", ["tool = 1\n", 'tool = "x"\n', "[tool]\narchiver = 3\n"])
def test_tool_tables_of_the_wrong_type_are_clear_errors(tmp_path, text):
    path = tmp_path / "archiver.toml"
    path.write_text(text)
    with pytest.raises(ArchiverError):
        load_policy(path)
