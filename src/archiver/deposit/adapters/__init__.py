"""The adapters, one per API, and the one place that picks one: by the policy's ``api`` setting."""

from __future__ import annotations

from archiver.deposit.adapters.legacy import LegacyDeposits
from archiver.deposit.adapters.records import RecordDeposits
from archiver.deposit.port import DepositPort
from archiver.zenodo.legacy_client import LegacyClient
from archiver.zenodo.records_client import RecordsClient
from archiver.zenodo.target import Target

# The API names the policy setting ``api`` takes; the ledger records which one made a row.
ADAPTERS: dict[str, type[LegacyDeposits] | type[RecordDeposits]] = {LegacyDeposits.name: LegacyDeposits, RecordDeposits.name: RecordDeposits}


def adapter_class(name: str) -> type[LegacyDeposits] | type[RecordDeposits]:
    """The adapter of the API ``name``: what it can do and what it sends, without a client (for a plan)."""
    return ADAPTERS[name]


def open_port(name: str, target: Target, **client_options: object) -> DepositPort:
    """The port of the API ``name`` ("deposit" or "records", the policy's ``api``) over a new client for ``target``."""
    adapter = ADAPTERS[name]
    return adapter(adapter.client_class(target, **client_options))  # type: ignore[arg-type]


def port_for(client: DepositPort | LegacyClient | RecordsClient) -> DepositPort:
    """The port over a client (tests and benchmarks build clients of their own); a port is returned as it is."""
    if isinstance(client, LegacyClient):
        return LegacyDeposits(client)
    if isinstance(client, RecordsClient):
        return RecordDeposits(client)
    return client
