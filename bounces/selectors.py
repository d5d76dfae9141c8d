"""Reads of blocks, bounces and sent emails that the record pages and the home page share.

Blocks belong to addresses, not to records: these take records (or addresses) and answer for
their lower-cased addresses. No selector here runs a query per row.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, Q

from records.addresses import address_key
from records.models import Contact, Lead, Record

from .categories import BlockCategory, BlockType, CategoryInfo
from .models import Block, Bounce, SentEmail, Unblock


def blocks_for_addresses(addresses: Iterable[str]) -> dict[str, Block]:
    """Return the active block of each address that has one, in one query."""
    keys = {address for address in addresses if address}
    if not keys:
        return {}
    return {block.address: block for block in Block.objects.active().filter(address__in=keys)}


def blocks_for_records(records: Iterable) -> dict[str, Block]:
    """Return the active blocks of the addresses the given records carry (one query)."""
    keys: set[str] = set()
    for record in records:
        # From the addresses, not the generated key columns: after a save the instance's
        # generated columns still hold the old values.
        keys.add(address_key(record.email))
        keys.add(address_key(record.backup_email))
    return blocks_for_addresses(keys)


def record_sent_emails(record, *, limit: int = 100) -> list[SentEmail]:
    """Return the record's latest sent emails, each with its latest bounce as `.last_bounce`.

    Two queries whatever the number of emails: the emails, then their bounces.
    """
    emails = list(
        SentEmail.objects.filter(**{record.record_type(): record})
        .select_related("mailing")
        .order_by("-sent_at", "-id")[:limit]
    )
    latest: dict[int | None, Bounce] = {}
    bounced = [email.pk for email in emails if email.status == SentEmail.Status.BOUNCED]
    if bounced:
        for bounce in Bounce.objects.filter(sent_email_id__in=bounced).order_by(
            "sent_email_id", "-received_at", "-id"
        ):
            latest.setdefault(bounce.sent_email_id, bounce)
    for email in emails:
        email.last_bounce = latest.get(email.pk)
    return emails


def record_last_emailed(record, sent_emails: list[SentEmail]):
    """Return when the record was last emailed: its newest email that left, or the stored date.

    The record page shows this beside the emails list, so the two never disagree (a record
    whose `last_emailed_at` was never set still has its emails).
    """
    left = [
        email.sent_at
        for email in sent_emails
        if email.sent_at and email.status != SentEmail.Status.SUPPRESSED
    ]
    dates = [date for date in (max(left, default=None), record.last_emailed_at) if date]
    return max(dates, default=None)


@dataclass(frozen=True)
class CategoryCount:
    info: CategoryInfo
    count: int


@dataclass(frozen=True)
class BlockSummary:
    temporary: list[CategoryCount]
    permanent: list[CategoryCount]

    @property
    def temporary_total(self) -> int:
        return sum(row.count for row in self.temporary)

    @property
    def permanent_total(self) -> int:
        return sum(row.count for row in self.permanent)

    @property
    def total(self) -> int:
        return self.temporary_total + self.permanent_total


def block_summary() -> BlockSummary:
    """Return the number of blocked addresses per type and category (one aggregate query)."""
    counts = {
        (row["type"], row["category"]): row["n"]
        for row in Block.objects.active()
        .order_by()
        .values("type", "category")
        .annotate(n=Count("id"))
    }
    rows: dict[str, list[CategoryCount]] = {BlockType.TEMPORARY: [], BlockType.PERMANENT: []}
    for member in BlockCategory:
        info = member.value
        count = counts.get((info.type, info.slug), 0)
        if count:
            rows[info.type].append(CategoryCount(info, count))
    for type_rows in rows.values():
        type_rows.sort(key=lambda row: -row.count)
    return BlockSummary(rows[BlockType.TEMPORARY], rows[BlockType.PERMANENT])


def recent_bounces(limit: int = 10) -> list[Bounce]:
    """Return the latest bounces that block something (newest first), each with `.record`.

    `.record` is the contact or lead the bounce is about: the one its sent email went to, else
    a record carrying the recipient address (None when no record does). Four queries at most.
    """
    bounces = list(
        Bounce.objects.exclude(type="")
        .select_related("sent_email__contact", "sent_email__lead")
        .order_by("-received_at", "-id")[:limit]
    )
    by_address: dict[str, Record] = {}
    unmatched = {
        address_key(bounce.recipient)
        for bounce in bounces
        if bounce.sent_email is None and bounce.recipient
    }
    if unmatched:
        # Contacts win over leads, as the lists' order does; the first match per address.
        for model in (Lead, Contact):
            for record in model.objects.filter(
                Q(email_key__in=unmatched) | Q(backup_email_key__in=unmatched)
            ).order_by("-id"):
                for key in (record.email_key, record.backup_email_key):
                    if key in unmatched:
                        by_address[key] = record
    for bounce in bounces:
        sent_to = bounce.sent_email.record if bounce.sent_email is not None else None
        bounce.record = sent_to or by_address.get(address_key(bounce.recipient))
    return bounces


def unblock_history(addresses: Iterable[str], *, limit: int = 20) -> list[Unblock]:
    """Return the latest lifts of the given addresses, with who lifted them (one query)."""
    keys = [address for address in addresses if address]
    if not keys:
        return []
    return list(
        Unblock.objects.filter(address__in=keys)
        .select_related("actor")
        .order_by("-created_at", "-id")[:limit]
    )
