"""manifest: a record's manifest is checked against the public contract and written under a safe name."""

from __future__ import annotations

import os
import stat

from archiver.manifest import build_manifest, manifest_filename, write_manifest
from archiver.model import Record
from conftest import base_manifest


def test_a_records_manifest_is_held_to_the_contract():
    record = Record.model_validate(base_manifest())
    manifest, findings = build_manifest(record)
    assert findings == [] and manifest == record.to_manifest()


def test_a_manifest_file_is_named_after_its_id_and_written_with_a_plain_files_mode(tmp_path):
    record = Record.model_validate(base_manifest())
    old = os.umask(0o022)
    try:
        path = write_manifest(tmp_path, record)
    finally:
        os.umask(old)
    assert path.name == manifest_filename(record.id) == "SRCH_0123ABCD.json"
    assert path.read_bytes() == record.manifest_bytes()
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
