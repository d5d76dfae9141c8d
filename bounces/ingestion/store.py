"""Store first: every channel commits what arrived to the inbox, then answers.

The dedupe key makes each delivery idempotent: the SHA-256 of the raw bytes for a message, the
ESP's own event id for an event. Processing is queued only after the row is committed.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from core.bulk_insert import copy_insert

from ..models import Channel, InboundMessage
from .payloads import StoredEvent

logger = logging.getLogger(__name__)

# How much of an oversized message is kept for admins to look at.
OVERSIZE_HEAD_BYTES = 64 * 1024
# Dedupe-key prefix of an oversized message's head: it can never be processed, only looked at.
OVERSIZE_PREFIX = "oversize:"


@dataclass(frozen=True)
class Stored:
    """The outcome of storing one delivery."""

    id: int
    created: bool
    state: str


def raw_dedupe_key(raw: bytes) -> str:
    """Return the key of a raw message, the same whatever its line endings: IMAP hands over
    CRLF, the MTA pipe and most HTTP relays LF, and one bounce must be stored once."""
    return "raw:" + hashlib.sha256(raw.replace(b"\r\n", b"\n").rstrip(b"\n")).hexdigest()


def event_dedupe_key(esp: str, event: StoredEvent) -> str:
    """Return a key that is the same for a redelivered event and different for any other."""
    ident = event.get("event_id")
    parts = [esp, str(event.get("event_type") or ""), str(event.get("recipient") or "").lower()]
    if ident:
        parts.append(str(ident))
    else:
        # No event id from the ESP: the event's full content stands for it.
        parts.append(json.dumps(event.get("esp_event"), sort_keys=True, default=str))
    return f"esp:{esp}:" + hashlib.sha256("\0".join(parts).encode()).hexdigest()


def max_message_bytes() -> int:
    return settings.BOUNCE_MAX_MESSAGE_BYTES


def _queue(ids: list[int]) -> None:
    """Queue processing once the rows are committed (a broker outage leaves them pending for
    the sweeper; see `bounces.tasks.queue`)."""
    from ..tasks.ingestion import process_inbound
    from ..tasks.queue import task_send_on_commit

    task_send_on_commit(process_inbound, ids)


def _insert(fields: dict, *, queue: bool) -> Stored:
    with transaction.atomic():
        try:
            with transaction.atomic():
                row = InboundMessage.objects.create(**fields)
        except IntegrityError:
            existing = InboundMessage.objects.filter(dedupe_key=fields["dedupe_key"]).first()
            if existing is None:  # not a duplicate: a real error
                raise
            return Stored(existing.pk, False, existing.state)
        if queue and row.state == InboundMessage.State.PENDING:
            _queue([row.pk])
        return Stored(row.pk, True, row.state)


def inbound_store_raw(
    *, raw: bytes, channel: str, source: str = "", limit: int | None = None, queue: bool = True
) -> Stored:
    """Store one raw message (deduplicated) and queue its processing after commit.

    A message over `limit` is not processed: its head is kept, quarantined with the reason, so
    an admin sees what was refused.
    """
    limit = max_message_bytes() if limit is None else limit
    if len(raw) > limit:
        return inbound_store_oversized(
            head=raw[:OVERSIZE_HEAD_BYTES],
            size=len(raw),
            limit=limit,
            channel=channel,
            source=source,
        )
    fields = {
        "channel": channel,
        "source": source[:200],
        "dedupe_key": raw_dedupe_key(raw),
        "raw": raw,
        "size": len(raw),
    }
    return _insert(fields, queue=queue)


def inbound_store_oversized(
    *, head: bytes, size: int, limit: int, channel: str, source: str = ""
) -> Stored:
    """Keep the head of a message too large to process, quarantined with the reason."""
    fields = {
        "channel": channel,
        "source": source[:200],
        "dedupe_key": OVERSIZE_PREFIX + hashlib.sha256(head + str(size).encode()).hexdigest(),
        "raw": head,
        "size": size,
        "state": InboundMessage.State.QUARANTINED,
        "error": _(
            "Refused: the message has %(size)d bytes, over the limit of %(limit)d. Only its "
            "first %(kept)d bytes are kept here."
        )
        % {"size": size, "limit": limit, "kept": len(head)},
    }
    return _insert(fields, queue=False)


def inbound_store_many_raw(
    *, raws: list[bytes], channel: str, source: str = "", queue: bool = True
) -> list[Stored]:
    """Store many raw messages in one transaction (IMAP poll, benchmark); one result each."""
    limit = max_message_bytes()
    results: list[Stored] = []
    fresh: list[InboundMessage] = []
    with transaction.atomic():
        for raw in raws:
            if len(raw) > limit:
                results.append(
                    inbound_store_raw(raw=raw, channel=channel, source=source, queue=False)
                )
                continue
            fresh.append(
                InboundMessage(
                    channel=channel,
                    source=source[:200],
                    dedupe_key=raw_dedupe_key(raw),
                    raw=raw,
                    size=len(raw),
                )
            )
        keys = [row.dedupe_key for row in fresh]
        existing = dict(
            InboundMessage.objects.filter(dedupe_key__in=keys).values_list("dedupe_key", "pk")
        )
        seen: set[str] = set(existing)
        to_create = []
        for row in fresh:
            if row.dedupe_key not in seen:
                seen.add(row.dedupe_key)
                to_create.append(row)
        copy_insert(InboundMessage, to_create)
        created = {row.dedupe_key: row.pk for row in to_create}
        if None in created.values():  # a backend that returns no ids from a bulk insert
            created = dict(
                InboundMessage.objects.filter(dedupe_key__in=list(created)).values_list(
                    "dedupe_key", "pk"
                )
            )
        for row in fresh:
            if row.dedupe_key in created:
                results.append(Stored(created[row.dedupe_key], True, InboundMessage.State.PENDING))
            else:
                results.append(Stored(existing[row.dedupe_key], False, ""))
        new_ids = list(created.values())
        if queue and new_ids:
            _queue(new_ids)
    return results


@dataclass(frozen=True)
class Rejected:
    """An ESP event kept raw in the quarantine with the reason (see `inbound_store_events`)."""

    raw: bytes
    reason: str
    # The cleaned event, when there is one: re-processing it from the admin then works.
    payload: StoredEvent | None = None


def _insert_many(rows: list[InboundMessage]) -> None:
    """Insert new inbox rows (COPY on PostgreSQL: 10,000 events in a fraction of a second,
    where a multi-row INSERT took seconds). A row a concurrent delivery inserted meanwhile
    (same dedupe key) is skipped, not an error."""
    try:
        with transaction.atomic():
            copy_insert(InboundMessage, rows)
    except IntegrityError:
        logger.info("a concurrent delivery stored some of these events; inserting one by one")
        InboundMessage.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)


def inbound_store_events(
    *, esp: str, events: list[StoredEvent], rejected: list[Rejected]
) -> dict[str, int]:
    """Store a webhook batch set-based: new events pending, rejected ones quarantined.

    One SELECT for the dedupe keys already stored, one bulk INSERT, then processing queued after
    commit in batches. Redelivered events (same key) are not stored twice. Returns the counts.
    """
    from .process import BATCH_SIZE

    rows: list[InboundMessage] = []
    for event in events:
        rows.append(
            InboundMessage(
                channel=Channel.WEBHOOK,
                source=esp,
                dedupe_key=event_dedupe_key(esp, event),
                payload=event,
                size=len(json.dumps(event, default=str)),
            )
        )
    for bad in rejected:
        rows.append(
            InboundMessage(
                channel=Channel.WEBHOOK,
                source=esp,
                dedupe_key=f"esp-rejected:{esp}:" + hashlib.sha256(bad.raw).hexdigest(),
                raw=bad.raw,
                payload=bad.payload,
                size=len(bad.raw),
                state=InboundMessage.State.QUARANTINED,
                error=bad.reason[:5000],
            )
        )
    with transaction.atomic():
        keys = [row.dedupe_key for row in rows]
        seen = set(
            InboundMessage.objects.filter(dedupe_key__in=keys).values_list("dedupe_key", flat=True)
        )
        fresh = []
        for row in rows:
            if row.dedupe_key not in seen:
                seen.add(row.dedupe_key)
                fresh.append(row)
        _insert_many(fresh)
        pending = [row for row in fresh if row.state == InboundMessage.State.PENDING]
        ids = list(
            InboundMessage.objects.filter(
                dedupe_key__in=[row.dedupe_key for row in pending]
            ).values_list("pk", flat=True)
        )
        for start in range(0, len(ids), BATCH_SIZE):
            _queue(ids[start : start + BATCH_SIZE])
    return {
        "stored": len(pending),
        "duplicates": len(rows) - len(fresh),
        "quarantined": len(fresh) - len(pending),
    }


def inbound_store_event(*, esp: str, event: StoredEvent, queue: bool = True) -> Stored:
    """Store one normalised ESP event (see `bounces.webhooks`) and queue its processing."""
    fields = {
        "channel": Channel.WEBHOOK,
        "source": esp,
        "dedupe_key": event_dedupe_key(esp, event),
        "payload": event,
        "size": len(json.dumps(event, default=str)),
    }
    return _insert(fields, queue=queue)


def inbound_requeue(*, ids: list[int]) -> int:
    """Put quarantined or processed rows back to pending with fresh attempts, and queue them."""
    with transaction.atomic():
        count = (
            InboundMessage.objects.filter(pk__in=ids)
            .exclude(dedupe_key__startswith=OVERSIZE_PREFIX)
            .update(
                state=InboundMessage.State.PENDING,
                attempts=0,
                error="",
                processed_at=None,
                retry_at=None,
            )
        )
        if count:
            _queue(list(ids))
    return count
