"""List hygiene: find records with bad addresses, duplicates or no mail for six months, and clean
them up in bulk (clear the bad address, merge duplicates, delete), each action audited.

Finding is set-based SQL; "invalid" means an address that cannot be a mail address by its shape
(no @, no dot in the domain, spaces), the cheap test a database can run over a whole list.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from bounces.models import SentEmail
from core.categories import PERMANENT
from records.models import ADDRESS_COLUMNS, AddressColumns, Record
from records.selectors import records_not_emailed_since

from .models import HygieneAction

PROBLEMS = {
    "invalid": _("Invalid address"),
    "blocked": _("Permanently blocked address"),
    "duplicates": _("Duplicates"),
    "stale": _("Not emailed for 6 months"),
}
# What each problem can be fixed with.
ACTIONS = {
    "invalid": (HygieneAction.Action.CLEAR_ADDRESS, HygieneAction.Action.DELETE),
    "blocked": (HygieneAction.Action.CLEAR_ADDRESS, HygieneAction.Action.DELETE),
    "duplicates": (HygieneAction.Action.MERGE, HygieneAction.Action.DELETE),
    "stale": (HygieneAction.Action.DELETE,),
}
_VALID_SHAPE = r"^[^@\s]+@[^@\s]+\.[^@\s.]+$"


def _bad_invalid(columns: AddressColumns) -> Q:
    column = columns.address
    return ~Q(**{column: ""}) & ~Q(**{f"{column}__regex": _VALID_SHAPE})


def _bad_blocked(columns: AddressColumns) -> Q:
    return Q(**{f"{columns.block}__startswith": f"{PERMANENT}:"})


_BAD = {"invalid": _bad_invalid, "blocked": _bad_blocked}


def hygiene_records(model: type[Record], problem: str) -> QuerySet:
    """Return the records of `model` that have `problem`."""
    records = model.objects.all()
    if problem in _BAD:
        test = _BAD[problem]
        primary, backup = ADDRESS_COLUMNS.values()
        return records.filter(test(primary) | test(backup))
    if problem == "duplicates":
        keys = (
            model.objects.exclude(email_key="")
            .values("email_key")
            .annotate(n=Count("id"))
            .filter(n__gt=1)
            .values("email_key")
        )
        return records.filter(email_key__in=keys).order_by("email_key", "id")
    if problem == "stale":
        return records_not_emailed_since(records)
    raise ValueError(problem)


def _snapshot(record: Record) -> dict:
    return {
        "id": record.pk,
        "name": record.full_name,
        "company": record.company,
        "email": record.email,
        "backup_email": record.backup_email,
        "phone": record.phone,
    }


def _audit(
    *, actor: User, model: type[Record], action: str, problem: str, details: list[dict]
) -> HygieneAction:
    return HygieneAction.objects.create(
        actor=actor,
        record_type=model.record_type(),
        action=action,
        problem=problem,
        record_ids=[d["id"] for d in details],
        details=details,
        count=len(details),
    )


def hygiene_clear_addresses(
    *, actor: User, model: type[Record], problem: str, ids: list[int]
) -> HygieneAction:
    """Clear the bad address(es) of the selected records that still have `problem`."""
    test = _BAD[problem]
    with transaction.atomic():
        rows = list(
            hygiene_records(model, problem).filter(pk__in=ids).select_for_update().order_by("pk")
        )
        details = [_snapshot(r) for r in rows]
        pks = [r.pk for r in rows]
        # One UPDATE per field; the block column follows the address (an empty one has none).
        for columns in ADDRESS_COLUMNS.values():
            model.objects.filter(test(columns), pk__in=pks).update(
                **{columns.address: "", columns.block: ""}
            )
        return _audit(
            actor=actor,
            model=model,
            action=HygieneAction.Action.CLEAR_ADDRESS,
            problem=problem,
            details=details,
        )


def hygiene_delete(
    *, actor: User, model: type[Record], problem: str, ids: list[int]
) -> HygieneAction:
    """Delete the selected records that have `problem` (their data is kept in the audit row)."""
    with transaction.atomic():
        rows = list(hygiene_records(model, problem).filter(pk__in=ids).order_by("pk"))
        details = [_snapshot(r) for r in rows]
        model.objects.filter(pk__in=[r.pk for r in rows]).delete()
        return _audit(
            actor=actor,
            model=model,
            action=HygieneAction.Action.DELETE,
            problem=problem,
            details=details,
        )


_MERGED_FIELDS = ("first_name", "last_name", "company", "phone", "backup_email", "owner_id")


def hygiene_merge(*, actor: User, model: type[Record], ids: list[int]) -> HygieneAction:
    """Merge every duplicate group touched by the selection into its oldest record.

    The kept record takes the others' values for its empty fields and their sent emails; the
    others are deleted. The audit row keeps what each merged record held.
    """
    fk = model._meta.model_name  # SentEmail.contact / SentEmail.lead
    with transaction.atomic():
        keys = set(
            hygiene_records(model, "duplicates")
            .filter(pk__in=ids)
            .values_list("email_key", flat=True)
        )
        rows = list(
            model.objects.filter(email_key__in=keys).select_for_update().order_by("email_key", "pk")
        )
        groups: dict[str, list] = {}
        for row in rows:
            groups.setdefault(row.email_key, []).append(row)
        details = []
        for group in groups.values():
            if len(group) < 2:
                continue
            keeper, others = group[0], group[1:]
            changed = []
            for name in _MERGED_FIELDS:
                if not getattr(keeper, name):
                    value = next((getattr(o, name) for o in others if getattr(o, name)), None)
                    if value:
                        setattr(keeper, name, value)
                        changed.append(name)
            if changed:
                fields = [name.removesuffix("_id") for name in changed]
                keeper.save(update_fields=[*fields, "updated_at"])
            other_ids = [o.pk for o in others]
            SentEmail.objects.filter(**{f"{fk}_id__in": other_ids}).update(
                **{f"{fk}_id": keeper.pk}
            )
            details += [{**_snapshot(o), "merged_into": keeper.pk} for o in others]
            model.objects.filter(pk__in=other_ids).delete()
        if any(d for d in details):
            from bounces.services.record_blocks import records_sync_blocks

            records_sync_blocks(addresses=[r.backup_email for r in rows if r.backup_email])
        return _audit(
            actor=actor,
            model=model,
            action=HygieneAction.Action.MERGE,
            problem="duplicates",
            details=details,
        )
