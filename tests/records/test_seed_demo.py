"""`seed_demo`: realistic demo data, demo users, and its refusals."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db.models import Q

from bounces.models import Block, Bounce, Mailing, SentEmail, Unblock
from records.demo import demo_seed
from records.models import Contact, Lead

pytestmark = pytest.mark.django_db

SMALL = ["--contacts", "40", "--leads", "20", "--bounces", "60", "--seed", "7"]


@pytest.fixture(autouse=True)
def debug_on(settings):
    """The test runner turns DEBUG off; seed_demo runs only with it on."""
    settings.DEBUG = True
    # Hashing "demo" with the production hasher twice per seed dominates these small runs.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def seeded(capsys):
    call_command("seed_demo", *SMALL)
    return capsys.readouterr().out


def test_seeds_the_requested_numbers_and_says_so(seeded):
    assert Contact.objects.count() == 40
    assert Lead.objects.count() == 20
    assert Bounce.objects.count() == 60
    assert Mailing.objects.count() == 6
    assert "Seeded 40 contacts, 20 leads, 6 mailings" in seeded
    assert "60 bounces" in seeded


def test_records_look_real(seeded):
    contact = Contact.objects.exclude(email="").first()
    assert contact.first_name and contact.last_name and contact.company and contact.phone
    local, _at, domain = contact.email.partition("@")
    assert "." in domain and " " not in domain
    slug = "".join(ch for ch in contact.company.lower() if ch.isalnum())
    assert domain.split(".")[0] in slug  # the company's own domain
    assert Contact.objects.exclude(backup_email="").exists()
    assert Lead.objects.values("status").distinct().count() > 1


def test_users_can_log_in_with_the_demo_password(seeded, client):
    User = get_user_model()
    admin = User.objects.get(username="admin")
    sales = User.objects.get(username="sales")
    assert admin.is_superuser and admin.is_staff
    assert admin.groups.filter(name="Admins").exists()
    assert not sales.is_staff and not sales.is_superuser
    assert sales.groups.filter(name="Sales staff").exists()
    assert sales.has_perm("bounces.unblock_temporary")
    assert not sales.has_perm("bounces.unblock_permanent")
    assert client.login(username="admin", password="demo")
    assert client.get("/admin/").status_code == 200
    assert client.login(username="sales", password="demo")


def test_mailing_bounce_rates_lie_on_both_sides_of_five_percent(seeded):
    rates = [m.bounce_rate for m in Mailing.objects.all()]
    assert any(rate < 5 for rate in rates) and any(rate > 5 for rate in rates)
    for mailing in Mailing.objects.all():
        sent = mailing.sent_emails
        assert sent.count() == mailing.recipients_sent
        assert sent.filter(status="bounced").count() == mailing.recipients_bounced


def test_blocks_follow_from_the_bounces_with_a_mix_of_categories(seeded):
    assert Block.objects.values("type").distinct().count() == 2
    assert Block.objects.values("category").distinct().count() >= 5
    for block in Block.objects.select_related("cause"):
        bounces = Bounce.objects.filter(recipient=block.address)
        assert block.bounce_count == bounces.count()
        assert block.cause == bounces.latest("received_at")
        assert (block.type, block.category) == (block.cause.type, block.cause.category)
    primary = Block.objects.filter(address__in=Contact.objects.values("email_key"))
    backup = Block.objects.filter(
        Q(address__in=Contact.objects.values("backup_email_key"))
        | Q(address__in=Lead.objects.values("backup_email_key"))
    )
    assert primary.exists() and backup.exists()


def test_lifted_blocks_have_their_audit_rows(seeded):
    lifted = Block.objects.filter(lifted_at__isnull=False)
    assert Unblock.objects.count() == lifted.count()
    for unblock in Unblock.objects.select_related("block"):
        assert unblock.created_at == unblock.block.lifted_at
        if unblock.block_type == "permanent":
            assert unblock.reason


def test_every_bounce_answers_a_sent_email(seeded):
    assert not Bounce.objects.filter(sent_email__isnull=True).exists()
    for bounce in Bounce.objects.select_related("sent_email"):
        assert bounce.sent_email.status == "bounced"
        assert bounce.original_message_id == bounce.sent_email.message_id
        assert bounce.recipient == bounce.sent_email.to_address.lower()
        assert bounce.received_at == bounce.sent_email.bounced_at
        assert bounce.diagnostic
    assert SentEmail.objects.filter(status="delivered").exists()


def test_refuses_when_debug_is_off(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("seed_demo", *SMALL)
    assert not Contact.objects.exists()
    assert not get_user_model().objects.filter(username="admin").exists()


def test_refuses_a_non_empty_database_unless_forced(seeded):
    with pytest.raises(CommandError, match="--force"):
        call_command("seed_demo", *SMALL)
    assert Contact.objects.count() == 40

    call_command("seed_demo", *SMALL, "--force")

    assert Contact.objects.count() == 80
    assert Bounce.objects.count() == 120
    assert get_user_model().objects.filter(username__in=["admin", "sales"]).count() == 2


def test_the_same_seed_gives_the_same_data():
    def snapshot():
        return (
            list(Contact.objects.order_by("pk").values_list("first_name", "last_name", "email")),
            list(Block.objects.order_by("pk").values_list("address", "type", "category")),
        )

    demo_seed(contacts=15, leads=5, bounces=20, seed=42)
    first = snapshot()
    for model in (Unblock, Block, Bounce, SentEmail, Mailing, Contact, Lead):
        model.objects.all().delete()
    demo_seed(contacts=15, leads=5, bounces=20, seed=42)

    assert snapshot() == first


def test_negative_numbers_are_refused():
    with pytest.raises(CommandError, match="negative"):
        call_command("seed_demo", "--contacts", "-1")
