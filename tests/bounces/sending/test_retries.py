"""SMTP down or refusing: rows wait as "retrying" with back-off and are never sent twice
(a real SMTP server, aiosmtpd, on a private port)."""

from __future__ import annotations

import pytest
from aiosmtpd.controller import Controller
from django.utils import timezone

from bounces.models import Mailing, SentEmail
from bounces.sending import services
from tests.factories import ContactFactory

PORT = 27131


class Sink:
    """Accepts every message; refuses the first `refuse` DATA commands with 451."""

    def __init__(self, refuse: int = 0) -> None:
        self.refuse = refuse
        self.message_ids: list[str] = []

    async def handle_DATA(self, server, session, envelope):
        if self.refuse > 0:
            self.refuse -= 1
            return "451 4.3.0 Try again later"
        for line in envelope.content.decode(errors="replace").splitlines():
            if line.lower().startswith("message-id:"):
                self.message_ids.append(line.split(":", 1)[1].strip())
        return "250 OK"


@pytest.fixture
def smtp_settings(settings, sender):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = PORT
    settings.EMAIL_TIMEOUT = 5
    settings.SENDING_RETRY_BASE_SECONDS = 30
    return settings


def _queued_mailing(sender, n=3) -> Mailing:
    for i in range(n):
        ContactFactory(email=f"r{i}@customer.example", last_emailed_at=timezone.now())
    mailing = services.mailing_create(
        name="M",
        sender=sender,
        subject="S",
        body="B",
        record_type="contact",
        selection={"criteria": {}},
        actor=None,
    )
    services.mailing_confirm(mailing=mailing)  # on_commit not run: nothing sent yet
    return mailing


def _statuses(mailing) -> list[str]:
    return sorted(SentEmail.objects.filter(mailing=mailing).values_list("status", flat=True))


@pytest.mark.django_db
def test_server_down_then_refusing_then_up_sends_each_message_once(sender, smtp_settings):
    mailing = _queued_mailing(sender)
    # 1. Nothing listens: every row waits, with the reason and a back-off.
    step = services.mailing_send_step(mailing_id=mailing.pk)
    assert step.sent == 0 and step.retry == 3 and step.again_in >= 1
    rows = list(SentEmail.objects.filter(mailing=mailing))
    assert {r.status for r in rows} == {"retrying"}
    assert all(r.next_attempt_at > timezone.now() and r.attempts == 1 for r in rows)
    assert "Connection refused" in rows[0].status_reason or "Errno" in rows[0].status_reason
    # Not due yet: a new step claims nothing.
    assert services.mailing_send_step(mailing_id=mailing.pk).sent == 0
    # 2. The server answers 451 to the first message: that one waits again, the rest go.
    sink = Sink(refuse=1)
    controller = Controller(sink, hostname="127.0.0.1", port=PORT)
    controller.start()
    try:
        SentEmail.objects.filter(mailing=mailing).update(next_attempt_at=timezone.now())
        step = services.mailing_send_step(mailing_id=mailing.pk)
        assert step.sent == 2 and step.retry == 1
        retrying = SentEmail.objects.get(mailing=mailing, status="retrying")
        assert retrying.status_reason.startswith("451") and retrying.attempts == 2
        # The back-off doubles: 30 s after the 1st attempt, 60 s after the 2nd.
        assert services.retry_delay(1) == 30 and services.retry_delay(2) == 60
        SentEmail.objects.filter(pk=retrying.pk).update(next_attempt_at=timezone.now())
        step = services.mailing_send_step(mailing_id=mailing.pk)
        assert step.sent == 1 and step.state == Mailing.State.DONE
    finally:
        controller.stop()
    assert _statuses(mailing) == ["sent", "sent", "sent"]
    stored = set(SentEmail.objects.filter(mailing=mailing).values_list("message_id", flat=True))
    assert sorted(sink.message_ids) == sorted(stored)  # each exactly once
    mailing.refresh_from_db()
    assert mailing.recipients_sent == 3 and mailing.recipients_failed == 0


@pytest.mark.django_db
def test_permanent_refusal_fails_the_row_without_retry(sender, smtp_settings):
    class Refuse(Sink):
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            return "550 5.1.1 No such user"

    mailing = _queued_mailing(sender, n=1)
    controller = Controller(Refuse(), hostname="127.0.0.1", port=PORT)
    controller.start()
    try:
        step = services.mailing_send_step(mailing_id=mailing.pk)
    finally:
        controller.stop()
    assert step.failed == 1
    row = SentEmail.objects.get(mailing=mailing)
    assert row.status == "failed" and "550" in row.status_reason


@pytest.mark.django_db
def test_row_left_claimed_by_a_dead_worker_is_failed_not_resent(sender, smtp_settings):
    mailing = _queued_mailing(sender, n=1)
    claimed = services._claim(SentEmail.objects.filter(mailing=mailing), timezone.now(), 10)
    assert len(claimed) == 1  # …and the worker dies before recording the server's answer
    found = services.sending_sweep(now=timezone.now() + services.STUCK_AFTER * 2)
    assert found["stuck"] == 1
    row = SentEmail.objects.get(mailing=mailing)
    assert row.status == "failed" and "not sent again" in row.status_reason
    assert services._claim(SentEmail.objects.filter(mailing=mailing), timezone.now(), 10) == []


def test_direct_wire_form_matches_djangos_and_falls_back_for_non_ascii():
    import email

    from django.core.mail import EmailMessage

    from bounces.sending.services import message_bytes

    headers = {
        "From": "Sales <sales@crm.example>",
        "Message-ID": "<abc@bounces.example>",
        "List-Unsubscribe": "<https://crm.example/unsubscribe/x/>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    message = EmailMessage(
        "Offer", "Dear Li,\n.\nBye\n", "bounces+t@b.example", ["li@c.example"], headers=headers
    )
    fast = email.message_from_bytes(message_bytes(message))
    slow = email.message_from_bytes(message.message().as_bytes())
    for name in ("From", "To", "Subject", "Message-ID", "List-Unsubscribe", "Content-Type"):
        assert fast[name] == slow[name], name
    assert fast.get_payload() == "Dear Li,\r\n.\r\nBye\r\n"
    message.subject = "Angebot für Sie"
    assert b"=?utf-8?" in message_bytes(message)  # encoded by Django, not written raw
    message.subject = "Hi\nBcc: x@evil.example"
    with pytest.raises(Exception, match="newline"):
        message_bytes(message)
