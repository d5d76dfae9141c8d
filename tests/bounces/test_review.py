"""The periodic block review, fed recorded DNS answers (there is no public DNS here)."""

from __future__ import annotations

import json
from datetime import timedelta

import dns.resolver
import pytest
from django.core.management import call_command
from django.utils import timezone

from bounces.models import Block, BouncePolicy, Unblock
from bounces.services.review import FixtureResolver, blocks_review_due, default_resolver
from tests.factories import BlockFactory

pytestmark = pytest.mark.django_db

ANSWERS = {
    "fixed.example": {"MX": ["10 mx1.fixed.example.", "20 mx2.fixed.example."]},
    "a-only.example": {"A": ["192.0.2.10"]},
    "nullmx.example": {"MX": ["0 ."], "A": ["192.0.2.11"]},
    "broken.example": "SERVFAIL",
    "crm.example": {"TXT": ["v=spf1 include:_spf.relay.example -all"]},
    "s1._domainkey.crm.example": {"TXT": ['"v=DKIM1; k=rsa; " "p=MIGfMA0GCSqGSIb3DQEB"']},
    "nospf.example": {"TXT": ["google-site-verification=abc"]},
    "default._domainkey.nospf.example": {"TXT": ["v=DKIM1; p=MIGf"]},
}


class RecordingResolver(FixtureResolver):
    """The recorded answers, plus a log of what was asked (to check caching)."""

    def __init__(self, answers):
        super().__init__(answers)
        self.asked: list[tuple[str, str]] = []

    def resolve(self, qname, rdtype):
        self.asked.append((qname, rdtype))
        return super().resolve(qname, rdtype)


@pytest.fixture
def resolver():
    return RecordingResolver(ANSWERS)


@pytest.fixture
def now():
    return timezone.now()


def due(now, **kwargs):
    return BlockFactory(review_due_at=now - timedelta(minutes=1), **kwargs)


def test_domain_error_is_lifted_when_the_domain_has_mx_again(resolver, now):
    block = due(now, address="ann@fixed.example", category="domain_error")

    result = blocks_review_due(now=now, resolver=resolver)

    assert (result.checked, result.lifted, result.kept) == (1, 1, 0)
    block.refresh_from_db()
    assert block.lifted_at is not None
    audit = Unblock.objects.get(block=block)
    assert audit.actor is None and audit.actor_name == "system review"
    assert audit.source == Unblock.Source.REVIEW and audit.confirmed
    assert (
        audit.reason == "fixed.example has MX records again (mx1.fixed.example, mx2.fixed.example)."
    )


def test_bad_domain_is_lifted_on_an_a_record_when_there_is_no_mx(resolver, now):
    block = due(now, address="bo@a-only.example", type="permanent", category="bad_domain")

    blocks_review_due(now=now, resolver=resolver)

    audit = Unblock.objects.get(block=block)
    assert audit.block_type == "permanent"
    assert "resolves to an address (A 192.0.2.10)" in audit.reason


def test_a_null_mx_means_the_domain_still_accepts_no_mail(resolver, now):
    block = due(now, address="cy@nullmx.example", type="permanent", category="bad_domain")

    result = blocks_review_due(now=now, resolver=resolver)

    assert result.lifted == 0
    block.refresh_from_db()
    assert block.is_active


def test_a_domain_that_still_does_not_exist_is_kept_and_reviewed_next_interval(resolver, now):
    BouncePolicy.objects.update_or_create(pk=1, defaults={"review_interval_days": 90})
    block = due(now, address="di@gone.example", category="domain_error")

    result = blocks_review_due(now=now, resolver=resolver)

    assert (result.lifted, result.kept, result.undecided) == (0, 1, 0)
    block.refresh_from_db()
    assert block.is_active
    assert block.review_due_at == now + timedelta(days=90)
    assert not Unblock.objects.exists()


def test_a_dns_failure_proves_nothing_and_keeps_the_block(resolver, now):
    block = due(now, address="ed@broken.example", category="domain_error")

    result = blocks_review_due(now=now, resolver=resolver)

    assert (result.lifted, result.kept, result.undecided) == (0, 1, 1)
    block.refresh_from_db()
    assert block.is_active and block.review_due_at > now


def test_authentication_blocks_are_lifted_once_sending_domains_pass_spf_and_dkim(
    resolver, now, settings
):
    settings.BOUNCECRM_SENDING_DOMAINS = ["crm.example:s1"]
    temporary = due(now, address="fi@any.example", category="authentication_failure")
    permanent = due(now, address="gus@any.example", type="permanent", category="policy_related")

    result = blocks_review_due(now=now, resolver=resolver)

    assert result.lifted == 2
    reasons = set(Unblock.objects.values_list("reason", flat=True))
    assert reasons == {"Sending domains now authenticated: crm.example (SPF, DKIM s1)."}
    assert {temporary.pk, permanent.pk} == set(Unblock.objects.values_list("block", flat=True))


def test_common_selectors_are_tried_when_none_is_configured(resolver, now, settings):
    settings.BOUNCECRM_SENDING_DOMAINS = ["crm.example"]
    due(now, category="authentication_failure")

    assert blocks_review_due(now=now, resolver=resolver).lifted == 1
    assert "DKIM s1" in Unblock.objects.get().reason


@pytest.mark.parametrize(
    "domains",
    [
        [],  # nothing configured: nothing shows the cause resolved
        ["nospf.example"],  # DKIM but no SPF
        ["crm.example:s9"],  # SPF but no key under that selector
        ["crm.example:s1", "nospf.example"],  # every sending domain must pass
    ],
)
def test_authentication_blocks_stay_until_every_sending_domain_passes(
    resolver, now, settings, domains
):
    settings.BOUNCECRM_SENDING_DOMAINS = domains
    block = due(now, category="authentication_failure")

    assert blocks_review_due(now=now, resolver=resolver).lifted == 0
    block.refresh_from_db()
    assert block.is_active


def test_other_categories_are_never_lifted_automatically(resolver, now):
    blocks = [
        due(now, address="hal@fixed.example", category="mailbox_full"),
        due(now, address="ivy@fixed.example", type="permanent", category="bad_mailbox"),
    ]

    result = blocks_review_due(now=now, resolver=resolver)

    assert (result.lifted, result.kept) == (0, 2)
    assert resolver.asked == []
    assert all(Block.objects.get(pk=b.pk).is_active for b in blocks)


def test_blocks_not_yet_due_and_lifted_blocks_are_left_alone(resolver, now):
    later = BlockFactory(
        address="jo@fixed.example", category="domain_error", review_due_at=now + timedelta(days=1)
    )
    lifted = due(now, address="kai@fixed.example", category="domain_error", lifted_at=now)

    result = blocks_review_due(now=now, resolver=resolver)

    assert result.checked == 0
    later.refresh_from_db()
    lifted.refresh_from_db()
    assert later.is_active and later.review_due_at == now + timedelta(days=1)
    assert not Unblock.objects.exists()


def test_batches_cover_every_due_block_and_dns_is_asked_once_per_name(
    resolver, now, django_assert_max_num_queries
):
    for i in range(7):
        due(now, address=f"p{i}@fixed.example", category="domain_error")
    for i in range(5):
        due(now, address=f"q{i}@gone.example", category="domain_error")

    BouncePolicy.current()
    # Policy 1 + 5 batch selects + 9 per lift (savepoint, lock, update, records' block columns:
    # one UPDATE per model and field, audit, release) + one postponing UPDATE for each of the 2
    # batches with kept blocks: nothing per kept block.
    with django_assert_max_num_queries(1 + 5 + 7 * 9 + 2):
        result = blocks_review_due(now=now, resolver=resolver, batch_size=3)

    assert (result.checked, result.lifted, result.kept) == (12, 7, 5)
    assert resolver.asked.count(("fixed.example", "MX")) == 1
    assert resolver.asked.count(("gone.example", "MX")) == 1
    assert Unblock.objects.filter(source="review").count() == 7
    assert not Block.objects.active().filter(review_due_at__lte=now).exists()


def test_a_second_run_finds_nothing_due(resolver, now):
    due(now, address="lia@gone.example", category="domain_error")
    due(now, address="max@fixed.example", category="domain_error")
    blocks_review_due(now=now, resolver=resolver)

    again = blocks_review_due(now=now, resolver=resolver)

    assert again.checked == 0
    assert Unblock.objects.count() == 1


def test_fixture_resolver_answers_like_dnspython():
    fake = FixtureResolver(ANSWERS)
    assert fake.resolve("Fixed.Example.", "mx") == [
        "10 mx1.fixed.example.",
        "20 mx2.fixed.example.",
    ]
    with pytest.raises(dns.resolver.NXDOMAIN):
        fake.resolve("nowhere.example", "MX")
    with pytest.raises(dns.resolver.NoAnswer):
        fake.resolve("fixed.example", "A")
    with pytest.raises(dns.resolver.NoNameservers):
        fake.resolve("broken.example", "MX")


def test_dns_fixture_setting_selects_the_fixture_resolver(tmp_path, settings):
    path = tmp_path / "dns.json"
    path.write_text(json.dumps(ANSWERS))
    settings.BOUNCECRM_DNS_FIXTURE = str(path)
    assert isinstance(default_resolver(), FixtureResolver)
    settings.BOUNCECRM_DNS_FIXTURE = ""
    assert isinstance(default_resolver(), dns.resolver.Resolver)


def test_review_blocks_command_prints_a_summary(tmp_path, settings, now, capsys):
    path = tmp_path / "dns.json"
    path.write_text(json.dumps(ANSWERS))
    settings.BOUNCECRM_DNS_FIXTURE = str(path)
    due(now, address="ned@fixed.example", category="domain_error")
    due(now, address="oz@gone.example", category="domain_error")

    call_command("review_blocks", "--list")

    out = capsys.readouterr().out
    assert "lifted ned@fixed.example" in out
    assert "2 due blocks checked: 1 lifted, 1 kept" in out


def test_review_task_runs_eagerly_through_the_service(tmp_path, settings, now):
    from bounces.tasks import review_due_blocks

    path = tmp_path / "dns.json"
    path.write_text(json.dumps(ANSWERS))
    settings.BOUNCECRM_DNS_FIXTURE = str(path)
    due(now, address="pat@fixed.example", category="domain_error")

    # apply(), not delay(): an eager delay() leaves the app a memory:// producer pool that the
    # celery_worker fixture (later in the same run) does not reset.
    result = review_due_blocks.apply().get()

    assert result == {"checked": 1, "lifted": 1, "kept": 0, "undecided": 0}
    assert review_due_blocks.name == "bounces.tasks.review_due_blocks"
