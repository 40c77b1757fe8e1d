"""The built wheel carries the schemas: install it in a fresh venv and validate a manifest with it."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile

import pytest

from conftest import REPO, base_manifest
from installing import offline_pip_env, venv_bin

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_built_wheel_validates_manifests_in_a_fresh_venv(tmp_path):
    env = offline_pip_env()
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(REPO)],
        env=env, check=True, capture_output=True, timeout=600,
    )
    (wheel,) = dist.glob("archiver-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for schema in ("paper-manifest-v1.1", "correction-record-v1", "source-provenance-v1"):
        assert f"archiver/schemas/{schema}.schema.json" in names
    for vocabulary in ("licenses", "languages", "resource_types", "relation_types", "description_types", "identifier_schemes"):
        assert f"archiver/zenodo/vocabulary_data/{vocabulary}.json" in names  # Zenodo's vocabularies, checked before sending

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    subprocess.run([venv_bin(venv, "pip"), "install", "--quiet", str(wheel)], env=env, check=True, timeout=600)

    work = tmp_path / "work"  # far from the source tree, so only the packaged schemas can be found
    work.mkdir()
    (work / "good.json").write_text(json.dumps(base_manifest()))
    bad = base_manifest()
    del bad["provenance"]["publisher"]
    (work / "bad.json").write_text(json.dumps(bad))
    where = subprocess.run(
        [venv_bin(venv, "python"), "-c", "import archiver.validation as v; print(v.schema_dir())"],
        cwd=work, capture_output=True, text=True, check=True,
    )
    assert str(venv) in where.stdout
    good = subprocess.run([venv_bin(venv, "archiver"), "validate", "good.json"], cwd=work, capture_output=True, text=True)
    assert good.returncode == 0, good.stderr
    bad_run = subprocess.run([venv_bin(venv, "archiver"), "validate", "bad.json"], cwd=work, capture_output=True, text=True)
    assert bad_run.returncode == 1
    assert "bad.json:$.provenance: \"publisher\" is a required property [required]" in bad_run.stdout
    api = subprocess.run(
        [venv_bin(venv, "python"), "-c",
         "import archiver; print([r.valid for r in archiver.validate(['good.json', 'bad.json'])], "
         "[r.record_id for r in archiver.read_records(['good.json'])])"],
        cwd=work, capture_output=True, text=True,
    )
    assert api.returncode == 0, api.stderr
    assert api.stdout.strip() == "[True, False] ['SRCH:0123ABCD']"  # the Python API, from the installed wheel


def test_the_readmes_python_example_runs_as_written_from_the_built_wheel(tmp_path):
    """The README's example, copied as it stands, unguarded, from a script and as a notebook runs
    it (no file), in a folder with pages/ large enough for worker processes, with no token: the
    workers never run the caller's code again, and nothing is sent."""
    import os
    import re
    import shutil

    env = offline_pip_env()
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(REPO)], env=env, check=True,
                   capture_output=True, timeout=600)
    (wheel,) = dist.glob("archiver-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    subprocess.run([venv_bin(venv, "pip"), "install", "--quiet", str(wheel)], env=env, check=True, timeout=600)
    example = re.search(r"## Python API.*?```python\n(.*?)```", (REPO / "README.md").read_text(), re.S).group(1)
    clean = {key: value for key, value in os.environ.items() if not key.startswith("ZENODO")}
    for how in ("script", "notebook"):
        work = tmp_path / how
        shutil.copytree(REPO / "examples" / "records", work / "pages")
        with (work / "pages" / "batch.jsonl").open("w") as handle:  # more than one chunk: the export starts workers
            for index in range(600):
                handle.write(json.dumps({**base_manifest(), "id": f"SRCH:{index:08X}"}) + "\n")
        (work / "example.py").write_text("print('the caller ran')\n" + example)
        command = [venv_bin(venv, "python"), "example.py"] if how == "script" else \
            [venv_bin(venv, "python"), "-c", "exec(compile(open('example.py').read(), '<cell>', 'exec'))"]
        run = subprocess.run(command, cwd=work, env=clean, capture_output=True, text=True, timeout=600)
        assert run.returncode == 0, run.stderr
        assert run.stdout.count("the caller ran") == 1, run.stdout  # not again in a worker
        assert "records would be deposited; see exports/today/plan.json" in run.stdout
        assert "Traceback" not in run.stderr and "another archiver process" not in run.stderr
        assert (work / "exports" / "today" / "plan.html").is_file()
