"""Process stored inbound rows: bounces stored, blocks updated, sent emails marked, counts kept.

Idempotent and batched. The classifier runs outside any transaction; each batch then commits in
one transaction: rows are claimed with `… FOR UPDATE SKIP LOCKED` (a row another worker holds,
or one already processed, is skipped) and marked processed, bounces are inserted once per dedupe
key, all in the same commit. Every step is set-based: a few statements per batch, whatever its
size. A batch that fails is retried row by row, so one bad row cannot hold back the others; a
row failing `MAX_ATTEMPTS` times is quarantined with its error.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import timedelta

from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from core.addresses import address_domain
from core.bulk_insert import copy_insert

from ..models import Bounce, BouncePolicy, InboundMessage, Mailing, SentEmail
from ..services.blocks import BlockCause, BlockRequest, addresses_block
from ..signals import bounces_recorded
from .correlate import Query, SentRef, sent_emails_for
from .esp_events import evidence_from_event
from .evidence import Evidence, Finding, clean_text, evidence_from_raw, recipient_problem

logger = logging.getLogger(__name__)

# Rows per transaction (and per task). Larger batches pay the per-statement costs (claim,
# correlation, upserts, record sync, commit) less often: 179 ms per 100 rows in batches of 100,
# 95-133 ms in batches of 500 (bench.ingestion --mode steps).
BATCH_SIZE = 500
MAX_ATTEMPTS = 5
# Back-off after the n-th failed attempt: 30 s, 1 min, 2 min, 4 min, then quarantine (a row gets
# about 7 minutes to see a transient fault pass before an admin has to look at it).
RETRY_BASE = timedelta(seconds=30)
State = InboundMessage.State
# The database itself failing is not the row's fault: the task retries later, the row's attempts
# are not counted.
DATABASE_DOWN = (OperationalError, InterfaceError)


def due() -> Q:
    """Pending rows whose back-off (if any) is over."""
    return Q(state=State.PENDING) & (Q(retry_at__isnull=True) | Q(retry_at__lte=timezone.now()))


@dataclass
class ProcessResult:
    processed: int = 0
    quarantined: int = 0
    failed: int = 0
    skipped: int = 0
    bounces: int = 0
    ids: list[int] = field(default_factory=list)

    def add(self, other: ProcessResult) -> None:
        self.processed += other.processed
        self.quarantined += other.quarantined
        self.failed += other.failed
        self.skipped += other.skipped
        self.bounces += other.bounces


@dataclass
class _Work:
    """A row of the batch with what it says."""

    row: InboundMessage
    evidence: Evidence


def inbound_process(*, ids: list[int], fill: int = 0) -> ProcessResult:
    """Process the pending rows among `ids`, plus up to `fill` other pending rows (oldest first).

    Filling lets a backlog drain in full batches even when each row was queued on its own.
    """
    wanted = list(InboundMessage.objects.filter(due(), pk__in=ids).order_by("pk")[:10_000])
    if fill > 0:
        extra = (
            InboundMessage.objects.filter(due())
            .exclude(pk__in=[row.pk for row in wanted])
            .order_by("received_at")[:fill]
        )
        wanted.extend(extra)
    result = ProcessResult(skipped=len(set(ids)) - sum(1 for r in wanted if r.pk in set(ids)))
    for start in range(0, len(wanted), BATCH_SIZE):
        result.add(_process_batch(wanted[start : start + BATCH_SIZE]))
    return result


def _evidence(row: InboundMessage) -> Evidence:
    if row.payload is not None:  # an ESP event (a quarantined one also keeps its raw form)
        return evidence_from_event(row.payload)
    return evidence_from_raw(bytes(row.raw or b""), received_at=row.received_at)


def _process_batch(rows: list[InboundMessage]) -> ProcessResult:
    ready: list[_Work] = []
    unreadable: list[tuple[InboundMessage, str]] = []
    for row in rows:
        try:
            ready.append(_Work(row, _evidence(row)))
        except Exception as exc:  # a mapping bug must not lose the row: count and keep it
            if isinstance(exc, DATABASE_DOWN):
                raise
            logger.exception("inbound %s could not be analysed", row.pk)
            unreadable.append((row, f"{type(exc).__name__}: {exc}"))
    result = ProcessResult()
    for row, error in unreadable:
        result.add(_record_failure(row, error))
    try:
        result.add(_commit(ready))
    except DATABASE_DOWN:
        raise
    except Exception:
        logger.exception("batch of %d inbound rows failed; retrying one by one", len(ready))
        for w in ready:
            try:
                result.add(_commit([w]))
            except DATABASE_DOWN:
                raise
            except Exception as exc:
                logger.exception("inbound %s failed", w.row.pk)
                result.add(_record_failure(w.row, f"{type(exc).__name__}: {exc}"))
    return result


def _record_failure(row: InboundMessage, error: str) -> ProcessResult:
    """Count one failed attempt; quarantine the row when it has failed too often."""
    with transaction.atomic():
        locked = (
            InboundMessage.objects.select_for_update()
            .filter(pk=row.pk, state=State.PENDING)
            .first()
        )
        if locked is None:
            return ProcessResult(skipped=1)
        locked.attempts += 1
        locked.error = error[:5000]
        quarantine = locked.attempts >= MAX_ATTEMPTS
        if quarantine:
            locked.state = State.QUARANTINED
            locked.retry_at = None
        else:
            locked.retry_at = timezone.now() + RETRY_BASE * 2 ** (locked.attempts - 1)
        locked.save(update_fields=["attempts", "error", "state", "retry_at"])
    return ProcessResult(quarantined=int(quarantine), failed=1)


def bounce_dedupe_key(inbound_key: str, recipient: str, index: int) -> str:
    """Return the key that makes re-processing the same row never store a bounce twice."""
    return hashlib.sha256(f"{inbound_key}\0{recipient.lower()}\0{index}".encode()).hexdigest()


@dataclass
class _Pending:
    bounce: Bounce
    finding: Finding | None
    sent: SentRef | None


def _commit(work: list[_Work]) -> ProcessResult:
    if not work:
        return ProcessResult()
    now = timezone.now()
    with transaction.atomic():
        owned = _claim([w.row.pk for w in work], now)
        result = ProcessResult(skipped=len(work) - len(owned))
        work = [w for w in work if w.row.pk in owned]
        fresh = _insert_bounces(_bounces_for(work, now))
        result.bounces = len(fresh)
        _apply_blocks(fresh)
        _mark_sent(fresh)
        _announce([p.bounce for p in fresh])
        quarantined = _quarantine_unparsed(work)
        result.processed = len(work) - quarantined
        result.quarantined += quarantined
        result.ids = [w.row.pk for w in work]
    return result


def _claim(ids: list[int], now) -> set[int]:
    """Take the batch's rows still pending and mark them processed (the transaction failing
    undoes it); a row another worker holds is skipped, not awaited. Return the rows taken."""
    if connection.vendor == "postgresql":
        # One statement locks and writes each row once (a SELECT … FOR UPDATE, then an UPDATE,
        # wrote every row twice).
        table = connection.ops.quote_name(InboundMessage._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET state = %s, processed_at = %s, error = '', "  # noqa: S608
                "attempts = attempts + 1 WHERE id IN (SELECT id FROM "
                f"{table} WHERE id = ANY(%s) AND state = %s FOR UPDATE SKIP LOCKED) RETURNING id",
                [State.PROCESSED, now, ids, State.PENDING],
            )
            return {pk for (pk,) in cursor.fetchall()}
    owned = set(
        InboundMessage.objects.select_for_update(skip_locked=True)
        .filter(pk__in=ids, state=State.PENDING)
        .values_list("pk", flat=True)
    )
    InboundMessage.objects.filter(pk__in=owned).update(
        state=State.PROCESSED, processed_at=now, error="", attempts=F("attempts") + 1
    )
    return owned


def _insert_bounces(pending: list[_Pending]) -> list[_Pending]:
    """Insert the bounces not stored yet (by dedupe key); return those."""
    keys = [p.bounce.dedupe_key for p in pending]
    existing = set(Bounce.objects.filter(dedupe_key__in=keys).values_list("dedupe_key", flat=True))
    fresh = [p for p in pending if p.bounce.dedupe_key not in existing]
    copy_insert(Bounce, [p.bounce for p in fresh])
    return fresh


def _quarantine_unparsed(work: list[_Work]) -> int:
    """Quarantine the claimed rows that are no bounce one can read, each with its reason."""
    reasons = {w.row.pk: w.evidence.parse_error for w in work if not w.evidence.parsed}
    if reasons:
        unparsed = "The message could not be parsed as a bounce."
        InboundMessage.objects.filter(pk__in=list(reasons)).update(
            state=State.QUARANTINED,
            error=Case(
                *[When(pk=pk, then=Value(why or unparsed)) for pk, why in reasons.items()],
                default=Value(unparsed),
            ),
        )
    return len(reasons)


def _bounces_for(work: list[_Work], now) -> list[_Pending]:
    """Build the Bounce rows (unsaved) of a batch, each with its finding and sent email."""
    items: list[tuple[_Work, int, Finding | None]] = []
    for w in work:
        ev = w.evidence
        if not ev.parsed or not ev.findings:
            items.append((w, 0, None))
        else:
            items.extend((w, i, f) for i, f in enumerate(ev.findings))
    queries = [
        Query(
            token=w.evidence.verp_token,
            message_id=w.evidence.original_message_id,
            recipient=(f.recipient if f else ""),
            at=w.evidence.at or w.row.received_at,
        )
        for w, _i, f in items
    ]
    refs = sent_emails_for(queries)
    pending = []
    for (w, index, finding), ref in zip(items, refs, strict=True):
        ev = w.evidence
        # One token names one sent email: in a multi-recipient report it belongs to the
        # finding about that email's address (or one that names no address).
        if (
            ref is not None
            and finding is not None
            and len(ev.findings) > 1
            and finding.recipient
            and finding.recipient.lower() != ref.to_address.lower()
        ):
            ref = None
        problem = recipient_problem(finding.recipient) if finding and finding.recipient else ""
        if problem and finding is not None:
            # A string the classifier took for an address (markup, a formula…) never becomes a
            # block; the sent email the return path names still does.
            finding = replace(
                finding,
                recipient="",
                explanation=clean_text(f"{problem} {finding.explanation}".strip(), 500),
                type=finding.type if ref else "",
                category=finding.category if ref else "",
            )
        recipient = (finding.recipient if finding else "") or (ref.to_address if ref else "")
        recipient = recipient.strip().lower()
        marker = recipient if finding else ":unparsed" if not ev.parsed else ":none"
        sender = ref.from_address if ref else ev.original_sender
        bounce = Bounce(
            inbound_id=w.row.pk,
            dedupe_key=bounce_dedupe_key(w.row.dedupe_key, marker, index),
            channel=w.row.channel,
            esp=ev.esp[:30],
            recipient=recipient[:254],
            status=finding.status if finding else "",
            reply_code=finding.reply_code if finding else "",
            diagnostic=finding.diagnostic if finding else "",
            explanation=finding.explanation if finding else "",
            type=finding.type if finding else "",
            category=finding.category if finding else "",
            kind=(finding.kind if finding else "")[:20],
            parsed=ev.parsed,
            parse_error=ev.parse_error,
            sender_domain=address_domain(sender)[:253],
            recipient_domain=address_domain(recipient)[:253],
            original_message_id=ev.original_message_id,
            sent_email_id=ref.id if ref else None,
            received_at=ev.at or w.row.received_at or now,
        )
        pending.append(_Pending(bounce, finding, ref))
    return pending


def _apply_blocks(fresh: list[_Pending]) -> None:
    """Create or update the block of every address a new bounce blocks (batched)."""
    requests = [
        BlockRequest(
            address=p.bounce.recipient,
            cause=BlockCause(
                type=p.finding.type,
                category=p.finding.category,
                status=p.finding.status,
                reply_code=p.finding.reply_code,
                diagnostic=p.finding.diagnostic,
                explanation=p.finding.explanation,
            ),
            at=p.bounce.received_at,
            bounce=p.bounce,
        )
        for p in fresh
        if p.finding and p.finding.type and p.bounce.recipient
    ]
    if requests:
        addresses_block(requests=requests, policy=BouncePolicy.current())


def _mark_sent(fresh: list[_Pending]) -> None:
    """Mark each matched sent email bounced once, and count it once on its mailing."""
    # Each email takes the time and reason of its earliest final bounce in the batch.
    first: dict[int, Bounce] = {}
    for p in sorted(fresh, key=lambda p: (p.bounce.received_at, p.bounce.pk or 0), reverse=True):
        if p.sent is not None and p.finding is not None and p.finding.final:
            first[p.sent.id] = p.bounce
    if not first:
        return
    rows = _sent_emails_bounced(first)
    per_mailing = Counter(mailing_id for _pk, mailing_id in rows if mailing_id)
    if not per_mailing:
        return
    Mailing.objects.filter(pk__in=list(per_mailing)).update(
        recipients_bounced=F("recipients_bounced")
        + Case(*[When(pk=m, then=Value(n)) for m, n in per_mailing.items()], default=Value(0))
    )
    from ..sending.services import mailings_autopause

    mailings_autopause(mailing_ids=list(per_mailing))


def _sent_emails_bounced(first: dict[int, Bounce]) -> list[tuple[int, int | None]]:
    """Mark the sent emails bounced that are not yet, each with its bounce's time and reason;
    return (id, mailing id) of those changed.

    One `UPDATE … FROM (VALUES …) … RETURNING`: the guard on the status under the row lock the
    UPDATE takes means two batches bouncing the same email cannot both count it.
    """
    qn = connection.ops.quote_name
    table = qn(SentEmail._meta.db_table)
    at = "CAST(%s AS timestamp with time zone)" if connection.vendor == "postgresql" else "%s"
    params: list = []
    for pk, bounce in sorted(first.items()):
        adapted = connection.ops.adapt_datetimefield_value(bounce.received_at)
        params += [pk, adapted, bounce.explanation[:500]]
    values = ", ".join([f"(%s, {at}, %s)"] * len(first))
    bounced = SentEmail.Status.BOUNCED
    sql = (
        f"WITH v (id, at, reason) AS (VALUES {values}) "  # noqa: S608 - our names, values bound
        f"UPDATE {table} SET {qn('status')} = %s, {qn('bounced_at')} = v.at, "
        f"{qn('status_reason')} = v.reason FROM v "
        f"WHERE {table}.{qn('id')} = v.id AND {table}.{qn('status')} <> %s "
        f"RETURNING {table}.{qn('id')}, {table}.{qn('mailing_id')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, bounced, bounced])
        return [(pk, mailing_id) for pk, mailing_id in cursor.fetchall()]


def _announce(bounces: list[Bounce]) -> None:
    """Tell the apps that follow bounces (the report's roll-ups), in this same transaction."""
    if bounces:
        bounces_recorded.send(sender=Bounce, bounces=bounces)
