"""The bounces admin: read-only history, lifting blocks, the raw message, the policy row."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from bounces.models import Block, BouncePolicy, InboundMessage, Unblock
from tests.factories import (
    BlockFactory,
    BounceFactory,
    MailingFactory,
    SentEmailFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

BLOCKS = reverse("admin:bounces_block_changelist")


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def lift(client, action, ids, **data):
    return client.post(
        BLOCKS,
        {"action": action, "_selected_action": [str(i) for i in ids], **data},
        follow=bool(data.get("post")),
    )


def staff(*codenames: str):
    user = UserFactory(is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=["view_block", *codenames]))
    return user


# --- history is never deleted -------------------------------------------------------------------
@pytest.mark.parametrize("model", ["block", "unblock", "bounce"])
def test_history_cannot_be_added_or_deleted(admin_client, model):
    assert admin_client.get(reverse(f"admin:bounces_{model}_add")).status_code == 403
    obj = {
        "block": BlockFactory,
        "bounce": BounceFactory,
        "unblock": lambda: Unblock.objects.create(
            block=BlockFactory(lifted_at=timezone.now()),
            address="x@example.com",
            block_type="temporary",
            category="other",
            source="review",
        ),
    }[model]()
    delete = reverse(f"admin:bounces_{model}_delete", args=[obj.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    changelist = admin_client.get(reverse(f"admin:bounces_{model}_changelist"))
    assert "delete_selected" not in changelist.content.decode()
    assert obj.__class__.objects.filter(pk=obj.pk).exists()


def test_block_page_is_read_only_and_explains_the_category(admin_client):
    block = BlockFactory(permanent=True)
    response = admin_client.get(reverse("admin:bounces_block_change", args=[block.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "does not exist on the recipient&#x27;s server" in html
    assert 'name="address"' not in html  # no editable inputs


def test_block_changelist_shows_warnings_and_filters_active(admin_client):
    BlockFactory(address="on@example.com", permanent=True)
    BlockFactory(address="off@example.com", lifted_at=timezone.now())
    response = admin_client.get(f"{BLOCKS}?state=active")
    assert [b.address for b in response.context["cl"].result_list] == ["on@example.com"]
    assert "⛔ Permanent · Bad mailbox" in response.content.decode()


# --- lifting ------------------------------------------------------------------------------------
def test_lift_temporary_shows_a_confirmation_then_lifts_only_temporary_blocks(
    admin_client, admin_user
):
    temporary = BlockFactory(address="t@example.com")
    permanent = BlockFactory(address="p@example.com", permanent=True)

    page = lift(admin_client, "lift_temporary", [temporary.pk, permanent.pk])
    assert page.status_code == 200
    assert "admin/bounces/unblock_confirmation.html" in [t.name for t in page.templates]
    html = page.content.decode()
    assert "t@example.com" in html and "p@example.com" not in html
    assert "1 selected block is not of this kind" in html
    assert Block.objects.active().count() == 2

    done = lift(
        admin_client, "lift_temporary", [temporary.pk, permanent.pk], post="yes", confirmed="on"
    )

    msgs = messages_of(done)
    assert msgs[0] == "Lifted 1 block. Skipped 0."
    assert "1 selected block was not an active temporary block" in msgs[1]
    audit = Unblock.objects.get()
    assert (audit.block_id, audit.actor, audit.source) == (temporary.pk, admin_user, "admin")
    assert Block.objects.get(pk=permanent.pk).is_active


def test_lift_permanent_requires_a_reason(admin_client):
    block = BlockFactory(permanent=True)

    page = lift(admin_client, "lift_permanent", [block.pk], post="yes", confirmed="on")
    assert page.status_code == 200
    assert "reason" in page.context["form"].errors
    assert Block.objects.get(pk=block.pk).is_active

    done = lift(
        admin_client,
        "lift_permanent",
        [block.pk],
        post="yes",
        confirmed="on",
        reason="Postmaster confirmed the mailbox is back.",
    )
    assert messages_of(done) == ["Lifted 1 block. Skipped 0."]
    assert Unblock.objects.get().reason == "Postmaster confirmed the mailbox is back."


def test_lifting_an_already_lifted_block_is_refused_with_a_message(admin_client):
    block = BlockFactory(address="gone@example.com")
    lift(admin_client, "lift_temporary", [block.pk], post="yes", confirmed="on")

    again = lift(admin_client, "lift_temporary", [block.pk], post="yes", confirmed="on")

    msgs = messages_of(again)
    assert msgs[0] == "Lifted 0 blocks. Skipped 0."
    assert "not an active temporary block" in msgs[1]
    assert Unblock.objects.count() == 1


def test_staff_with_temporary_permission_cannot_lift_permanent_blocks(client):
    client.force_login(staff("unblock_temporary"))
    block = BlockFactory(permanent=True)

    changelist = client.get(BLOCKS).content.decode()
    assert "lift_temporary" in changelist and "lift_permanent" not in changelist

    lift(client, "lift_permanent", [block.pk], post="yes", confirmed="on", reason="please")

    assert Block.objects.get(pk=block.pk).is_active
    assert not Unblock.objects.exists()


def test_staff_without_unblock_permissions_cannot_lift_anything(client):
    client.force_login(staff())
    block = BlockFactory()
    lift(client, "lift_temporary", [block.pk], post="yes", confirmed="on")
    assert Block.objects.get(pk=block.pk).is_active


def test_unblock_history_names_the_system_review(admin_client):
    block = BlockFactory(lifted_at=timezone.now())
    Unblock.objects.create(
        block=block,
        address=block.address,
        block_type="temporary",
        category="domain_error",
        source="review",
        reason="example.com has MX records again (mx.example.com).",
    )
    html = admin_client.get(reverse("admin:bounces_unblock_changelist")).content.decode()
    assert "system review" in html and "System review" in html


# --- bounces and the raw message ----------------------------------------------------------------
def _bounce_with_raw(raw: bytes):
    inbound = InboundMessage.objects.create(
        channel="pipe", dedupe_key=f"raw-{len(raw)}", raw=raw, size=len(raw)
    )
    return BounceFactory(inbound=inbound)


def test_raw_message_is_shown_escaped_and_decoded_safely(admin_client):
    raw = (
        b"From: MAILER-DAEMON@example.com\r\nSubject: Undelivered\r\n\r\n"
        b"<script>alert('x')</script><b>bold</b> caf\xe9 \xff\xfe end"
    )
    bounce = _bounce_with_raw(raw)

    html = admin_client.get(reverse("admin:bounces_bounce_change", args=[bounce.pk])).content
    html = html.decode()

    assert "<script>alert" not in html and "<b>bold</b>" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;&lt;b&gt;bold&lt;/b&gt;" in html
    assert "caf\ufffd" in html  # undecodable bytes become U+FFFD, never an error
    assert "MAILER-DAEMON@example.com" in html


def test_raw_message_preview_is_capped(admin_client):
    raw = b"Subject: big\r\n\r\n" + b"A" * 200_000 + b"TAIL-MARKER"
    bounce = _bounce_with_raw(raw)

    html = admin_client.get(reverse("admin:bounces_bounce_change", args=[bounce.pk])).content
    html = html.decode()

    assert "TAIL-MARKER" not in html
    assert f"Showing the first 65536 of {len(raw)} bytes." in html


def test_bounce_without_raw_evidence_says_so(admin_client):
    bounce = BounceFactory()
    html = admin_client.get(reverse("admin:bounces_bounce_change", args=[bounce.pk])).content
    assert "no raw message" in html.decode()


def test_bounce_changelist_runs_a_fixed_number_of_queries(admin_client):
    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            admin_client.get(reverse("admin:bounces_bounce_changelist"))
        return len(ctx.captured_queries)

    BounceFactory.create_batch(2)
    few = count()
    BounceFactory.create_batch(40)
    assert count() == few


# --- sending ------------------------------------------------------------------------------------
def test_mailing_list_warns_above_the_bounce_rate_threshold(admin_client):
    MailingFactory(name="Over", recipients_sent=100, recipients_bounced=9)
    MailingFactory(name="Under", recipients_sent=100, recipients_bounced=2)
    MailingFactory(name="Empty", recipients_sent=0, recipients_bounced=0)
    url = reverse("admin:bounces_mailing_changelist")

    html = admin_client.get(url).content.decode()
    assert "⚠ 9.0 %" in html and "2.0 %" in html and "⚠ 2.0 %" not in html

    above = admin_client.get(f"{url}?rate=above").context["cl"].result_list
    assert [m.name for m in above] == ["Over"]
    below = admin_client.get(f"{url}?rate=below").context["cl"].result_list
    assert sorted(m.name for m in below) == ["Empty", "Under"]


def test_sent_email_admin_lists_and_searches(admin_client):
    sent = SentEmailFactory(verp_token="tok-find-me")
    url = reverse("admin:bounces_sentemail_changelist")
    response = admin_client.get(f"{url}?q=tok-find-me")
    assert list(response.context["cl"].result_list) == [sent]
    assert admin_client.get(reverse("admin:bounces_sentemail_add")).status_code == 403


# --- the policy singleton -----------------------------------------------------------------------
def test_policy_admin_is_a_singleton(admin_client):
    response = admin_client.get(reverse("admin:bounces_bouncepolicy_changelist"))
    policy = BouncePolicy.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:bounces_bouncepolicy_change", args=[policy.pk])
    assert admin_client.get(reverse("admin:bounces_bouncepolicy_add")).status_code == 403
    delete = reverse("admin:bounces_bouncepolicy_delete", args=[policy.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403


def test_policy_admin_saves_the_threshold(admin_client):
    policy = BouncePolicy.current()
    url = reverse("admin:bounces_bouncepolicy_change", args=[policy.pk])
    response = admin_client.post(
        url,
        {
            "bounce_rate_threshold": "7.50",
            "escalate_after_bounces": "",
            "escalate_within_days": "30",
            "review_interval_days": "182",
            "backup_fallback": "skip",
        },
    )
    assert response.status_code == 302
    policy.refresh_from_db()
    assert str(policy.bounce_rate_threshold) == "7.50"
