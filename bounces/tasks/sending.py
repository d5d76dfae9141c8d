"""Sending tasks: one email, a mailing in steps, and the periodic sweep (bounces.sending)."""

from __future__ import annotations

from celery import current_app, shared_task
from django.db import OperationalError

__all__ = ["send_email", "send_mailing", "sending_sweep"]


def _eager() -> bool:
    return bool(current_app.conf.task_always_eager)


# Every row is claimed by a guarded UPDATE before the SMTP call, so a redelivered task never
# sends a claimed row again: acks_late is safe. Each run works about 50 s, then re-queues itself
# (a pause or cancel takes effect between chunks; other mailings get their turn).
@shared_task(
    name="bounces.tasks.send_mailing",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError,),
    max_retries=5,
    retry_backoff=True,
    soft_time_limit=240,
    time_limit=300,
)
def send_mailing(mailing_id: int) -> str:
    """Send the due rows of one mailing for a while; queue the next step when some are left."""
    from ..sending.services import mailing_send_step

    step = mailing_send_step(mailing_id=mailing_id)
    # Without a broker (eager) there is no countdown: the periodic sweep or the next command
    # picks the rest up.
    if step.again_in is not None and not _eager():
        send_mailing.apply_async((mailing_id,), countdown=min(3000, max(0, int(step.again_in))))
    return f"sent {step.sent}, failed {step.failed}, retrying {step.retry}"


@shared_task(
    name="bounces.tasks.send_email",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError,),
    max_retries=5,
    retry_backoff=True,
    soft_time_limit=120,
    time_limit=150,
)
def send_email(sent_email_id: int) -> str:
    """Send one queued one-to-one email; queue the retry after its back-off if needed."""
    from ..models import SentEmail
    from ..sending.services import email_send_one

    row = email_send_one(sent_email_id=sent_email_id)
    if (
        row is not None
        and row.status == SentEmail.Status.RETRYING
        and row.next_attempt_at is not None  # always set on a retrying row
        and not _eager()
    ):
        from django.utils import timezone

        delay = max(1, int((row.next_attempt_at - timezone.now()).total_seconds()))
        send_email.apply_async((sent_email_id,), countdown=min(3000, delay))
    return row.status if row else "gone"


@shared_task(name="bounces.tasks.sending_sweep")
def sending_sweep() -> dict:
    """Fail rows a dead worker left claimed; re-queue mailings and emails with rows due."""
    from ..sending.services import sending_sweep as sweep

    found = sweep()
    for mailing_id in set(found["mailings"]):
        send_mailing.delay(mailing_id)
    for pk in found["emails"]:
        send_email.delay(pk)
    return {"stuck": found["stuck"], "mailings": len(set(found["mailings"]))}
