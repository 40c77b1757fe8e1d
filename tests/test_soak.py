"""The short soak: faults on, SIGKILLs, a lost ledger, a second folder at once; one DOI per record, in both
folders; then every record's metadata updated in place the same way."""

from __future__ import annotations

import sys

import pytest

from conftest import REPO

sys.path.insert(0, str(REPO / "benchmarks"))
import soak

pytestmark = pytest.mark.e2e  # an end-to-end suite: `pytest -m 'not e2e'` runs the unit tests alone


@pytest.mark.slow
@pytest.mark.parametrize("api", ["deposit", "records", "repository"])
def test_short_soak_holds(tmp_path, api):
    figures = soak.soak(records=12, kills=3, seed=7, workdir=tmp_path, lose_ledger_every=2, api=api)
    assert figures["api"] == api
    assert figures["final_exit_codes"] == [0]
    assert figures["records_registered"] == 12  # in both folders
    assert figures["duplicate_dois"] == 0
    assert figures["drafts_left_open"] == 0
    assert figures["manifests_disagreeing_with_server"] == 0
    assert figures["faults_injected"] > 0 and figures["ledgers_lost"] >= 1
    # then the metadata updated in place, under the same faults and kills
    assert figures["published_with_the_new_metadata"] == 12
    assert figures["edits_left_open"] == 0 and figures["new_versions"] == 0
    assert figures["edits_published"] >= 12
