"""A first deposit that goes to its community's review (where the API follows reviews): submitted,
then followed by later runs until the community decides; registered once it accepts."""

from __future__ import annotations

from html import escape as html_escape

from archiver.deposit import steps
from archiver.deposit.context import DepositRun, Job
from archiver.deposit.port import RemoteDeposition
from archiver.deposit.results import RecordResult
from archiver.findings import ArchiverError


def never_went(draft: RemoteDeposition) -> bool:
    """A draft whose review request was never submitted, or was cancelled or expired."""
    return not draft.published and draft.review in (None, "unsent")


def follow_review(run: DepositRun, job: Job, draft: RemoteDeposition | None) -> None:
    """A draft for its community's review (``draft`` as read, None when about to be submitted):
    submitted when it has not gone yet (a first try, or one that failed, was cancelled or expired),
    registered once the community accepted it (it is then published), failed when declined, else
    still waiting (``in-review``, no DOI yet)."""
    assert job.row is not None
    slug = run.policy.communities[0] if run.policy.communities else "its community"
    if draft is None or never_went(draft):
        if not run.policy.communities:
            raise ArchiverError(f"{job.record.id}: draft {job.row.deposition_id} was to be reviewed, but the policy names no community "
                                "now: name it again, or publish the draft by hand", code="community-missing")
        message = f"<p>{html_escape(job.record.id)}: {html_escape(job.record.archival_title)}</p>" \
                  f"<p>Deposited by archiver for {html_escape(run.policy.publisher)}.</p>"
        draft = run.port.submit_for_review(job.row.remote_id, slug, message)
    if draft.published:
        published = run.port.check_minted(draft)
        job.row = run.ledger.published(job.row, published.doi, published.concept_doi, published.landing_page,
                                          published.version)
        updated = steps.register(run, job.row, job.path, job.record)
        job.result = RecordResult(job.record.id, job.kind, f"accepted by community {slug!r} and published", updated.doi, published.id)
    elif draft.review == "declined":
        run.fail(job, ArchiverError(
            f"{job.record.id}: community {slug!r} declined draft {draft.id}; it is not published. Delete the draft or "
            "submit it elsewhere by hand, then deposit again", code="review-declined",
        ))
    elif draft.review in (None, "unsent"):
        run.fail(job, ArchiverError(
            f"{job.record.id}: the submission of draft {draft.id} to community {slug!r} did not go through (its review "
            f"is {draft.review_said or 'not set'}); the next run submits it again", code="review-not-submitted",
        ))
    else:
        run.ledger.failed(job.row, None)
        job.result = RecordResult(
            job.record.id, "in-review", f"draft {draft.id} waits for community {slug!r} to review it; its DOI is "
            "registered by the first run after the community accepts it", None, draft.id,
        )
