"""What the ledger's rows say beyond one record's steps: whose server an export's deposits went to,
and what a refresh writes of each registered record into the export's package and reports."""

from __future__ import annotations

from typing import NamedTuple

from archiver.deposit.ledger import Ledger
from archiver.findings import ArchiverError
from archiver.model import DepositionId


def check_server(ledger: Ledger, environment: str, api_url: str) -> None:
    """Refuse a ledger whose deposits in this environment went to another server (a trial against
    the local double, then the real sandbox): its DOIs are not that server's, and the run would
    skip records as registered that it never deposited there. Deposits to another InvenioRDM
    repository and to Zenodo never share an export either way, for the same reason."""
    zenodo = ("sandbox", "production")
    elsewhere = sorted(f"{place} ({', '.join(sorted(servers))})" for place, servers in ledger.places(with_doi=True).items()
                       if place != environment and not (place in zenodo and environment in zenodo))
    if elsewhere:
        this = f"Zenodo's {environment}" if environment in zenodo else f"the repository {environment}"
        if environment in zenodo and any(api_url.rstrip("/") in item for item in elsewhere):
            this += ", as a server reached without the policy's [repository] is taken to be"
        raise ArchiverError(
            f"{ledger.path}: this export's deposits were published in {', '.join(elsewhere)}, and this run deposits to {this} "
            f"({api_url}): its manifests carry the other's DOIs. To go on there, name it as before (a policy's [repository] for "
            "another InvenioRDM repository, none for Zenodo); for this one, export the records again into a new folder",
            code="ledger-other-server",
        )
    others = sorted(server for server in ledger.servers(environment) if server.removesuffix("/") != api_url.removesuffix("/"))
    if others:
        raise ArchiverError(
            f"{ledger.path}: this export's {environment} deposits went to {', '.join(others)}, not {api_url}: its manifests "
            f"carry that server's DOIs. To go on with that server, pass --zenodo-url {others[0]}; for this one, export the "
            "records again into a new folder",
            code="ledger-other-server",
        )


class RegisteredDoi(NamedTuple):
    """What a refresh of the export writes of one registered record."""

    doi: str
    concept_doi: str | None
    correction_hash: str | None
    published_version: str | None
    deposition_id: DepositionId | None
    environment: str  # Zenodo's sandbox or production, or another repository's origin


RegisteredDois = dict[str, RegisteredDoi]


def registered_dois(ledger: Ledger, environment: str) -> RegisteredDois:
    """What a refresh of the export needs of every record registered in ``environment`` (the
    latest version's DOI, concept DOI and deposited correction record)."""
    out: RegisteredDois = {}
    for row in ledger.all(environment):  # ordered by version: the latest registration is kept
        if row.state == "registered" and row.doi:
            out[row.record_id] = RegisteredDoi(row.doi, row.concept_doi, row.correction_hash, row.published_version,
                                               row.deposition_id, row.environment)
    return out
