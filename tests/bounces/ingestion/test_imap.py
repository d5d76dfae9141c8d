"""IMAP bounce mailboxes against a real Dovecot on loopback."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import uuid

import pytest
from imap_tools import MailBoxUnencrypted

from bench.samples import sample
from bounces.ingestion.imap import MailboxUnavailable, mailbox_poll, mailboxes_failing
from bounces.models import Bounce, BounceMailbox, InboundMessage
from tests.conftest import ROOT, _database_url_for_worker

pytestmark = pytest.mark.imap


@pytest.fixture
def imap_folder(dovecot):
    """A fresh folder pair per test (the server lives for the whole session)."""
    name = f"t{uuid.uuid4().hex[:8]}"
    with MailBoxUnencrypted(dovecot["host"], dovecot["port"]).login(
        dovecot["user"], dovecot["password"]
    ) as mb:
        mb.folder.create(name)
    return name


def _mailbox(dovecot, folder, **extra) -> BounceMailbox:
    box = BounceMailbox(
        name=f"box-{folder}",
        host=dovecot["host"],
        port=dovecot["port"],
        use_tls=False,
        username=dovecot["user"],
        folder=folder,
        processed_folder=f"{folder}-done",
        **extra,
    )
    box.set_password(dovecot["password"])
    box.save()
    return box


def _append(dovecot, folder, raws):
    with MailBoxUnencrypted(dovecot["host"], dovecot["port"]).login(
        dovecot["user"], dovecot["password"]
    ) as mb:
        for raw in raws:
            mb.append(raw, folder)


def _count(dovecot, folder) -> int:
    with MailBoxUnencrypted(dovecot["host"], dovecot["port"]).login(
        dovecot["user"], dovecot["password"], initial_folder=folder
    ) as mb:
        return len(mb.uids("ALL"))


@pytest.mark.django_db
def test_new_messages_are_stored_processed_and_moved(
    dovecot, imap_folder, django_capture_on_commit_callbacks
):
    box = _mailbox(dovecot, imap_folder)
    samples = [sample(n, shape="postfix", failure=0) for n in range(3)]
    _append(dovecot, imap_folder, [s.raw for s in samples])

    with django_capture_on_commit_callbacks(execute=True):
        result = mailbox_poll(mailbox=box)

    assert (result.fetched, result.stored) == (3, 3)
    assert InboundMessage.objects.filter(channel="imap", source=box.name).count() == 3
    stored = {bytes(r) for r in InboundMessage.objects.values_list("raw", flat=True)}
    assert stored == {s.raw for s in samples}  # byte for byte, as the server holds them
    assert set(Bounce.objects.values_list("recipient", flat=True)) == {
        s.recipient.lower() for s in samples
    }
    assert _count(dovecot, imap_folder) == 0 and _count(dovecot, f"{imap_folder}-done") == 3
    box.refresh_from_db()
    assert box.last_success_at and box.consecutive_failures == 0 and box.last_error == ""
    # A second poll finds nothing new.
    assert mailbox_poll(mailbox=box).fetched == 0


@pytest.mark.django_db
def test_without_processed_folder_messages_get_a_keyword_instead(dovecot, imap_folder):
    box = _mailbox(dovecot, imap_folder)
    box.processed_folder = ""
    box.save()
    _append(dovecot, imap_folder, [sample(10).raw, sample(11).raw])
    assert mailbox_poll(mailbox=box).stored == 2
    assert _count(dovecot, imap_folder) == 2  # left in place, flagged
    assert mailbox_poll(mailbox=box).fetched == 0


@pytest.mark.django_db
def test_password_from_the_environment(dovecot, imap_folder, monkeypatch):
    box = _mailbox(dovecot, imap_folder, password_env="BOUNCE_IMAP_TEST_PASSWORD")
    box.password_encrypted = ""
    box.save()
    monkeypatch.setenv("BOUNCE_IMAP_TEST_PASSWORD", dovecot["password"])
    _append(dovecot, imap_folder, [sample(12).raw])
    assert mailbox_poll(mailbox=box).stored == 1


@pytest.mark.django_db
def test_the_password_is_stored_encrypted(dovecot, imap_folder):
    box = _mailbox(dovecot, imap_folder)
    assert dovecot["password"] not in box.password_encrypted
    assert BounceMailbox.objects.get(pk=box.pk).get_password() == dovecot["password"]


@pytest.mark.django_db
def test_server_down_is_recorded_and_shown_then_retried(dovecot, imap_folder):
    from tests.bounces.ingestion.conftest import _free_port

    box = _mailbox(dovecot, imap_folder)
    box.port = _free_port()  # nothing listens there
    box.save()
    for attempt in (1, 2):
        with pytest.raises(MailboxUnavailable):
            mailbox_poll(mailbox=box)
        box.refresh_from_db()
        assert box.consecutive_failures == attempt
    assert "refused" in box.last_error.lower() or "connect" in box.last_error.lower()
    assert list(mailboxes_failing()) == [box]
    # The server is back: the next poll succeeds and clears the alert.
    box.port = dovecot["port"]
    box.save()
    _append(dovecot, imap_folder, [sample(13).raw])
    assert mailbox_poll(mailbox=box).stored == 1
    box.refresh_from_db()
    assert box.consecutive_failures == 0 and not list(mailboxes_failing())


@pytest.mark.django_db
def test_wrong_password_is_an_alert_not_a_crash(dovecot, imap_folder):
    box = _mailbox(dovecot, imap_folder)
    box.set_password("wrong")
    box.save()
    with pytest.raises(MailboxUnavailable):
        mailbox_poll(mailbox=box)
    box.refresh_from_db()
    assert box.last_error and box.consecutive_failures == 1


@pytest.mark.django_db
def test_poll_task_retries_while_the_server_is_down(dovecot, imap_folder):
    from celery.exceptions import Retry

    from bounces.tasks import poll_mailbox
    from tests.bounces.ingestion.conftest import _free_port

    box = _mailbox(dovecot, imap_folder)
    box.port = _free_port()
    box.save()
    with pytest.raises((Retry, MailboxUnavailable)):
        poll_mailbox.apply(args=[box.pk], throw=True)
    box.refresh_from_db()
    assert box.consecutive_failures >= 1


KILLER = textwrap.dedent(
    """
    import os, django
    django.setup()
    from bounces.ingestion.imap import mailbox_poll
    from bounces.models import BounceMailbox

    def die(uids):
        os._exit(137)  # the worker is killed after the commit, before the move

    mailbox_poll(mailbox=BounceMailbox.objects.get(pk=int(os.environ["BOX_ID"])), after_commit=die)
    """
)


@pytest.mark.django_db(transaction=True)
def test_worker_killed_between_commit_and_move_loses_nothing_and_counts_once(dovecot, imap_folder):
    box = _mailbox(dovecot, imap_folder)
    samples = [sample(20 + n, shape="exim", failure=0) for n in range(4)]
    _append(dovecot, imap_folder, [s.raw for s in samples])
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bouncecrm.settings",
        "DATABASE_URL": _database_url_for_worker(),
        "BOX_ID": str(box.pk),
        "PYTHONPATH": str(ROOT),
    }
    proc = subprocess.run(
        [sys.executable, "-c", KILLER], cwd=ROOT, env=env, capture_output=True, timeout=120
    )
    assert proc.returncode == 137, proc.stderr.decode()[-2000:]
    # Committed, but still in the folder: the move never happened.
    assert InboundMessage.objects.count() == 4
    assert _count(dovecot, imap_folder) == 4

    result = mailbox_poll(mailbox=box)  # the next poll (another worker)

    assert result.fetched == 4 and result.stored == 0 and result.duplicates == 4
    assert InboundMessage.objects.count() == 4
    assert _count(dovecot, imap_folder) == 0 and _count(dovecot, f"{imap_folder}-done") == 4
    from bounces.ingestion.process import inbound_process

    inbound_process(ids=list(InboundMessage.objects.values_list("pk", flat=True)))
    assert Bounce.objects.count() == 4
