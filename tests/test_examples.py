"""The examples run as written: the commented policy file loads as the defaults and names every
setting; the GitHub Actions workflow is valid against GitHub's workflow schema (check-jsonschema's
vendored copy), deposits to the sandbox unless told, takes its token from a secret and keeps the
export as an artifact."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

from archiver.policy import DEFAULT_POLICY, Policy, load_policy
from conftest import REPO

EXAMPLES_DIR = REPO / "examples"


def test_the_example_policy_loads_as_the_defaults_and_comments_every_setting():
    policy, source = load_policy(EXAMPLES_DIR / "archiver.toml")
    assert source.endswith("archiver.toml") and policy == DEFAULT_POLICY
    lines = (EXAMPLES_DIR / "archiver.toml").read_text().splitlines()
    for name in Policy.model_fields:
        at = next((i for i, line in enumerate(lines) if re.match(rf"#?\s*{name} = ", line)), None)
        assert at is not None, f"{name} is not in examples/archiver.toml"
        assert lines[at - 1].startswith("#"), f"{name} has no comment before it"


def test_the_example_workflow_is_valid_and_safe_by_default():
    workflow = EXAMPLES_DIR / "github-actions-deposit.yml"
    checked = subprocess.run([str(Path(sys.executable).parent / "check-jsonschema"), "--builtin-schema", "vendor.github-workflows",
                              str(workflow)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    document = yaml.safe_load(workflow.read_text())
    triggers = document[True]  # YAML 1.1 reads the key `on` as true
    assert "schedule" in triggers and triggers["workflow_dispatch"]["inputs"]["production"]["default"] is False
    steps = document["jobs"]["archive"]["steps"]
    deposit = next(step for step in steps if step.get("name") == "Deposit")
    assert deposit["env"]["ZENODO_SANDBOX_TOKEN"] == "${{ secrets.ZENODO_SANDBOX_TOKEN }}"
    assert "--production" in deposit["run"] and "inputs.production" in deposit["run"]  # only when ticked
    kept = next(step for step in steps if step.get("uses", "").startswith("actions/upload-artifact"))
    assert kept["with"]["path"] == "export" and kept["if"] == "always()"
