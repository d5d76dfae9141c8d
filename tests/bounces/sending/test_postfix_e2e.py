"""End to end through a real MTA: CRM → Celery worker → Postfix → mailbox or DSN → pipe →
`manage.py ingest_bounce` → block, sent email bounced → the next mailing suppresses the address.

Needs Debian's postfix (scripts/install-test-services), Redis and PostgreSQL (the pipe runs as
`nobody`, which cannot open a SQLite file of the test run).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from django.db import connection

from bounces.models import Block, Mailing, Sender, SentEmail
from bounces.sending import services
from tests.bounces.sending.postfix import (
    BOUNCE_DOMAIN,
    POSTFIX,
    TEST_DOMAIN,
    postfix_start,
    wait_for_port,
)
from tests.conftest import ROOT, _database_url_for_worker, require_service, wait_until
from tests.factories import ContactFactory

PORT = 27125


@pytest.fixture
def postfix(transactional_db):
    if not Path(POSTFIX).exists():
        require_service("Postfix (/usr/sbin/postfix)")
    if connection.vendor != "postgresql":
        pytest.skip("the Postfix pipe runs as nobody and needs PostgreSQL")
    root = Path(tempfile.mkdtemp(prefix="bcrm-postfix-"))
    instance = postfix_start(root, port=PORT, database_url=_database_url_for_worker(), project=ROOT)
    try:
        assert wait_for_port(PORT), instance.log()
        yield instance
    finally:
        instance.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def worker(postfix, monkeypatch, settings, request):
    # The worker process sends through the private Postfix with VERP on the test's bounce domain.
    for key, value in {
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(PORT),
        "BOUNCE_DOMAIN": BOUNCE_DOMAIN,
        "SENDING_RETRY_BASE_SECONDS": "1",
    }.items():
        monkeypatch.setenv(key, value)
    settings.BOUNCE_DOMAIN = BOUNCE_DOMAIN
    return request.getfixturevalue("celery_worker")


def test_mailing_through_postfix_bounces_back_blocks_and_suppresses_next_time(postfix, worker):
    sender = Sender.objects.create(address="sales@crm.e2e", name="Sales", max_per_minute=0)
    alice = ContactFactory(first_name="Alice", email=f"alice@{TEST_DOMAIN}")
    ContactFactory(first_name="Ghost", email=f"ghost@{TEST_DOMAIN}")  # no such mailbox
    ContactFactory(first_name="Full", email=f"full@{TEST_DOMAIN}")  # mailbox over its limit
    selection = {"criteria": {"q": TEST_DOMAIN}}
    mailing = services.mailing_create(
        name="E2E",
        sender=sender,
        subject="Hello {{first_name}}",
        body="Hi {{first_name}}",
        record_type="contact",
        selection=selection,
        actor=None,
    )
    services.mailing_confirm(mailing=mailing)

    def settled():
        rows = {r.to_address: r for r in SentEmail.objects.filter(mailing=mailing)}
        ready = rows and all(r.status in ("sent", "bounced") for r in rows.values())
        blocks = Block.objects.active().filter(address__endswith=TEST_DOMAIN).count()
        return rows if ready and blocks == 2 else None

    try:
        rows = wait_until(settled, timeout=90, interval=0.5)
    except BaseException:
        print(postfix.log()[-6000:])
        raise
    assert rows[f"alice@{TEST_DOMAIN}"].status == "sent"
    ghost = rows[f"ghost@{TEST_DOMAIN}"]
    assert ghost.status == "bounced" and ghost.bounced_at is not None
    blocks = {b.address: b for b in Block.objects.active()}
    assert (blocks[f"ghost@{TEST_DOMAIN}"].type, blocks[f"ghost@{TEST_DOMAIN}"].category) == (
        "permanent",
        "bad_mailbox",
    )
    assert blocks[f"full@{TEST_DOMAIN}"].type == "temporary"
    assert blocks[f"full@{TEST_DOMAIN}"].category == "mailbox_full"
    # The delivered copy carries the stored Message-ID, the VERP return path and one-click
    # unsubscribe.
    delivered = postfix.mailbox("alice").read_text()
    sent = rows[f"alice@{TEST_DOMAIN}"]
    assert f"Return-Path: <bounces+{sent.verp_token}@{BOUNCE_DOMAIN}>" in delivered
    assert f"Message-ID: {sent.message_id}" in delivered
    assert "List-Unsubscribe-Post: List-Unsubscribe=One-Click" in delivered
    assert "Subject: Hello Alice" in delivered
    mailing.refresh_from_db()
    assert mailing.recipients_sent == 3 and mailing.recipients_bounced >= 1
    alice.refresh_from_db()
    assert alice.last_emailed_at is not None

    check = services.mailing_precheck(record_type="contact", selection=selection)
    assert [r.address for r in check.recipients] == [f"alice@{TEST_DOMAIN}"]
    reasons = {s.address: s.reason for s in check.suppressed}
    assert reasons == {
        f"ghost@{TEST_DOMAIN}": "blocked:permanent:bad_mailbox",
        f"full@{TEST_DOMAIN}": "blocked:temporary:mailbox_full",
    }
    assert Mailing.objects.get(pk=mailing.pk).state == Mailing.State.DONE
    assert os.environ["EMAIL_PORT"] == str(PORT)
