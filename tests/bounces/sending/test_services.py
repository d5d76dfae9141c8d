"""The send service with Django's locmem backend: headers, suppression, claims, counts."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError

from bounces.models import BouncePolicy, Mailing, OptOut, SentEmail
from bounces.sending import services
from bounces.verp import verp_parse
from records.models import EmailField
from tests.factories import BlockFactory, ContactFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=False)


def test_one_to_one_email_carries_verp_message_id_and_merge_fields(
    sender, mail_settings, django_capture_on_commit_callbacks
):
    owner = UserFactory(first_name="Olga", last_name="Owner", email="olga@crm.example")
    contact = ContactFactory(first_name="Li", email="li@customer.example", owner=owner)
    with django_capture_on_commit_callbacks(execute=True):
        row = services.email_queue(
            record=contact,
            field=EmailField.PRIMARY,
            sender=sender,
            subject="Hello {{first_name}}",
            body="Regards,\n{{owner_signature}}",
            actor=owner,
        )
    row.refresh_from_db()
    assert row.status == SentEmail.Status.SENT
    assert row.field == EmailField.PRIMARY
    (message,) = mail.outbox
    assert message.subject == "Hello Li"
    assert "Olga Owner\nolga@crm.example" in message.body
    assert verp_parse(message.from_email) == row.verp_token  # the envelope sender
    assert message.extra_headers["From"] == "ACME Sales <sales@crm.example>"
    assert message.extra_headers["Message-ID"] == row.message_id
    assert "List-Unsubscribe" not in message.extra_headers  # one-to-one mail
    contact.refresh_from_db()
    assert contact.last_emailed_at == row.sent_at


def test_blocked_address_is_stored_suppressed_and_not_sent(sender, mail_settings):
    contact = ContactFactory(email="gone@customer.example")
    BlockFactory(address="gone@customer.example", type="permanent", category="bad_mailbox")
    row = services.email_queue(
        record=contact, field="primary", sender=sender, subject="x", body="y", actor=None
    )
    assert row.status == SentEmail.Status.SUPPRESSED
    assert "blocked permanently" in row.status_reason
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("subject", "body", "needle"),
    [
        ("", "body", "subject is empty"),
        ("Hi {{nickname}}", "body", "{{nickname}}"),
        ("Hi", "{{first_name", "not closed"),
    ],
)
def test_bad_input_is_refused_before_anything_is_stored(sender, subject, body, needle):
    contact = ContactFactory()
    with pytest.raises(services.SendError, match=needle.replace("{", r"\{")):
        services.email_queue(
            record=contact, field="primary", sender=sender, subject=subject, body=body, actor=None
        )
    assert not SentEmail.objects.exists()


def test_from_must_be_a_configured_active_sender(sender):
    with pytest.raises(services.SendError):
        services.sender_for("someone@else.example")
    sender.active = False
    sender.save()
    with pytest.raises(services.SendError):
        services.sender_for(sender.address)


def _mailing(sender, **kwargs):
    return services.mailing_create(
        name="Spring",
        sender=sender,
        subject="Offer for {{company}}",
        body="Dear {{first_name}}",
        record_type="contact",
        selection=kwargs.pop("selection", {"criteria": {}}),
        actor=None,
    )


def test_mailing_sends_to_each_and_suppresses_blocked_and_opted_out(
    sender, mail_settings, django_capture_on_commit_callbacks
):
    ok = ContactFactory(email="ok@customer.example", company="Acme")
    ContactFactory(email="blocked@customer.example")
    BlockFactory(address="blocked@customer.example")
    ContactFactory(email="optout@customer.example")
    OptOut.objects.create(address="optout@customer.example", source="link")
    later = ContactFactory(email="later@customer.example")
    mailing = _mailing(sender)
    check = services.mailing_precheck(record_type="contact", selection={"criteria": {}})
    assert check.to_send == 2 and check.suppressed_count == 2
    reasons = {key for key, _label, _n in check.suppressed_by_reason()}
    assert reasons == {"opted_out", "blocked:temporary:mailbox_full"}
    # Confirmed, queued, and only then the later address is blocked: it must not be mailed.
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.mailing_confirm(mailing=mailing)
    BlockFactory(address="later@customer.example", type="permanent", category="bad_mailbox")
    for callback in callbacks:
        callback()
    mailing.refresh_from_db()
    assert mailing.state == Mailing.State.DONE
    assert [m.to for m in mail.outbox] == [["ok@customer.example"]]
    message = mail.outbox[0]
    assert message.subject == "Offer for Acme"
    assert message.extra_headers["List-Unsubscribe"].startswith("<http")
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    rows = {r.to_address: r for r in SentEmail.objects.filter(mailing=mailing)}
    assert rows["ok@customer.example"].status == "sent"
    assert rows["later@customer.example"].status == "suppressed"
    assert "after it was queued" in rows["later@customer.example"].status_reason
    assert rows["optout@customer.example"].status == "suppressed"
    assert mailing.recipients_sent == 1 and mailing.recipients_suppressed == 3
    ok.refresh_from_db()
    later.refresh_from_db()
    assert ok.last_emailed_at is not None and later.last_emailed_at is None


def test_backup_fallback_policy_decides_skip_or_backup(sender, mail_settings):
    ContactFactory(email="p@customer.example", backup_email="b@customer.example")
    BlockFactory(address="p@customer.example")
    check = services.mailing_precheck(record_type="contact", selection={"criteria": {}})
    assert check.to_send == 0 and check.suppressed_count == 1
    policy = BouncePolicy.current()
    policy.backup_fallback = BouncePolicy.BackupFallback.BACKUP
    policy.save()
    check = services.mailing_precheck(record_type="contact", selection={"criteria": {}})
    (recipient,) = check.recipients
    assert (recipient.field, recipient.address) == ("backup", "b@customer.example")


def test_mailing_with_no_sendable_recipient_is_refused(sender):
    ContactFactory(email="blocked@customer.example")
    BlockFactory(address="blocked@customer.example")
    mailing = _mailing(sender)
    with pytest.raises(services.SendError, match="No recipient"):
        services.mailing_confirm(mailing=mailing)
    assert not SentEmail.objects.exists()
    assert Mailing.objects.get(pk=mailing.pk).state == Mailing.State.DRAFT


def test_claimed_row_is_never_claimed_twice(sender):
    ContactFactory(email="a@customer.example")
    mailing = _mailing(sender)
    from django.test.utils import CaptureQueriesContext  # noqa: F401 - on_commit not run here

    services.mailing_confirm(mailing=mailing)
    from django.utils import timezone

    first = services._claim(SentEmail.objects.filter(mailing=mailing), timezone.now(), 10)
    second = services._claim(SentEmail.objects.filter(mailing=mailing), timezone.now(), 10)
    assert len(first) == 1 and second == []


def test_command_prints_check_and_refuses_bad_input(sender, mail_settings, tmp_path, capsys):
    ContactFactory(email="a@customer.example", company="Acme")
    ContactFactory(email="b@gmial.com", company="Other")
    body = tmp_path / "body.txt"
    body.write_text("Hi {{first_name}}")
    args = ["--name", "N", "--from", sender.address, "--subject", "S", "--body-file", str(body)]
    call_command("send_mailing", *args, "--contacts", "--filter", "q=acme")
    out = capsys.readouterr().out
    assert "To send: 1" in out and "Not sent" in out
    assert not Mailing.objects.exists()
    call_command("send_mailing", *args, "--contacts")
    assert "typo" in capsys.readouterr().out
    with pytest.raises(CommandError, match="not a configured sender"):
        call_command("send_mailing", *args[:2], "--from", "x@y.example", *args[4:], "--contacts")
    body.write_text("{{bogus}}")
    with pytest.raises(CommandError, match="bogus"):
        call_command("send_mailing", *args, "--contacts", "--yes")
    with pytest.raises(CommandError, match="filter"):
        call_command("send_mailing", *args, "--contacts", "--filter", "owner=notanumber", "--yes")
    assert not Mailing.objects.exists() and not SentEmail.objects.exists()
    body.write_text("Hi {{first_name}}")
    call_command("send_mailing", *args, "--contacts", "--filter", "q=acme", "--yes")
    assert [m.to for m in mail.outbox] == [["a@customer.example"]]
    assert Mailing.objects.get().state == Mailing.State.DONE


def test_big_mailing_has_its_rows_written_by_the_worker_step(sender, mail_settings):
    mail_settings.SENDING_CONFIRM_SYNC_LIMIT = 1
    ContactFactory(email="a@customer.example")
    ContactFactory(email="b@customer.example")
    mailing = _mailing(sender)
    services.mailing_confirm(mailing=mailing)  # on_commit (the task) not run here
    assert not SentEmail.objects.filter(mailing=mailing).exists()
    step = services.mailing_send_step(mailing_id=mailing.pk)
    assert step.sent == 2 and step.state == Mailing.State.DONE
    assert not services.mailing_materialize(mailing_id=mailing.pk)  # written once only
    assert SentEmail.objects.filter(mailing=mailing).count() == 2
