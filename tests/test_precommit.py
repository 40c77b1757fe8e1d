"""The validate-manifests hook, run through real `pre-commit try-repo` on a scratch repository."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import REPO, base_manifest
from installing import offline_pip_env

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def _try_repo(scratch: Path, home: Path, *files: str) -> subprocess.CompletedProcess:
    env = offline_pip_env(PRE_COMMIT_HOME=str(home))
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(REPO), "validate-manifests", "--files", *files],
        cwd=scratch,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_hook_definition_points_at_archiver_validate():
    (hook,) = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "validate-manifests"
    assert hook["entry"] == "archiver validate"
    import re

    pattern = re.compile(hook["files"])
    assert pattern.search("exports/examples/manifests/SRCH_0123ABCD.json")
    assert pattern.search("paper-manifest.json")
    assert not pattern.search("package.json")


def test_pre_commit_try_repo_passes_good_and_fails_bad_manifest(tmp_path):
    scratch = tmp_path / "scratch"
    (scratch / "manifests").mkdir(parents=True)
    _git(scratch, "init", "-q")
    _git(scratch, "config", "user.email", "t@example.invalid")
    _git(scratch, "config", "user.name", "test")
    good = base_manifest()
    bad = base_manifest()
    bad["review_score"] = 12.4
    (scratch / "manifests" / "good.json").write_text(json.dumps(good))
    (scratch / "manifests" / "bad.json").write_text(json.dumps(bad))
    _git(scratch, "add", "-A")
    home = tmp_path / "pre-commit-home"

    passed = _try_repo(scratch, home, "manifests/good.json")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "Passed" in passed.stdout

    failed = _try_repo(scratch, home, "manifests/good.json", "manifests/bad.json")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "Failed" in failed.stdout
    assert "manifests/bad.json:$.review_score: 12.4 is greater than the maximum of 10 [range]" in failed.stdout


def _without_archiver_on_path() -> dict[str, str]:
    """PATH as a fresh shell has it: no virtualenv of archiver's on it."""
    import os

    venv_bin = str(Path(sys.executable).parent)
    return {"PATH": os.pathsep.join(part for part in os.environ["PATH"].split(os.pathsep) if part != venv_bin)}


def _scratch_with_bad_manifest(tmp_path: Path, config: str) -> Path:
    scratch = tmp_path / "scratch"
    (scratch / "manifests").mkdir(parents=True)
    _git(scratch, "init", "-q")
    (scratch / ".pre-commit-config.yaml").write_text(config)
    bad = base_manifest()
    bad["review_score"] = 12.4
    (scratch / "manifests" / "bad.json").write_text(json.dumps(bad))
    _git(scratch, "add", "-A")
    return scratch


def _readme_snippet(start: str) -> str:
    import re

    readme = (REPO / "README.md").read_text()
    return re.search(r"```yaml\n(repos:\n  - repo: " + re.escape(start) + r".*?)```", readme, re.S).group(1)


def test_the_readmes_published_snippet_installs_archiver_itself(tmp_path):
    """The README's snippet with its URL pointing at this checkout (as a published copy would be),
    run by pre-commit on a fresh repository whose PATH has no archiver: pre-commit installs it."""
    snippet = _readme_snippet("https://")
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True).stdout.strip()
    config = yaml.safe_load(snippet)
    config["repos"][0].update(repo=str(REPO), rev=commit)
    scratch = _scratch_with_bad_manifest(tmp_path, yaml.safe_dump(config))
    env = offline_pip_env(PRE_COMMIT_HOME=str(tmp_path / "home"), **_without_archiver_on_path())
    run = subprocess.run([sys.executable, "-m", "pre_commit", "run", "--all-files"], cwd=scratch, env=env,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 1 and "manifests/bad.json:$.review_score: 12.4 is greater than the maximum of 10 [range]" in run.stdout, run.stdout + run.stderr


def test_the_readmes_local_snippet_works_in_a_checkout_without_path(tmp_path):
    """The README's `repo: local` configuration, copied as it stands, in a checkout with its
    virtualenv (.venv, as `make install` makes it) and no archiver on PATH."""
    snippet = _readme_snippet("local")
    hooks = yaml.safe_load(snippet)["repos"][0]["hooks"]
    (hook,) = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    assert hooks[0]["files"] == hook["files"] and hooks[0]["entry"] == ".venv/bin/" + hook["entry"]  # one hook, said twice alike
    scratch = _scratch_with_bad_manifest(tmp_path, snippet)
    (scratch / ".venv").symlink_to(Path(sys.executable).parent.parent)  # the checkout's own virtualenv
    env = offline_pip_env(PRE_COMMIT_HOME=str(tmp_path / "home"), **_without_archiver_on_path())
    run = subprocess.run([sys.executable, "-m", "pre_commit", "run", "--all-files"], cwd=scratch, env=env,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 1 and "manifests/bad.json:$.review_score: 12.4 is greater than the maximum of 10 [range]" in run.stdout, run.stdout + run.stderr
