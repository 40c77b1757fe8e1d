"""policy: every bound at its edge, every guard on its own, the defaults as documented, and where the
loader looks, with the code and the place of each refusal.

Mutants left alive, equivalent: an unknown key one level deep looked up among the sub-tables too
(no top-level key is named "creators" or "repository" and unknown), and two close matches asked for
where only the first is said.
"""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from archiver.findings import ArchiverError
from archiver.policy import DEFAULT_POLICY, CreatorPolicy, Policy, format_score, load_policy
from archiver.zenodo import vocabularies


def _message(model=Policy, **values) -> str:
    """The one message a model refuses ``values`` with, whole (a pattern match would pass it with more around it)."""
    with pytest.raises(ValidationError) as caught:
        model(**values)
    [error] = caught.value.errors()
    return error["msg"]


@pytest.mark.parametrize(("value", "text"), [(5, "5.0"), (7.0, "7.0"), (7.83, "7.83"), (4.5, "4.5"), (10, "10.0"), (0.25, "0.25")])
def test_scores_are_written_as_the_pages_write_them(value, text):
    assert format_score(value) == text


def test_the_defaults_are_the_documented_ones():
    policy = Policy()
    assert (policy.quarantine_below, policy.doi_min_score, policy.doi_min_verified_claims) == (5.0, 7.0, 5)
    assert (policy.license, policy.publisher, policy.require_gate_verified) == ("cc-by-4.0", "Assignee Research", False)
    assert policy.keywords == ("machine-generated literature synthesis",)
    assert (policy.api, policy.languages, policy.communities, policy.creators) == ("deposit", ("eng",), (), ())
    assert (policy.record_url, policy.publisher_ror, dict(policy.minimum_dimensions)) == (None, None, {})
    assert policy == DEFAULT_POLICY


def test_a_policy_and_its_creators_cannot_be_changed_once_loaded():
    with pytest.raises(ValidationError):
        DEFAULT_POLICY.doi_min_score = 1.0  # type: ignore[misc]
    creator = CreatorPolicy(name="Doe, Jane")
    assert creator.type == "personal"
    with pytest.raises(ValidationError):
        creator.name = "Roe, Richard"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("field", "edge", "beyond"),
    [
        ("quarantine_below", 0.0, -0.01),
        ("doi_min_score", 10.0, 10.01),
        ("doi_min_verified_claims", 0, -1),
    ],
)
def test_each_number_at_its_edge_and_just_beyond(field, edge, beyond):
    others = {"quarantine_below": 0.0} if field == "doi_min_score" else {}
    if field == "quarantine_below":
        others = {"doi_min_score": 7.0}
    assert getattr(Policy(**{field: edge, **others}), field) == edge
    with pytest.raises(ValidationError):
        Policy(**{field: beyond, **others})


def test_the_upper_edge_of_the_quarantine_threshold_and_the_lower_edge_of_the_doi_score():
    assert Policy(quarantine_below=10.0, doi_min_score=10.0).quarantine_below == 10.0
    with pytest.raises(ValidationError):
        Policy(quarantine_below=10.01, doi_min_score=10.0)
    assert Policy(quarantine_below=0.0, doi_min_score=0.0).doi_min_score == 0.0
    with pytest.raises(ValidationError):
        Policy(quarantine_below=0.0, doi_min_score=-0.01)


def test_equal_thresholds_are_allowed_and_a_doi_score_below_quarantine_is_not():
    assert Policy(quarantine_below=6.0, doi_min_score=6.0).doi_min_score == 6.0
    with pytest.raises(ValidationError, match=r"doi_min_score \(5.9\) must not be below quarantine_below \(6.0\)"):
        Policy(quarantine_below=6.0, doi_min_score=5.9)


def test_a_claim_count_is_a_whole_number_never_text_or_a_fraction():
    for value in ("5", 5.0, True):
        with pytest.raises(ValidationError):
            Policy(doi_min_verified_claims=value)


def test_record_url_takes_https_or_http_with_the_id():
    assert Policy(record_url="http://example.org/r/{id}").record_page("SRCH:0123ABCD") == "http://example.org/r/SRCH:0123ABCD"
    assert Policy(record_url="https://example.org/r/{id}.html").record_page("SRCH:0123ABCD") == (
        "https://example.org/r/SRCH:0123ABCD.html")
    for bad in ("example.org/{id}", "https://example.org/r/", "HTTPS://example.org/{id}"):
        assert _message(record_url=bad) == f"Value error, record_url {bad!r} must be an http(s) URL holding {{id}}"


def test_a_licence_zenodo_does_not_list_is_refused_though_archiver_knows_it(monkeypatch):
    assert Policy(license="mit").license == "mit"
    monkeypatch.setattr(vocabularies, "is_license", lambda license_id: license_id != "mit")
    with pytest.raises(ValidationError, match="license 'mit' is not in Zenodo's licence vocabulary"):
        Policy(license="mit")
    assert _message(license="beerware") == (
        "Value error, license 'beerware' is not one of: apache-2.0, cc-by-4.0, cc-by-nc-4.0, cc-by-nc-nd-4.0, cc-by-nc-sa-4.0, "
        "cc-by-nd-4.0, cc-by-sa-4.0, cc-zero, cc0-1.0, mit, odbl-1.0, odc-by-1.0, pddl-1.0")


def test_languages_and_keywords_are_kept_as_given():
    policy = Policy(languages=("eng", "deu"), keywords=("synthesis", "mixture of experts"))
    assert policy.languages == ("eng", "deu")
    assert policy.keywords == ("synthesis", "mixture of experts")
    with pytest.raises(ValidationError, match="xx, yy not in Zenodo's language vocabulary"):
        Policy(languages=("eng", "xx", "yy"))
    with pytest.raises(ValidationError, match=" SRCH:0123ABCD , SRCH:89ABCDEF is a record id"):
        Policy(keywords=("ok", " SRCH:0123ABCD ", "SRCH:89ABCDEF"))


def test_minimum_dimensions_name_known_dimensions_only():
    assert Policy(minimum_dimensions={"reproducibility_status": "HIGH"}).minimum_dimensions["reproducibility_status"] == "HIGH"
    with pytest.raises(ValidationError, match="unknown dimensions: brilliance, charm"):
        Policy(minimum_dimensions={"charm": "LOW", "brilliance": "HIGH"})


def test_ror_ids_and_community_slugs_have_their_forms():
    assert Policy(publisher_ror="05gq02987").publisher_ror == "05gq02987"
    for bad in ("15gq02987", "05gq0298", "05gq029877", "05GQ02987", "05gq0298a"):
        with pytest.raises(ValidationError):
            Policy(publisher_ror=bad)
    assert Policy(communities=("my-community_1", "a")).communities == ("my-community_1", "a")
    for bad in ("-lead", "Upper", "", "a" * 101, "with space"):
        with pytest.raises(ValidationError):
            Policy(communities=(bad,))
    assert Policy(communities=("a" * 100,)).communities == ("a" * 100,)


def test_a_person_and_an_organisation_each_carry_their_own_identifier():
    person = CreatorPolicy(name="Carberry, Josiah", orcid="0000-0002-1825-0097", affiliation="Brown", affiliation_ror="05gq02987")
    assert (person.type, person.orcid, person.affiliation_ror) == ("personal", "0000-0002-1825-0097", "05gq02987")
    assert CreatorPolicy(name="Assignee Research", type="organizational", ror="05gq02987").ror == "05gq02987"
    assert _message(CreatorPolicy, name="Carberry, Josiah", ror="05gq02987") == (
        "Value error, a person has no ROR id (affiliation_ror names the affiliation's)")
    assert _message(CreatorPolicy, name="Assignee Research", type="organizational", orcid="0000-0002-1825-0097") == (
        "Value error, an organisation has no ORCID")
    with pytest.raises(ValidationError, match=r"ORCID 0000-0002-1825-0098 fails its check digit \(ISO 7064 mod 11-2\)"):
        CreatorPolicy(name="Carberry, Josiah", orcid="0000-0002-1825-0098")
    with pytest.raises(ValidationError):
        CreatorPolicy(name="")
    with pytest.raises(ValidationError):
        CreatorPolicy(name="Doe, Jane", affiliation="")


# ------------------------------------------------------------------------- the loader

def _refusal(path, start=None) -> ArchiverError:
    with pytest.raises(ArchiverError) as caught:
        load_policy(path, **({"start": start} if start else {}))
    return caught.value


def test_a_refused_value_names_the_file_the_place_and_the_code(tmp_path):
    path = tmp_path / "archiver.toml"
    path.write_text("doi_min_score = 4.0\n")
    error = _refusal(path)
    assert error.code == "policy-invalid"
    assert error.message.endswith(f"{path}:$: Value error, doi_min_score (4.0) must not be below quarantine_below (5.0)")
    path.write_text("doi_min_score = 11\n")
    assert f"{path}:$.doi_min_score: Input should be less than or equal to 10" in str(_refusal(path))


def test_the_loader_looks_in_the_current_folder_by_default(tmp_path, monkeypatch):
    (tmp_path / "archiver.toml").write_text("doi_min_verified_claims = 2\n")
    monkeypatch.chdir(tmp_path)
    policy, origin = load_policy()
    assert policy.doi_min_verified_claims == 2 and origin == "archiver.toml"


def test_archiver_toml_wins_over_pyproject(tmp_path):
    (tmp_path / "archiver.toml").write_text("doi_min_verified_claims = 2\n")
    (tmp_path / "pyproject.toml").write_text("[tool.archiver]\ndoi_min_verified_claims = 3\n")
    policy, origin = load_policy(start=tmp_path)
    assert policy.doi_min_verified_claims == 2 and origin == str(tmp_path / "archiver.toml")


def test_an_archiver_toml_may_hold_only_a_tool_archiver_table(tmp_path):
    path = tmp_path / "archiver.toml"
    path.write_text("[tool.archiver]\ndoi_min_verified_claims = 4\n")
    policy, origin = load_policy(start=tmp_path)
    assert policy.doi_min_verified_claims == 4 and origin == str(path)
    path.write_text("[tool.archiver]\ncolour = 1\n")
    error = _refusal(path)
    assert error.code == "policy-invalid" and f"{path}[tool.archiver]:$.colour:" in str(error)


def test_a_tool_table_without_archiver_is_missing_when_named_and_passed_over_when_found(tmp_path):
    path = tmp_path / "archiver.toml"
    path.write_text("[tool.other]\nx = 1\n")
    error = _refusal(path)
    assert (error.code, error.message.endswith(f"{path}: has no [tool.archiver] table")) == ("policy-missing", True)
    (tmp_path / "pyproject.toml").write_text("[tool.archiver]\ndoi_min_verified_claims = 3\n")
    policy, origin = load_policy(start=tmp_path)  # archiver.toml says nothing of archiver: pyproject.toml does
    assert policy.doi_min_verified_claims == 3 and origin == str(tmp_path / "pyproject.toml")


def test_a_tool_archiver_that_is_not_a_table_is_invalid(tmp_path):
    path = tmp_path / "pyproject.toml"
    path.write_text('[tool]\narchiver = "strict"\n')
    error = _refusal(path)
    assert error.code == "policy-invalid" and error.message.endswith(f"{path}: tool.archiver must be a table")


def test_files_the_loader_cannot_read(tmp_path):
    missing = _refusal(tmp_path / "nope.toml")
    assert (missing.code, missing.message.endswith(f"{tmp_path / 'nope.toml'}: no such policy file")) == ("policy-missing", True)
    broken = tmp_path / "broken.toml"
    broken.write_text("doi_min_score = \n")
    error = _refusal(broken)
    assert error.code == "policy-invalid" and f"{broken}: not valid TOML: " in str(error)
    latin = tmp_path / "latin.toml"
    latin.write_bytes('publisher = "Universit\xe9"\n'.encode("latin-1"))
    error = _refusal(latin)
    assert error.code == "policy-invalid" and f"{latin}: not valid TOML: " in str(error)


# ---------------------------------------------------------------------------- another InvenioRDM repository ([repository])

from archiver.policy import RepositoryPolicy  # noqa: E402

TUWIEN = {"url": "https://researchdata.tuwien.ac.at/api", "doi_prefix": "10.48436", "token_variable": "TUWIEN_TOKEN"}


def test_a_repository_table_implies_the_records_api_and_names_the_repository():
    policy = Policy.model_validate({"repository": TUWIEN})
    assert policy.api == "records" and policy.repository == RepositoryPolicy(**TUWIEN)
    assert policy.repository_name == "researchdata.tuwien.ac.at" and DEFAULT_POLICY.repository_name == "Zenodo"
    assert Policy.model_validate({"repository": TUWIEN, "api": "records"}).api == "records"
    with pytest.raises(ValidationError, match="Zenodo's legacy API"):
        Policy.model_validate({"repository": TUWIEN, "api": "deposit"})
    assert Policy.model_validate({"repository": None}).api == "deposit"


@pytest.mark.parametrize(("key", "value", "words"), [
    ("url", "https://zenodo.org/api", "is Zenodo"),
    ("url", "https://SANDBOX.zenodo.org./api", "is Zenodo"),
    ("url", "https://repo.example.org/api?x=1", "pattern"),
    ("url", "ftp://repo.example.org/api", "pattern"),
    ("url", "https://user@repo.example.org/api", "pattern"),
    ("doi_prefix", "10.5281", "Zenodo's DOI prefix"),
    ("doi_prefix", "10.48436/", "pattern"),
    ("doi_prefix", "11.48436", "pattern"),
    ("token_variable", "ZENODO_TOKEN", "holds a Zenodo token"),
    ("token_variable", "ZENODO_SANDBOX_TOKEN", "holds a Zenodo token"),
    ("token_variable", "1TOKEN", "pattern"),
    ("token_variable", "MY-TOKEN", "pattern"),
])
def test_a_repository_table_refuses_what_would_reach_zenodo_or_is_no_such_thing(key, value, words):
    with pytest.raises(ValidationError, match=words):
        RepositoryPolicy.model_validate({**TUWIEN, key: value})


@pytest.mark.parametrize(("key", "value"), [("url", "http://127.0.0.1:8765/api"), ("doi_prefix", "10.5072"), ("token_variable", "_T9")])
def test_a_repository_table_takes_a_local_server_datacites_test_prefix_and_any_variable_name(key, value):
    assert getattr(RepositoryPolicy.model_validate({**TUWIEN, key: value}), key) == value


def test_an_unknown_key_of_the_repository_table_is_named_with_the_closest_known(tmp_path):
    path = tmp_path / "archiver.toml"
    path.write_text('[repository]\nurl = "https://researchdata.tuwien.ac.at/api"\ndoi_prefix = "10.48436"\ntoken_variable = "T"\ntoken = "x"\n')
    with pytest.raises(ArchiverError, match=r"\$\.repository\.token: unknown setting 'token'; known: url, doi_prefix, token_variable"):
        load_policy(path)


def test_the_repository_table_cannot_be_changed_once_loaded_and_artifacts_are_not_waived_by_default():
    named = RepositoryPolicy(**TUWIEN)
    with pytest.raises(ValidationError):
        named.url = "https://elsewhere.example.org/api"  # type: ignore[misc]
    assert DEFAULT_POLICY.deposit_without_artifact is False and DEFAULT_POLICY.artifacts is None


def test_a_pyproject_names_the_repository_in_tool_archiver_repository(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n[tool.archiver.repository]\nurl = "https://researchdata.tuwien.ac.at/api"\n'
                                             'doi_prefix = "10.48436"\ntoken_variable = "TUWIEN_TOKEN"\n')
    policy, source = load_policy(start=tmp_path)
    assert source.endswith("pyproject.toml") and policy.api == "records" and policy.repository == RepositoryPolicy(**TUWIEN)
