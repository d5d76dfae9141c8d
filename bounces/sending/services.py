"""Every write of sending: queue one email, create and confirm a mailing, send, retry, pause,
resume, cancel, auto-pause, opt out.

At-most-once delivery. A row is claimed (status "sending") by one UPDATE that also re-checks the
address against active blocks and opt-outs, so an address blocked or opted out after queuing is
never handed to the mail server; the claim commits before the SMTP call. After the server's
answer the row becomes "sent", "retrying" (the server was down or answered 4xx: nothing was
accepted, so it is safe to try again later) or "failed" (5xx). A worker that dies between the
server's answer and that commit leaves the row "sending": the sweep marks it "failed" with the
reason instead of sending it again (see the README, "Sending").
"""

from __future__ import annotations

import logging
import re
import smtplib
import socket
import time
from collections import Counter
from collections.abc import Collection
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import formatdate, make_msgid
from typing import TypedDict

from django.conf import settings
from django.contrib.auth.models import User
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.rates import bounce_rate
from records.addresses import address_key
from records.models import Contact, Lead, Record
from records.selectors import InvalidSelection, records_for_selection

from ..models import Block, BouncePolicy, Mailing, OptOut, Sender, SentEmail
from ..rates import rate_above_threshold
from ..signals import emails_sent, mailings_autopaused
from ..verp import verp_make, verp_token_new
from .merge import MergeError, merge_check, merge_render
from .recipients import PreCheck, precheck, reason_label
from .unsubscribe import unsubscribe_url

logger = logging.getLogger(__name__)

Status = SentEmail.Status
State = Mailing.State
PENDING = (Status.QUEUED, Status.RETRYING)
MAX_ATTEMPTS = 6


class SendError(ValueError):
    """Bad input: refused before anything is queued; the message says why."""


# --- validation shared by the forms and the command ----------------------------------------------
def sender_for(address: str) -> Sender:
    """Return the active configured sender with this address; raise SendError otherwise."""
    sender = Sender.objects.filter(address__iexact=(address or "").strip(), active=True).first()
    if sender is None:
        raise SendError(
            _("%(address)s is not a configured sender. Choose one of the senders an admin set up.")
            % {"address": address or "—"}
        )
    return sender


def content_check(*, subject: str, body: str) -> None:
    """Raise SendError for an empty subject or body, or a bad merge field."""
    if not (subject or "").strip():
        raise SendError(_("The subject is empty."))
    if not (body or "").strip():
        raise SendError(_("The message is empty."))
    for label, text in ((_("subject"), subject), (_("message"), body)):
        try:
            merge_check(text)
        except MergeError as exc:
            if exc.unknown:
                raise SendError(
                    _("Unknown merge field in the %(where)s: %(fields)s. Known fields: %(known)s.")
                    % {
                        "where": label,
                        "fields": ", ".join(f"{{{{{name}}}}}" for name in exc.unknown),
                        "known": ", ".join(f"{{{{{name}}}}}" for name in merge_fields()),
                    }
                ) from exc
            raise SendError(
                _("A placeholder in the %(where)s is not closed: write {{first_name}}.")
                % {"where": label}
            ) from exc


def merge_fields() -> tuple[str, ...]:
    from .merge import FIELDS

    return FIELDS


def merge_values(record: Record, address: str) -> dict[str, str]:
    """Return the merge fields of one record (its owner must be loaded: select_related)."""
    owner = record.owner
    owner_name = (owner.get_full_name() or owner.get_username()) if owner else ""
    signature = "\n".join(part for part in (owner_name, owner.email if owner else "") if part)
    return {
        "first_name": record.first_name,
        "last_name": record.last_name,
        "full_name": record.full_name,
        "company": record.company,
        "email": address,
        "owner_name": owner_name,
        "owner_signature": signature,
    }


def _new_ids() -> tuple[str, str]:
    """Return (Message-ID, VERP token) for a new sent email."""
    return make_msgid(domain=settings.BOUNCE_DOMAIN), verp_token_new()


def _lookup(record: Record) -> str:
    return "contact" if isinstance(record, Contact) else "lead"


def suppression_reason(address: str) -> str:
    """Return why `address` may not be mailed now ("" when it may), in words."""
    key = address_key(address)
    block = Block.objects.active().filter(address=key).first()
    if block is not None:
        return reason_label(f"blocked:{block.type}:{block.category}")
    if OptOut.objects.filter(address=key).exists():
        return reason_label("opted_out")
    return ""


# --- one-to-one ----------------------------------------------------------------------------------
def email_render(*, record: Record, field: str, subject: str, body: str) -> tuple[str, str, str]:
    """Return (address, subject, body) of an email to `record`'s `field`, merge fields filled."""
    content_check(subject=subject, body=body)
    address = record.address(field)
    if not address:
        raise SendError(_("This record has no address in that field."))
    values = merge_values(record, address)
    return address, merge_render(subject, values), merge_render(body, values)


def email_queue(
    *, record: Record, field: str, sender: Sender, subject: str, body: str, actor: User
) -> SentEmail:
    """Store an email to one record's address and queue it (after commit).

    An address that is blocked or opted out now is stored as "suppressed" with the reason and
    never sent.
    """
    if not sender.active:
        raise SendError(_("This sender is no longer active."))
    address, subject, body = email_render(record=record, field=field, subject=subject, body=body)
    reason = suppression_reason(address)
    message_id, token = _new_ids()
    row = SentEmail.objects.create(
        **{_lookup(record): record},
        field=field,
        to_address=address,
        from_address=sender.address,
        sender=sender,
        subject=subject[:300],
        body=body,
        message_id=message_id,
        verp_token=token,
        status=Status.SUPPRESSED if reason else Status.QUEUED,
        status_reason=reason[:500],
        sent_at=timezone.now(),
        created_by=actor,
    )
    if not reason:
        from ..tasks.sending import send_email

        transaction.on_commit(lambda: send_email.delay(row.pk))
    return row


# --- mailings ------------------------------------------------------------------------------------
FILTER_NOT_VALID = gettext_lazy("The list's filter is not valid.")


def _queryset(record_type: str, selection: dict):
    try:
        return records_for_selection(record_type=record_type, selection=selection)
    except (InvalidSelection, ValueError, TypeError) as exc:
        raise SendError(FILTER_NOT_VALID) from exc


def mailing_precheck(
    *, record_type: str, selection: dict, from_address: str = "", exclude=()
) -> PreCheck:
    """Return the pre-send check of a selection (nothing is written)."""
    return precheck(
        queryset=_queryset(record_type, selection), exclude=exclude, from_address=from_address
    )


def mailing_create(
    *,
    name: str,
    sender: Sender,
    subject: str,
    body: str,
    record_type: str,
    selection: dict,
    actor: User | None,
) -> Mailing:
    """Create a draft mailing (its pre-send check comes next); raise SendError on bad input."""
    if not sender.active:
        raise SendError(_("This sender is no longer active."))
    content_check(subject=subject, body=body)
    if record_type not in ("contact", "lead"):
        raise SendError(_("Choose contacts or leads."))
    if not (selection.get("ids") or "criteria" in selection):
        raise SendError(_("No records are selected."))
    _queryset(record_type, selection)  # the filter must be valid
    return Mailing.objects.create(
        name=(name or subject)[:200],
        subject=subject[:300],
        body=body,
        sender=sender,
        from_address=sender.address,
        record_type=record_type,
        selection=selection,
        state=State.DRAFT,
        created_by=actor,
    )


def mailing_confirm(
    *, mailing: Mailing, exclude: Collection[str] = (), actor: User | None = None
) -> PreCheck:
    """Confirm a draft mailing and queue its sending; return the check it was confirmed on.

    Up to `SENDING_CONFIRM_SYNC_LIMIT` recipients, the rows (one per recipient, suppressed ones
    stored as such) are written here; a bigger mailing has them written by the worker's first
    step (100,000 rows take seconds: not for a web request). Raises SendError when nothing is
    sendable or the mailing is no longer a draft.
    """
    check = mailing_precheck(
        record_type=mailing.record_type,
        selection=mailing.selection,
        from_address=mailing.from_address,
        exclude=exclude,
    )
    if not check.recipients:
        raise SendError(_("No recipient can be sent to: every selected record is suppressed."))
    now = timezone.now()
    with transaction.atomic():
        claimed = Mailing.objects.filter(pk=mailing.pk, state=State.DRAFT).update(
            state=State.SENDING,
            sent_at=now,
            excluded=list(check.excluded),
            recipients_total=check.to_send,
            recipients_suppressed=check.suppressed_count,
            created_by=actor or mailing.created_by,
        )
        if not claimed:
            raise SendError(_("This mailing was already confirmed."))
        if check.to_send <= settings.SENDING_CONFIRM_SYNC_LIMIT:
            _materialize(mailing.pk, check, now=now, actor=actor)
        from ..tasks.sending import send_mailing

        transaction.on_commit(lambda: send_mailing.delay(mailing.pk))
    mailing.refresh_from_db()
    return check


def mailing_materialize(*, mailing_id: int) -> bool:
    """Write the rows of a confirmed mailing that has none yet (the worker's first step).

    The selection is checked again now, with the exclusions chosen at confirmation; the counts
    follow. Returns whether this call wrote them (a concurrent step waits on the row lock and
    then finds them written).
    """
    mailing = Mailing.objects.filter(
        pk=mailing_id, prepared_at__isnull=True, state=State.SENDING
    ).first()
    if mailing is None:
        return False
    check = mailing_precheck(
        record_type=mailing.record_type,
        selection=mailing.selection,
        from_address=mailing.from_address,
        exclude=mailing.excluded,
    )
    with transaction.atomic():
        if not _materialize(mailing.pk, check, now=timezone.now(), actor=mailing.created_by):
            return False
        Mailing.objects.filter(pk=mailing.pk).update(
            recipients_total=check.to_send, recipients_suppressed=check.suppressed_count
        )
    return True


def _materialize(mailing_id: int, check: PreCheck, *, now: datetime, actor: User | None) -> bool:
    """Claim the mailing's preparation and write its rows (inside the caller's transaction)."""
    if not Mailing.objects.filter(
        pk=mailing_id, prepared_at__isnull=True, state__in=[State.SENDING, State.PAUSED]
    ).update(prepared_at=now):
        return False
    mailing = Mailing.objects.get(pk=mailing_id)
    rows = [
        (recipient.record_id, recipient.field, recipient.address, Status.QUEUED, "")
        for recipient in check.recipients
    ] + [
        (row.record_id, row.field, row.address, Status.SUPPRESSED, reason_label(row.reason))
        for row in check.suppressed
        if row.address  # nothing to show on a record with no address
    ]
    _insert_rows(mailing, rows, now=now, actor=actor)
    return True


_COPY_COLUMNS = (
    "contact_id",
    "lead_id",
    "mailing_id",
    "field",
    "to_address",
    "from_address",
    "sender_id",
    "subject",
    "message_id",
    "verp_token",
    "status",
    "status_reason",
    "sent_at",
    "created_by_id",
    "body",
    "attempts",
)


def _insert_rows(mailing: Mailing, rows: list[tuple], *, now: datetime, actor: User | None) -> None:
    """Write a mailing's rows: COPY on PostgreSQL (100,000 rows in seconds), else bulk_create."""
    contact = mailing.record_type == "contact"
    subject = mailing.subject[:300]
    actor_id = actor.pk if actor is not None else None
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(SentEmail._meta.db_table)
        sql = f"COPY {table} ({', '.join(_COPY_COLUMNS)}) FROM STDIN"  # noqa: S608 - constants
        with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
            for record_id, field_, address, status, reason in rows:
                message_id, token = _new_ids()
                copy.write_row(
                    (
                        record_id if contact else None,
                        None if contact else record_id,
                        mailing.pk,
                        field_,
                        address,
                        mailing.from_address,
                        mailing.sender_id,
                        subject,
                        message_id,
                        token,
                        status,
                        reason[:500],
                        now,
                        actor_id,
                        "",
                        0,
                    )
                )
        return
    lookup = "contact_id" if contact else "lead_id"
    objects = []
    for record_id, field_, address, status, reason in rows:
        message_id, token = _new_ids()
        objects.append(
            SentEmail(
                **{lookup: record_id},
                mailing_id=mailing.pk,
                field=field_,
                to_address=address,
                from_address=mailing.from_address,
                sender_id=mailing.sender_id,
                subject=subject,
                message_id=message_id,
                verp_token=token,
                status=status,
                status_reason=reason[:500],
                sent_at=now,
                created_by_id=actor_id,
            )
        )
    SentEmail.objects.bulk_create(objects, batch_size=2000)


def mailing_pause(*, mailing: Mailing, reason: str = "") -> bool:
    """Pause a sending mailing (the batch in flight finishes); return whether it changed."""
    return bool(
        Mailing.objects.filter(pk=mailing.pk, state=State.SENDING).update(
            state=State.PAUSED,
            paused_at=timezone.now(),
            state_reason=(reason or _("Paused by a user."))[:500],
        )
    )


def mailing_resume(*, mailing: Mailing) -> bool:
    """Resume a paused mailing and queue its sending; return whether it changed."""
    with transaction.atomic():
        changed = (
            Mailing.objects.filter(pk=mailing.pk)
            .filter(Q(state=State.PAUSED) | Q(state=State.SENDING, paused_at__isnull=False))
            .update(state=State.SENDING, paused_at=None, state_reason="")
        )
        if changed:
            from ..tasks.sending import send_mailing

            transaction.on_commit(lambda: send_mailing.delay(mailing.pk))
    return bool(changed)


def mailing_cancel(*, mailing: Mailing) -> int | None:
    """Cancel a mailing: rows not yet claimed are dropped. Return how many, None if too late."""
    with transaction.atomic():
        changed = Mailing.objects.filter(
            pk=mailing.pk, state__in=[State.DRAFT, State.SENDING, State.PAUSED]
        ).update(state=State.CANCELLED, finished_at=timezone.now(), paused_at=None)
        if not changed:
            return None
        dropped, _detail = SentEmail.objects.filter(
            mailing_id=mailing.pk, status__in=PENDING
        ).delete()
        Mailing.objects.filter(pk=mailing.pk).update(
            state_reason=_("Cancelled; %(count)d messages were not sent.") % {"count": dropped}
        )
    return dropped


def mailings_autopause(*, mailing_ids: list[int]) -> list[int]:
    """Pause the sending mailings among `mailing_ids` whose bounce rate passed the threshold.

    Called in the ingestion transaction as bounces are recorded. Only when the policy says so,
    after `SENDING_PAUSE_MIN_SENT` sends, and once per mailing (an admin who resumes it has
    decided). The admins hear of it through `mailings_autopaused` (the reports queue their
    rate alerts on it, after commit).
    """
    policy = BouncePolicy.current()
    if not mailing_ids or not policy.pause_mailing_above_threshold:
        return []
    limit = policy.bounce_rate_threshold
    candidates = (
        Mailing.objects.filter(
            pk__in=mailing_ids,
            state=State.SENDING,
            auto_paused_at__isnull=True,
            recipients_sent__gte=settings.SENDING_PAUSE_MIN_SENT,
        )
        .filter(rate_above_threshold(limit))
        .values_list("pk", "recipients_sent", "recipients_bounced")
    )
    now = timezone.now()
    paused = []
    for pk, sent, bounced in list(candidates):
        reason = _(
            "Paused automatically: %(bounced)d of %(sent)d sent bounced (%(rate).1f%%), above "
            "the %(limit)s%% threshold. An admin can resume or cancel it."
        ) % {"bounced": bounced, "sent": sent, "rate": bounce_rate(bounced, sent), "limit": limit}
        if Mailing.objects.filter(pk=pk, state=State.SENDING, auto_paused_at__isnull=True).update(
            state=State.PAUSED, paused_at=now, auto_paused_at=now, state_reason=reason[:500]
        ):
            paused.append(pk)
    if paused:
        logger.warning("mailings %s paused: bounce rate above %s%%", paused, limit)
        mailings_autopaused.send(sender=Mailing, mailing_ids=paused)
    return paused


# --- opt-outs ------------------------------------------------------------------------------------
def optout_record(*, address: str, source: str, mailing_id: int | None = None) -> OptOut:
    """Record that `address` wants no more mail (idempotent: the first opt-out stays)."""
    key = address_key(address)
    existing = OptOut.objects.filter(address=key).first()
    if existing:
        return existing
    known = mailing_id is not None and Mailing.objects.filter(pk=mailing_id).exists()
    mailing = mailing_id if known else None
    try:
        with transaction.atomic():
            return OptOut.objects.create(address=key, source=source, mailing_id=mailing)
    except IntegrityError:
        return OptOut.objects.get(address=key)


# --- throttle ------------------------------------------------------------------------------------
def sender_reserve(*, sender_id: int | None, count: int, max_wait: float = 5.0) -> float | None:
    """Reserve `count` send slots of the sender's rate; return seconds to wait before sending.

    One row lock per call, so every worker sending from the same address shares its rate.
    Returns None (nothing reserved) when the first free slot is more than `max_wait` away: the
    caller comes back later instead of holding a worker.
    """
    if not sender_id:
        return 0.0
    with transaction.atomic():
        sender = Sender.objects.select_for_update().filter(pk=sender_id).first()
        if sender is None or not sender.max_per_minute:
            return 0.0
        now = timezone.now()
        start = max(now, sender.next_slot_at or now)
        wait = (start - now).total_seconds()
        if wait > max_wait:
            return None
        interval = timedelta(seconds=60.0 / sender.max_per_minute)
        Sender.objects.filter(pk=sender_id).update(next_slot_at=start + interval * count)
    return wait


def sender_wait(*, sender_id: int | None) -> float:
    """Return the seconds until the sender's next free slot (0 when free now)."""
    if not sender_id:
        return 0.0
    slot = Sender.objects.filter(pk=sender_id).values_list("next_slot_at", flat=True).first()
    return max(0.0, (slot - timezone.now()).total_seconds()) if slot else 0.0


MAX_CHUNK = 100


def chunk_size(max_per_minute: int) -> int:
    """Return how many messages to claim at once: ≤ 10 s of the sender's rate, at most 100.

    Bigger chunks spend less time in the database per message; smaller ones leave fewer rows
    of unknown outcome if a worker dies mid-chunk (the sweep fails them, never re-sends).
    """
    if not max_per_minute:
        return MAX_CHUNK
    return max(1, min(MAX_CHUNK, max_per_minute // 6))


# --- claim, send, record -------------------------------------------------------------------------
def _blocked_now() -> Exists:
    return Exists(Block.objects.active().filter(address=Lower(OuterRef("to_address"))))


def _opted_out_now() -> Exists:
    return Exists(OptOut.objects.filter(address=Lower(OuterRef("to_address"))))


def _claim(candidates: QuerySet, now: datetime, limit: int) -> list[SentEmail]:
    """Claim up to `limit` due rows: suppress the newly blocked, then claim the rest."""
    due = candidates.filter(status__in=PENDING).filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    )
    with transaction.atomic():
        picked = due.order_by("pk")
        if connection.features.has_select_for_update_skip_locked:
            picked = picked.select_for_update(skip_locked=True, of=("self",))
        ids = list(picked.values_list("pk", flat=True)[:limit])
        if not ids:
            return []
        _suppress_now_blocked(ids)
        # The claim itself re-checks blocks and opt-outs: one statement, no gap.
        SentEmail.objects.filter(pk__in=ids, status__in=PENDING).exclude(_blocked_now()).exclude(
            _opted_out_now()
        ).update(status=Status.SENDING, claimed_at=now, attempts=F("attempts") + 1)
        rows = list(
            SentEmail.objects.filter(pk__in=ids, status=Status.SENDING, claimed_at=now)
            .select_related("contact__owner", "lead__owner", "sender")
            .order_by("pk")
        )
    # Each mailing once per chunk, without its (possibly large) selection: the messages are
    # built from it in threads, which must not query the database.
    mailing_ids = {row.mailing_id for row in rows if row.mailing_id}
    mailings = Mailing.objects.defer("selection", "excluded").in_bulk(mailing_ids)
    for row in rows:
        if row.mailing_id:
            row.mailing = mailings[row.mailing_id]
    return rows


def _suppress_now_blocked(ids: list[int]) -> None:
    """Mark rows whose address was blocked or opted out since queuing as suppressed, with why."""
    rows = list(
        SentEmail.objects.filter(pk__in=ids, status__in=PENDING)
        .filter(_blocked_now() | _opted_out_now())
        .values_list("pk", "to_address", "mailing_id")
    )
    if not rows:
        return
    keys = {address_key(address) for _pk, address, _m in rows}
    blocks = {b.address: b for b in Block.objects.active().filter(address__in=keys)}
    by_reason: dict[str, list[int]] = {}
    for pk, address, _mailing in rows:
        block = blocks.get(address_key(address))
        key = f"blocked:{block.type}:{block.category}" if block else "opted_out"
        by_reason.setdefault(key, []).append(pk)
    for key, pks in by_reason.items():
        reason = _("%(reason)s (after it was queued)") % {"reason": reason_label(key)}
        SentEmail.objects.filter(pk__in=pks, status__in=PENDING).update(
            status=Status.SUPPRESSED, status_reason=reason[:500], claimed_at=None
        )
    for mailing_id, n in Counter(m for _pk, _a, m in rows if m).items():
        Mailing.objects.filter(pk=mailing_id).update(
            recipients_suppressed=F("recipients_suppressed") + n
        )


def build_message(row: SentEmail, *, connection=None) -> EmailMessage:
    """Return the message of a claimed row: VERP envelope sender, stored Message-ID, and for
    mailings the merge fields filled and List-Unsubscribe (RFC 8058 one-click)."""
    sender = row.sender.formatted if row.sender is not None else row.from_address
    headers = {"From": sender, "Message-ID": row.message_id}
    if row.mailing is not None:
        record = row.contact or row.lead
        assert record is not None  # every sent email belongs to a contact or a lead
        values = merge_values(record, row.to_address)
        subject = merge_render(row.mailing.subject, values)
        body = merge_render(row.mailing.body, values)
        url = unsubscribe_url(address=row.to_address, mailing_id=row.mailing_id)
        headers["List-Unsubscribe"] = f"<{url}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        body = body.rstrip("\n") + "\n\n-- \n" + _("Unsubscribe: %(url)s") % {"url": url} + "\n"
    else:
        subject, body = row.subject, row.body
    # from_email is the SMTP envelope sender (Django passes it to MAIL FROM); the From header
    # shows the sender. Bounces then come back to bounces+TOKEN@BOUNCE_DOMAIN.
    return EmailMessage(
        subject=subject,
        body=body,
        from_email=verp_make(row.verp_token),
        to=[row.to_address],
        headers=headers,
        connection=connection,
    )


_PLAIN_HEADER = re.compile(r"[\x20-\x7e]{0,900}")  # printable ASCII: no CR/LF, no encoding


def message_bytes(message: EmailMessage) -> bytes:
    """Return the wire form of a plain-text message, written directly when that is safe.

    Django's MIME classes fold and encode every header (about 1 ms a message, most of a
    worker's CPU per message); a message whose headers are printable ASCII and whose body is
    ASCII with short lines needs none of that, so it is written as is. Anything else
    (non-ASCII text, long lines, a newline in a header) goes through Django, which encodes it or
    refuses it.
    """
    headers = {
        "From": message.extra_headers.get("From", message.from_email),
        "To": ", ".join(message.to),
        "Subject": message.subject,
        "Date": formatdate(localtime=settings.EMAIL_USE_LOCALTIME),
    }
    headers.update((k, v) for k, v in message.extra_headers.items() if k.lower() != "from")
    body = message.body
    if (
        all(_PLAIN_HEADER.fullmatch(str(value)) for value in headers.values())
        and body.isascii()
        and "\r" not in body
        and all(len(line) <= 990 for line in body.split("\n"))
    ):
        lines = [f"{name}: {value}" for name, value in headers.items()]
        lines += [
            "MIME-Version: 1.0",
            'Content-Type: text/plain; charset="utf-8"',
            "Content-Transfer-Encoding: 7bit",
        ]
        return ("\r\n".join(lines) + "\r\n\r\n" + body.replace("\n", "\r\n")).encode()
    return message.message().as_bytes(linesep="\r\n")


def _send(conn, message: EmailMessage) -> None:
    """Send one message on an open connection of the configured backend.

    With Django's SMTP backend and ASCII addresses, the bytes go straight to its smtplib
    connection (`message_bytes`); any other backend (anymail, console, locmem) gets the
    message through `send_messages`, as usual.
    """
    recipients = message.recipients()
    if (
        isinstance(conn, SMTPBackend)
        and conn.connection is not None
        and message.from_email.isascii()
        and all(address.isascii() for address in recipients)
    ):
        conn.connection.sendmail(message.from_email, recipients, message_bytes(message))
        return
    if not conn.send_messages([message]):
        raise smtplib.SMTPServerDisconnected("the connection was closed")


@dataclass
class Outcome:
    sent: list[SentEmail] = field(default_factory=list)
    failed: list[tuple[SentEmail, str]] = field(default_factory=list)
    retry: list[tuple[SentEmail, str]] = field(default_factory=list)

    @property
    def server_down(self) -> bool:
        return bool(self.retry)


# Nothing was accepted: the server is unreachable, or it answered "try again later" (4xx).
_TRANSIENT = (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, OSError, socket.timeout)


def _smtp_code(exc: Exception) -> int | None:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _msg in exc.recipients.values()]
        return max(codes) if codes else None
    return getattr(exc, "smtp_code", None)


def _describe(exc: Exception) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "; ".join(
            f"{code} {msg.decode(errors='replace') if isinstance(msg, bytes) else msg}"
            for code, msg in exc.recipients.values()
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        error = exc.smtp_error
        text = error.decode(errors="replace") if isinstance(error, bytes) else str(error)
        return f"{exc.smtp_code} {text}"
    return f"{type(exc).__name__}: {exc}"


def deliver(rows: list[SentEmail]) -> Outcome:
    """Hand claimed rows to the mail server; classify each answer.

    Over `SENDING_SMTP_CONNECTIONS` connections at once (threads; each row on exactly one),
    so the server's round trips overlap. The threads do no database work: the rows come with
    everything the messages need.
    """
    parallel = max(1, min(settings.SENDING_SMTP_CONNECTIONS, len(rows)))
    if parallel == 1:
        return _deliver_one_connection(rows)
    groups = [rows[i::parallel] for i in range(parallel)]
    outcome = Outcome()
    with ThreadPoolExecutor(max_workers=parallel) as pool:
        for part in pool.map(_deliver_one_connection, groups):
            outcome.sent.extend(part.sent)
            outcome.failed.extend(part.failed)
            outcome.retry.extend(part.retry)
    return outcome


def _deliver_one_connection(rows: list[SentEmail]) -> Outcome:
    outcome = Outcome()
    conn = get_connection()
    try:
        conn.open()
    except Exception as exc:
        outcome.retry = [(row, _describe(exc)) for row in rows]
        return outcome
    try:
        for index, row in enumerate(rows):
            try:
                message = build_message(row, connection=conn)
            except Exception as exc:  # a row that cannot be built must not stay claimed
                logger.exception("sent email %s could not be built", row.pk)
                outcome.failed.append((row, _describe(exc)))
                continue
            try:
                _send(conn, message)
            except smtplib.SMTPResponseException as exc:
                if 400 <= exc.smtp_code < 500:
                    outcome.retry.append((row, _describe(exc)))
                else:
                    outcome.failed.append((row, _describe(exc)))
            except smtplib.SMTPRecipientsRefused as exc:
                code = _smtp_code(exc) or 550
                target = outcome.retry if 400 <= code < 500 else outcome.failed
                target.append((row, _describe(exc)))
            except _TRANSIENT as exc:
                # The connection is gone: this row and the rest wait for the next attempt.
                reason = _describe(exc)
                outcome.retry.extend((r, reason) for r in rows[index:])
                break
            else:
                outcome.sent.append(row)
    finally:
        try:
            conn.close()
        except Exception:  # closing a dead connection must not hide the outcome
            logger.debug("closing the SMTP connection failed", exc_info=True)
    return outcome


def retry_delay(attempts: int) -> int:
    """Return the back-off before attempt `attempts + 1` (base × 2^(n-1), at most 30 min)."""
    base = settings.SENDING_RETRY_BASE_SECONDS
    return int(min(1800, base * (2 ** max(0, attempts - 1))))


def record_outcome(outcome: Outcome, *, now: datetime | None = None) -> None:
    """Commit what the server said: sent, retrying (with back-off) or failed; keep counts."""
    now = now or timezone.now()
    sent_ids = [row.pk for row in outcome.sent]
    with transaction.atomic():
        if sent_ids:
            # A bounce may already have marked a row bounced (a fast MTA): it was sent all the
            # same, so only the status of rows still "sending" changes.
            SentEmail.objects.filter(pk__in=sent_ids, status=Status.SENDING).update(
                status=Status.SENT, sent_at=now, claimed_at=None, status_reason=""
            )
            SentEmail.objects.filter(pk__in=sent_ids).exclude(status=Status.SENT).update(
                sent_at=now, claimed_at=None
            )
            for model, attr in ((Contact, "contact_id"), (Lead, "lead_id")):
                ids = {getattr(row, attr) for row in outcome.sent if getattr(row, attr)}
                if ids:
                    model.objects.filter(pk__in=ids).update(last_emailed_at=now)
            for row in outcome.sent:
                row.sent_at, row.status = now, Status.SENT
            emails_sent.send(sender=SentEmail, sent_emails=outcome.sent)
        for row, reason in outcome.failed:
            SentEmail.objects.filter(pk=row.pk, status=Status.SENDING).update(
                status=Status.FAILED, status_reason=reason[:500], claimed_at=None
            )
        for row, reason in outcome.retry:
            attempts = row.attempts
            if attempts >= MAX_ATTEMPTS:
                SentEmail.objects.filter(pk=row.pk, status=Status.SENDING).update(
                    status=Status.FAILED,
                    status_reason=(_("Gave up after %(n)d attempts: ") % {"n": attempts} + reason)[
                        :500
                    ],
                    claimed_at=None,
                )
                outcome.failed.append((row, reason))
                continue
            SentEmail.objects.filter(pk=row.pk, status=Status.SENDING).update(
                status=Status.RETRYING,
                status_reason=reason[:500],
                claimed_at=None,
                next_attempt_at=now + timedelta(seconds=retry_delay(attempts)),
            )
        per_mailing: dict[int, list[int]] = {}
        for row in outcome.sent:
            if row.mailing_id:
                per_mailing.setdefault(row.mailing_id, [0, 0])[0] += 1
        for row, _reason in outcome.failed:
            if row.mailing_id:
                per_mailing.setdefault(row.mailing_id, [0, 0])[1] += 1
        for mailing_id, (sent, failed) in per_mailing.items():
            Mailing.objects.filter(pk=mailing_id).update(
                recipients_sent=F("recipients_sent") + sent,
                recipients_failed=F("recipients_failed") + failed,
            )


def email_send_one(*, sent_email_id: int) -> SentEmail | None:
    """Send one queued one-to-one email (claim, deliver, record); return it, or None."""
    rows = _claim(SentEmail.objects.filter(pk=sent_email_id), timezone.now(), 1)
    if rows:
        row = rows[0]
        wait = sender_reserve(sender_id=row.sender_id, count=1, max_wait=60)
        if wait:
            time.sleep(wait)
        record_outcome(deliver(rows))
    return SentEmail.objects.filter(pk=sent_email_id).first()


@dataclass
class StepResult:
    sent: int = 0
    failed: int = 0
    retry: int = 0
    again_in: float | None = None  # come back after this many seconds; None: nothing left
    state: str = ""


def mailing_send_step(*, mailing_id: int, budget_seconds: float = 50.0) -> StepResult:
    """Send a mailing's due rows, chunk by chunk, for about `budget_seconds`.

    Pipelined: while one chunk is with the mail server (in a thread), the previous chunk's
    outcome is committed and the next chunk is claimed, so the database work overlaps the SMTP
    round trips. Stops when the mailing is paused or cancelled, when the server is down (the
    rows wait their back-off) or when the sender's rate says wait; marks the mailing done when no
    row is left.
    """
    result = StepResult()
    started = time.monotonic()
    mailing_materialize(mailing_id=mailing_id)
    previous: Outcome | None = None
    server_down = False
    with ThreadPoolExecutor(max_workers=1) as runner:
        rows, reason = _next_chunk(mailing_id, started, budget_seconds, result)
        while rows:
            delivery = runner.submit(deliver, rows)
            if previous is not None:
                server_down = _settle(previous, result) or server_down
            if server_down:
                rows, reason = [], "down"
            else:
                rows, reason = _next_chunk(mailing_id, started, budget_seconds, result)
            previous = delivery.result()
        if previous is not None:
            server_down = _settle(previous, result) or server_down
    if server_down:
        nxt = _next_due(mailing_id)
        result.again_in = max(1.0, (nxt - timezone.now()).total_seconds()) if nxt else 1.0
        return result
    if reason == "empty":
        nxt = _next_due(mailing_id)
        if nxt is None:
            _mailing_finish(mailing_id)
            result.state = State.DONE
        else:
            result.again_in = max(1.0, (nxt - timezone.now()).total_seconds())
    return result


def _settle(outcome: Outcome, result: StepResult) -> bool:
    """Commit one chunk's outcome, count it; return whether the server was down."""
    record_outcome(outcome)
    result.sent += len(outcome.sent)
    result.failed += len(outcome.failed)
    result.retry += len(outcome.retry)
    return outcome.server_down


def _next_chunk(
    mailing_id: int, started: float, budget_seconds: float, result: StepResult
) -> tuple[list[SentEmail], str]:
    """Claim the mailing's next chunk within its sender's rate.

    Returns (rows, "rows"), or ([], why): "stopped" (paused, cancelled, gone: `result.state`
    set), "later" (budget or rate: `result.again_in` set) or "empty" (nothing due now).
    """
    mailing = Mailing.objects.select_related("sender").filter(pk=mailing_id).first()
    if mailing is None or mailing.state != State.SENDING or mailing.paused_at is not None:
        result.state = mailing.state if mailing else ""
        return [], "stopped"
    if time.monotonic() - started > budget_seconds:
        result.again_in = 0
        return [], "later"
    rate = mailing.sender.max_per_minute if mailing.sender else 0
    limit = chunk_size(rate)
    # An unlimited sender needs no reservation (no row lock per chunk).
    wait = sender_reserve(sender_id=mailing.sender_id, count=limit) if rate else 0.0
    if wait is None:
        result.again_in = min(60.0, sender_wait(sender_id=mailing.sender_id))
        return [], "later"
    if wait:
        time.sleep(wait)
    rows = _claim(SentEmail.objects.filter(mailing_id=mailing_id), timezone.now(), limit)
    return (rows, "rows") if rows else ([], "empty")


def _next_due(mailing_id: int) -> datetime | None:
    """Return when the mailing's next pending row is due (None when nothing is pending)."""
    pending = SentEmail.objects.filter(mailing_id=mailing_id, status__in=PENDING)
    if not pending.exists():
        if SentEmail.objects.filter(mailing_id=mailing_id, status=Status.SENDING).exists():
            return timezone.now() + timedelta(seconds=5)  # another worker's chunk in flight
        return None
    if pending.filter(next_attempt_at__isnull=True).exists():
        return timezone.now()
    return min(t for t in pending.values_list("next_attempt_at", flat=True) if t is not None)


def _mailing_finish(mailing_id: int) -> None:
    Mailing.objects.filter(pk=mailing_id, state=State.SENDING).update(
        state=State.DONE, finished_at=timezone.now()
    )


def mailing_send_all(*, mailing_id: int, max_seconds: float = 24 * 3600) -> StepResult:
    """Send a whole mailing in this process (no broker), waiting out back-offs and the rate."""
    total = StepResult()
    deadline = time.monotonic() + max_seconds
    while time.monotonic() < deadline:
        step = mailing_send_step(mailing_id=mailing_id)
        total.sent += step.sent
        total.failed += step.failed
        total.retry += step.retry
        total.state = step.state
        if step.again_in is None:
            return total
        time.sleep(min(step.again_in, max(0.0, deadline - time.monotonic())))
    return total


# --- the safety net (periodic) -------------------------------------------------------------------
STUCK_AFTER = timedelta(minutes=10)


class SweepResult(TypedDict):
    stuck: int  # rows a dead worker left "sending", now failed
    mailings: list[int]  # mailings with due rows, or ready to finish
    emails: list[int]  # one-to-one emails due


def sending_sweep(*, now: datetime | None = None) -> SweepResult:
    """Fail rows left "sending" by a dead worker (never re-sent: the outcome is unknown), and
    return the mailings and emails that have rows due, for the caller to queue again."""
    now = now or timezone.now()
    stuck = list(
        SentEmail.objects.filter(
            status=Status.SENDING, claimed_at__lt=now - STUCK_AFTER
        ).values_list("pk", "mailing_id")
    )
    if stuck:
        reason = _(
            "The sending worker stopped during the exchange with the mail server, so whether "
            "the server accepted this message is unknown. It is not sent again, to avoid a "
            "duplicate."
        )
        with transaction.atomic():
            SentEmail.objects.filter(pk__in=[pk for pk, _m in stuck], status=Status.SENDING).update(
                status=Status.FAILED, status_reason=reason[:500], claimed_at=None
            )
            for mailing_id, n in Counter(m for _pk, m in stuck if m).items():
                Mailing.objects.filter(pk=mailing_id).update(
                    recipients_failed=F("recipients_failed") + n
                )
    due = SentEmail.objects.filter(status__in=PENDING).filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    )
    return {
        "stuck": len(stuck),
        "mailings": list(
            Mailing.objects.filter(state=State.SENDING, paused_at__isnull=True)
            .filter(pk__in=due.filter(mailing__isnull=False).values("mailing_id"))
            .values_list("pk", flat=True)
        )
        + list(
            Mailing.objects.filter(state=State.SENDING, paused_at__isnull=True)
            .exclude(sent_emails__status__in=[*PENDING, Status.SENDING])
            .values_list("pk", flat=True)
        ),
        "emails": list(due.filter(mailing__isnull=True).values_list("pk", flat=True)[:1000]),
    }


def mailing_progress(mailing: Mailing) -> dict[str, int]:
    """Return the mailing's rows by status (one grouped query)."""
    counts = dict(
        SentEmail.objects.filter(mailing=mailing)
        .order_by()
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    return {status: counts.get(status, 0) for status in Status.values}
