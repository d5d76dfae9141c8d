"""Create a mailing from the command line, print its pre-send check and, with --yes, send it."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from bounces.sending.recipients import RISKS, PreCheck
from bounces.sending.services import (
    FILTER_NOT_VALID,
    SendError,
    mailing_confirm,
    mailing_create,
    mailing_precheck,
    mailing_send_all,
    sender_for,
)
from records.models import record_model
from records.selectors import InvalidSelection, criteria_from_query


def precheck_lines(check: PreCheck) -> list[str]:
    """Return the pre-send check as the lines the command prints."""
    lines = [
        f"Selected records: {check.selected}",
        f"To send: {check.to_send}"
        + (f" ({check.backup_used} to the backup address)" if check.backup_used else ""),
        f"Suppressed: {check.suppressed_count}",
    ]
    lines += [f"  {label}: {count}" for _key, label, count in check.suppressed_by_reason()]
    risky = check.risky_rows()
    lines.append(f"Risky: {sum(count for _k, _l, count, _x in risky)} (a record may be in several)")
    for key, label, count, excluded in risky:
        lines.append(f"  {key} ({label}): {count}" + (" — excluded" if excluded else ""))
    if check.typo_examples:
        shown = ", ".join(f"{d} → {s}" for d, s in check.typo_examples.items())
        lines.append(f"  likely typos: {shown}")
    if check.excluded_count:
        lines.append(f"Excluded as risky: {check.excluded_count}")
    lines.append(f"Projected bounce rate: {check.projected_bounce_rate:.1f}%")
    if check.webmail_from:
        lines.append(
            "Warning: the From address is on a free webmail domain; recipients' servers will "
            "likely reject or junk mass mail from it (DMARC)."
        )
    return lines


class Command(BaseCommand):
    help = (
        "Select contacts or leads exactly as the list page does (same query string), print the "
        "pre-send check and, with --yes, send the mailing: through the Celery worker when a "
        "broker is configured, in this process otherwise. Bad input exits non-zero and queues "
        "nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True, help="The mailing's name.")
        parser.add_argument(
            "--from", dest="from_address", required=True, help="A configured sender address."
        )
        parser.add_argument("--subject", required=True, help="Subject; merge fields allowed.")
        parser.add_argument(
            "--body-file", required=True, help="Plain-text body file; merge fields allowed."
        )
        record_type = parser.add_mutually_exclusive_group(required=True)
        record_type.add_argument("--contacts", action="store_true", help="Mail contacts.")
        record_type.add_argument("--leads", action="store_true", help="Mail leads.")
        parser.add_argument(
            "--filter",
            default="",
            help="The list page's query string, e.g. 'q=acme&owner=2' (default: every record).",
        )
        parser.add_argument(
            "--exclude",
            action="append",
            default=[],
            choices=list(RISKS),
            help="Leave out a risky group (repeatable).",
        )
        parser.add_argument("--yes", action="store_true", help="Send (else only print the check).")

    def handle(self, *args, **options):
        try:
            body = Path(options["body_file"]).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"cannot read the body file: {exc}") from exc
        record_type = "contact" if options["contacts"] else "lead"
        try:
            criteria = criteria_from_query(options["filter"].lstrip("?"), record_model(record_type))
        except InvalidSelection as exc:
            raise CommandError(str(FILTER_NOT_VALID)) from exc
        selection = {"criteria": criteria.as_dict()}
        try:
            sender = sender_for(options["from_address"])
            check = mailing_precheck(
                record_type=record_type,
                selection=selection,
                from_address=sender.address,
                exclude=options["exclude"],
            )
        except SendError as exc:
            raise CommandError(str(exc)) from exc
        for line in precheck_lines(check):
            self.stdout.write(line)
        if not check.recipients:
            raise CommandError("No recipient can be sent to; nothing was queued.")
        if not options["yes"]:
            self.stdout.write("Not sent: add --yes to send.")
            return
        actor = get_user_model().objects.filter(is_superuser=True).order_by("pk").first()
        try:
            with transaction.atomic():
                mailing = mailing_create(
                    name=options["name"],
                    sender=sender,
                    subject=options["subject"],
                    body=body,
                    record_type=record_type,
                    selection=selection,
                    actor=actor,
                )
                check = mailing_confirm(mailing=mailing, exclude=options["exclude"], actor=actor)
        except SendError as exc:
            raise CommandError(str(exc)) from exc
        if settings.CELERY_TASK_ALWAYS_EAGER:
            # No broker: the commit above already ran one step in this process; finish here.
            result = mailing_send_all(mailing_id=mailing.pk)
            mailing.refresh_from_db()
            self.stdout.write(
                f"Mailing {mailing.pk} {mailing.state}: {mailing.recipients_sent} sent, "
                f"{mailing.recipients_failed} failed, {result.retry} retried."
            )
        else:
            self.stdout.write(
                f"Mailing {mailing.pk} queued: {check.to_send} messages go out through the worker."
            )
