"""archiver: research-synthesis records to validated manifests, data packages and Zenodo DOIs.

The Python API (see archiver.api): ``read_records``, ``validate``, ``assess``, ``export_records``,
``plan_deposit``, ``deposit_records`` and ``load_policy``, with the typed results they return. They load on first use, so
that ``import archiver`` (and the pre-commit hook's ``archiver validate``) stays light.
"""

from __future__ import annotations

from archiver.version import __version__ as __version__

__all__ = ["ArchiverError", "Finding", "assess", "deposit_records", "export_records", "load_policy", "plan_deposit", "read_records",
           "validate"]


def __getattr__(name: str):
    if name in ("assess", "deposit_records", "export_records", "load_policy", "plan_deposit", "read_records", "validate"):
        from archiver import api

        return getattr(api, name)
    if name in ("ArchiverError", "Finding"):
        from archiver import findings

        return getattr(findings, name)
    raise AttributeError(f"module 'archiver' has no attribute {name!r}")
