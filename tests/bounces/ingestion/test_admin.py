"""Admins see the quarantine, download raw messages, re-process them, and manage channels."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Permission
from django.urls import reverse

from bench.samples import sample
from bounces.ingestion.process import inbound_process
from bounces.ingestion.store import inbound_store_raw
from bounces.models import Bounce, BounceMailbox, InboundMessage, InboundSource
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def quarantined():
    stored = inbound_store_raw(raw=b"garbage \x00 not a bounce", channel="pipe", queue=False)
    inbound_process(ids=[stored.id])
    return InboundMessage.objects.get(pk=stored.id)


def test_quarantine_list_filters_by_state_and_shows_the_reason(admin_client, quarantined):
    inbound_store_raw(raw=sample(1).raw, channel="pipe", queue=False)
    url = reverse("admin:bounces_inboundmessage_changelist") + "?state__exact=quarantined"
    response = admin_client.get(url)
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [quarantined]
    assert quarantined.error[:40] in response.content.decode()


def test_download_raw_message_as_eml(admin_client, quarantined):
    response = admin_client.get(
        reverse("admin:bounces_inboundmessage_download", args=[quarantined.pk])
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "message/rfc822"
    assert (
        "attachment" in response["Content-Disposition"]
        and ".eml" in response["Content-Disposition"]
    )
    assert b"".join(response.streaming_content) == b"garbage \x00 not a bounce"


def test_sales_staff_cannot_download(sales_client, quarantined):
    response = sales_client.get(
        reverse("admin:bounces_inboundmessage_download", args=[quarantined.pk])
    )
    assert response.status_code in (302, 403)


def test_reprocess_action_queues_the_rows_again(
    admin_client, quarantined, django_capture_on_commit_callbacks
):
    # The classifier learned to read it meanwhile: re-processing now stores a real bounce.
    raw = sample(2, shape="postfix", failure=0)
    InboundMessage.objects.filter(pk=quarantined.pk).update(raw=raw.raw)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:bounces_inboundmessage_changelist"),
            {"action": "reprocess", "_selected_action": [quarantined.pk]},
            follow=True,
        )
    assert response.status_code == 200
    row = InboundMessage.objects.get(pk=quarantined.pk)
    assert row.state == InboundMessage.State.PROCESSED
    assert Bounce.objects.filter(recipient=raw.recipient.lower(), parsed=True).exists()


def test_mailbox_password_is_write_only_and_encrypted(admin_client):
    response = admin_client.post(
        reverse("admin:bounces_bouncemailbox_add"),
        {
            "name": "Main",
            "host": "imap.example.com",
            "port": 993,
            "use_tls": "on",
            "username": "bounces",
            "password": "s3cret-imap",
            "password_env": "",
            "folder": "INBOX",
            "processed_folder": "Processed",
            "enabled": "on",
        },
    )
    assert response.status_code == 302, response.content
    box = BounceMailbox.objects.get()
    assert "s3cret-imap" not in box.password_encrypted and box.get_password() == "s3cret-imap"
    page = admin_client.get(reverse("admin:bounces_bouncemailbox_change", args=[box.pk]))
    assert b"s3cret-imap" not in page.content
    # Saving without a password keeps the stored one.
    admin_client.post(
        reverse("admin:bounces_bouncemailbox_change", args=[box.pk]),
        {
            "name": "Main",
            "host": "imap.example.com",
            "port": 993,
            "use_tls": "on",
            "username": "bounces",
            "password": "",
            "password_env": "",
            "folder": "INBOX",
            "processed_folder": "Processed",
            "enabled": "on",
        },
    )
    assert BounceMailbox.objects.get().get_password() == "s3cret-imap"


def test_failing_mailbox_is_shown_as_an_alert(admin_client):
    BounceMailbox.objects.create(
        name="Broken",
        host="imap.example.com",
        username="u",
        consecutive_failures=3,
        last_error="ConnectionRefusedError: [Errno 111] Connection refused",
    )
    response = admin_client.get(reverse("admin:bounces_bouncemailbox_changelist"))
    text = response.content.decode()
    assert "Broken" in text and "Connection refused" in text and "3" in text


def test_new_source_shows_its_token_once(admin_client, client):
    response = admin_client.post(
        reverse("admin:bounces_inboundsource_add"),
        {"name": "Relay A", "slug": "relay-a", "max_bytes": 100000, "enabled": "on"},
        follow=True,
    )
    messages = [str(m) for m in response.context["messages"]]
    token_message = next(m for m in messages if "token" in m)
    token = token_message.split(" is ")[1].split(":")[0]
    source = InboundSource.objects.get()
    assert source.check_token(token) and token not in source.token_hash
    posted = client.post(
        reverse("bounces:inbound-raw", args=["relay-a"]),
        data=sample(3).raw,
        content_type="message/rfc822",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert posted.status_code == 202


def test_rotating_a_token_shows_the_new_one_and_the_old_stops_working(
    admin_client, admin_user, http_source
):
    source, old = http_source
    url = reverse("admin:bounces_inboundsource_changelist")
    action = {"action": "rotate_token", "_selected_action": [source.pk]}

    page = admin_client.post(url, action)
    assert "admin/bounces/rotate_token_confirmation.html" in [t.name for t in page.templates]
    source.refresh_from_db()
    assert source.check_token(old)  # nothing changes before the confirmation

    response = admin_client.post(url, {**action, "post": "yes"}, follow=True)
    text = next(str(m) for m in response.context["messages"] if "token" in str(m))
    new = text.split(" is ")[1].split(":")[0]
    source.refresh_from_db()
    assert source.check_token(new) and not source.check_token(old)
    entry = LogEntry.objects.get(object_id=str(source.pk))
    assert (entry.user, entry.action_flag) == (admin_user, CHANGE)
    assert entry.get_change_message() == "Changed token hash."
    assert new not in entry.change_message


def test_rotating_a_token_needs_the_change_permission(client, http_source):
    source, old = http_source
    user = UserFactory(is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_inboundsource"))
    client.force_login(user)
    url = reverse("admin:bounces_inboundsource_changelist")

    assert "rotate_token" not in client.get(url).content.decode()
    client.post(url, {"action": "rotate_token", "_selected_action": [source.pk], "post": "yes"})

    source.refresh_from_db()
    assert source.check_token(old)
    assert not LogEntry.objects.exists()
