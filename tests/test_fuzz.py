"""A short run of the fuzzer (make fuzz runs the long one): no input may crash a reader, the
validator, the policy loader or the folder walk."""

from __future__ import annotations

import sys

import pytest

from conftest import REPO

sys.path.insert(0, str(REPO / "benchmarks"))
import fuzz

pytestmark = pytest.mark.e2e  # an end-to-end suite: `pytest -m 'not e2e'` runs the unit tests alone


@pytest.mark.slow
def test_short_fuzz_finds_no_crash():
    figures = fuzz.run(examples=150)
    assert figures["inputs_total"] >= 750
    assert figures["inputs_tried"]["walk"] == 150  # the folder walk: special files, links, deep JSON
    assert figures["crashes"] == 0, figures["first_crashes"]
    assert figures["distinct_code_paths"] > 500
