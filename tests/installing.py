"""Helpers for tests that install archiver afresh, offline, from the Makefile's wheelhouse."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from conftest import REPO

# The wheelhouse of the virtualenv running the tests (`make test` builds it there): its wheels are
# for this Python (a run with VENV=.venv313 needs cp313 wheels, not the default venv's).
WHEELHOUSE = Path(sys.prefix) / "wheelhouse" if (Path(sys.prefix) / "wheelhouse").is_dir() else REPO / ".venv" / "wheelhouse"


def offline_pip_env(**extra: str) -> dict[str, str]:
    """Environment that makes pip install only from the local wheelhouse (no index, no network)."""
    if not any(WHEELHOUSE.glob("hatchling-*.whl")):
        pytest.fail(f"no wheelhouse at {WHEELHOUSE}: run `make install` (make test does it)")
    env = dict(os.environ)
    env.update(PIP_NO_INDEX="1", PIP_FIND_LINKS=str(WHEELHOUSE), PIP_DISABLE_PIP_VERSION_CHECK="1", **extra)
    return env


def venv_bin(venv: Path, name: str) -> str:
    return str(venv / "bin" / name)
