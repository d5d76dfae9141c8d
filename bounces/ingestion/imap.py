"""Poll an IMAP bounce mailbox: store each new message, and only after the commit move it away.

A worker dying between the commit and the move leaves the message in the folder; the next poll
stores it again, which the dedupe key turns into a no-op, and then moves it. Nothing is lost and
nothing is counted twice.
"""

from __future__ import annotations

import imaplib
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from imap_tools import MailBox, MailBoxUnencrypted
from imap_tools.errors import MailboxLoginError

from ..models import BounceMailbox, Channel
from .store import (
    OVERSIZE_HEAD_BYTES,
    inbound_store_many_raw,
    inbound_store_oversized,
    max_message_bytes,
)

logger = logging.getLogger(__name__)

CHUNK = 100
TIMEOUT = 30
# Keyword set on stored messages when no processed folder is configured. A keyword, not \Seen:
# a person reading the mailbox must not make the poller skip a message.
STORED_KEYWORD = "$BounceCRMStored"
_UID = re.compile(rb"UID (\d+)")
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")


class MailboxUnavailable(Exception):
    """The IMAP server could not be reached or refused us; the poll will be retried."""


@dataclass
class PollResult:
    fetched: int = 0
    stored: int = 0
    duplicates: int = 0
    oversized: int = 0


def _connect(mailbox: BounceMailbox):
    cls = MailBox if mailbox.use_tls else MailBoxUnencrypted
    client = cls(mailbox.host, mailbox.port, timeout=TIMEOUT)
    return client.login(mailbox.username, mailbox.get_password(), initial_folder=mailbox.folder)


def _fetch(client, uids: list[str], parts: str) -> dict[str, bytes]:
    """Return {uid: data} for one UID FETCH (imaplib's public API: raw bytes, untouched)."""
    typ, data = client.client.uid("FETCH", ",".join(uids), parts)
    if typ != "OK":
        raise MailboxUnavailable(f"UID FETCH failed: {typ} {data!r}")
    found: dict[str, bytes] = {}
    for item in data:
        if isinstance(item, tuple):
            match = _UID.search(item[0])
            if match:
                found[match.group(1).decode()] = item[1]
    return found


def _sizes(client, uids: list[str]) -> dict[str, int]:
    typ, data = client.client.uid("FETCH", ",".join(uids), "(UID RFC822.SIZE)")
    if typ != "OK":
        raise MailboxUnavailable(f"UID FETCH failed: {typ} {data!r}")
    sizes = {}
    for item in data:
        line = item[0] if isinstance(item, tuple) else item
        if isinstance(line, bytes):
            uid, size = _UID.search(line), _SIZE.search(line)
            if uid and size:
                sizes[uid.group(1).decode()] = int(size.group(1))
    return sizes


def _store_chunk(client, mailbox: BounceMailbox, uids: list[str], result: PollResult) -> list[str]:
    """Store one chunk in one transaction; return the UIDs now safely committed."""
    limit = max_message_bytes()
    sizes = _sizes(client, uids)
    small = [u for u in uids if sizes.get(u, 0) <= limit]
    large = [u for u in uids if sizes.get(u, 0) > limit]
    bodies = _fetch(client, small, "(UID BODY.PEEK[])") if small else {}
    heads = _fetch(client, large, f"(UID BODY.PEEK[]<0.{OVERSIZE_HEAD_BYTES}>)") if large else {}
    source = mailbox.name
    with transaction.atomic():
        stored = inbound_store_many_raw(
            raws=[bodies[u] for u in small if u in bodies], channel=Channel.IMAP, source=source
        )
        for uid in large:
            if uid in heads:
                inbound_store_oversized(
                    head=heads[uid],
                    size=sizes[uid],
                    limit=limit,
                    channel=Channel.IMAP,
                    source=source,
                )
    result.fetched += len(bodies) + len(heads)
    result.stored += sum(1 for s in stored if s.created)
    result.duplicates += sum(1 for s in stored if not s.created)
    result.oversized += len(heads)
    return [u for u in small if u in bodies] + [u for u in large if u in heads]


def _done(client, mailbox: BounceMailbox, uids: list[str]) -> None:
    if mailbox.processed_folder:
        client.move(uids, mailbox.processed_folder)
    else:
        client.flag(uids, STORED_KEYWORD, True)


def mailbox_poll(
    *, mailbox: BounceMailbox, after_commit: Callable[[list[str]], None] | None = None
) -> PollResult:
    """Store every new message of `mailbox`, then move (or flag) it; record the outcome.

    `after_commit` runs between a chunk's commit and its move (tests use it to die there).
    Raises MailboxUnavailable (after recording the error on the mailbox) when the server cannot
    be reached, logged into, or fails mid-poll.
    """
    result = PollResult()
    try:
        with _connect(mailbox) as client:
            if mailbox.processed_folder and not client.folder.exists(mailbox.processed_folder):
                client.folder.create(mailbox.processed_folder)
            criteria = "ALL" if mailbox.processed_folder else f"UNKEYWORD {STORED_KEYWORD}"
            uids = client.uids(criteria)
            for start in range(0, len(uids), CHUNK):
                chunk = uids[start : start + CHUNK]
                committed = _store_chunk(client, mailbox, chunk, result)
                if after_commit is not None:
                    after_commit(committed)
                if committed:
                    _done(client, mailbox, committed)
    except (TimeoutError, OSError, imaplib.IMAP4.error, MailboxLoginError) as exc:
        error = f"{type(exc).__name__}: {exc}"
        _record(mailbox, error=error)
        logger.warning("bounce mailbox %s: %s", mailbox.name, error)
        raise MailboxUnavailable(error) from exc
    except MailboxUnavailable as exc:
        _record(mailbox, error=str(exc))
        raise
    _record(mailbox, error="")
    return result


def _record(mailbox: BounceMailbox, *, error: str) -> None:
    now = timezone.now()
    qs = BounceMailbox.objects.filter(pk=mailbox.pk)
    if error:
        from django.db.models import F

        qs.update(
            last_polled_at=now,
            last_error=error[:2000],
            consecutive_failures=F("consecutive_failures") + 1,
        )
    else:
        qs.update(last_polled_at=now, last_success_at=now, last_error="", consecutive_failures=0)
    mailbox.refresh_from_db(
        fields=["last_polled_at", "last_success_at", "last_error", "consecutive_failures"]
    )


def mailboxes_failing():
    """Return the enabled mailboxes whose last poll failed (for an admin banner)."""
    return BounceMailbox.objects.failing().order_by("name")
