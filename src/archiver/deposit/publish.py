"""Stage 4: a draft that passed the check is published (or submitted to its community's review),
read back, and its DOI registered in the manifest."""

from __future__ import annotations

from archiver.deposit import steps
from archiver.deposit.context import DepositRun, Job
from archiver.deposit.errors import RemoteError
from archiver.deposit.protocol import delete_rivals, published_meanwhile
from archiver.deposit.results import RecordResult
from archiver.deposit.review import follow_review
from archiver.findings import ArchiverError
from archiver.model import DepositionId


def publish(run: DepositRun, job: Job) -> None:
    row = job.row
    assert row is not None
    try:
        if run.policy.communities and run.port.capabilities.follows_reviews and row.attempt == 1:
            # a first deposit goes to the community's review; it is published when accepted
            job.row = run.ledger.in_review(row)
            follow_review(run, job, None)
            return
        published = steps.publish(run, row)  # checked: this deposition, published, its own DOI
        job.why += _communities_said(run, published.id)
        row = job.row = run.ledger.published(row, published.doi, published.concept_doi, published.landing_page,
                                          published.version)
        updated = steps.register(run, row, job.path, job.record)
        job.result = RecordResult(job.record.id, job.kind, job.why + delete_rivals(run, job), updated.doi, row.deposition_id)
    except RemoteError as exc:
        if not published_meanwhile(run, job):
            run.fail(job, exc)
    except (ArchiverError, OSError) as exc:
        run.fail(job, exc)


def _communities_said(run: DepositRun, deposition_id: DepositionId) -> str:
    """Where communities are asked for at publish, a community the record is not in afterwards is said."""
    if not run.policy.communities or not run.port.capabilities.communities_at_publish:
        return ""
    missing = run.port.missing_communities(deposition_id, run.policy.communities)
    if not missing:
        return ""
    return f"; not in community {', '.join(missing)} after publish ({run.port.repository_name} may hold an inclusion request for a curator) [community-missing]"
