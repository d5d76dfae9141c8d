"""seed_demo is coherent with sending: nothing delivered to a blocked address, and "last
emailed" is the newest email sent to the record."""

from __future__ import annotations

import pytest
from django.db.models import Max

from bounces.models import Block, SentEmail
from records.demo import demo_seed
from records.models import Contact

pytestmark = pytest.mark.django_db


def test_seed_demo_sends_nothing_to_a_blocked_address_and_last_emailed_is_newest_send():
    demo_seed(contacts=120, leads=40, bounces=80, seed=3)
    blocks = {b.address: b for b in Block.objects.all()}
    for email in SentEmail.objects.filter(status="delivered"):
        block = blocks.get(email.to_address.lower())
        if block is not None:
            lifted = block.lifted_at
            assert not (
                block.first_bounce_at < email.sent_at and (lifted is None or lifted > email.sent_at)
            )
    newest = dict(
        SentEmail.objects.exclude(status__in=SentEmail.UNSENT)
        .filter(contact__isnull=False)
        .values_list("contact_id")
        .annotate(m=Max("sent_at"))
    )
    for contact in Contact.objects.all():
        assert contact.last_emailed_at == newest.get(contact.pk)
