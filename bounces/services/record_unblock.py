"""Lifting the blocks of one record's addresses (record page, list view)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from records.addresses import address_key
from records.models import EmailField, Record

from ..models import Block, Unblock
from .blocks import block_unblock
from .errors import NoAddress, NotBlocked, UnblockError

if TYPE_CHECKING:
    from django.contrib.auth.models import User

BOTH = "both"


def fields_for(choice: str) -> list[str]:
    """Return the email fields meant by "primary", "backup" or "both"."""
    if choice == BOTH:
        return [EmailField.PRIMARY, EmailField.BACKUP]
    if choice in (EmailField.PRIMARY, EmailField.BACKUP):
        return [choice]
    raise ValueError(f"unknown email field choice {choice!r}")


@dataclass
class RecordUnblockResult:
    unblocked: list[Unblock] = field(default_factory=list)
    refused: list[UnblockError] = field(default_factory=list)


def record_unblock(
    *,
    record: Record,
    fields: str,
    actor: User,
    source: str,
    confirmed: bool,
    reason: str = "",
) -> RecordUnblockResult:
    """Lift the blocks on the chosen address fields of `record`.

    Each field is decided on its own: lifting the primary address still happens when the backup
    one is permanent. When both fields hold the same address it is lifted once.
    """
    result = RecordUnblockResult()
    seen: set[str] = set()
    for name in fields_for(fields):
        key = address_key(record.address(name))
        if not key:
            result.refused.append(NoAddress(str(EmailField(name).label).lower()))
            continue
        if key in seen:
            continue
        seen.add(key)
        block = Block.objects.active().filter(address=key).first()
        try:
            if block is None:
                raise NotBlocked(record.address(name))
            result.unblocked.append(
                block_unblock(
                    block=block,
                    actor=actor,
                    source=source,
                    confirmed=confirmed,
                    reason=reason,
                    record=record,
                    field=name,
                )
            )
        except UnblockError as exc:
            result.refused.append(exc)
    return result
