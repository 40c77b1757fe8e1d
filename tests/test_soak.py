"""The short soak: faults on, SIGKILLs, restarts; every record registered once and agreeing with the server."""

from __future__ import annotations

import sys

import pytest

from conftest import REPO

sys.path.insert(0, str(REPO / "benchmarks"))
import soak

pytestmark = pytest.mark.e2e  # an end-to-end suite: `pytest -m 'not e2e'` runs the unit tests alone


@pytest.mark.slow
def test_short_soak_holds(tmp_path):
    figures = soak.soak(records=12, kills=3, seed=7, workdir=tmp_path)
    assert figures["final_exit_code"] == 0
    assert figures["records_registered"] == 12
    assert figures["duplicate_depositions"] == 0
    assert figures["manifests_disagreeing_with_server"] == 0
    assert figures["faults_injected"] > 0
