"""The daily review task, run by a real Celery worker process on Redis.

The worker is another process, so DNS answers reach it through BOUNCECRM_DNS_FIXTURE (a JSON
file), set in the environment before the `celery_worker` fixture starts the process.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from bounces.models import Block, Unblock
from bounces.tasks import review_due_blocks
from tests.conftest import wait_until
from tests.factories import BlockFactory

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def dns_fixture(tmp_path, monkeypatch):
    path = tmp_path / "dns.json"
    path.write_text(json.dumps({"revived.example": {"MX": ["10 mx.revived.example."]}}))
    monkeypatch.setenv("BOUNCECRM_DNS_FIXTURE", str(path))
    return path


def test_worker_lifts_a_due_block_whose_domain_resolves_again(dns_fixture, celery_worker):
    past = timezone.now() - timedelta(days=1)
    lifted = BlockFactory(
        address="ann@revived.example", category="domain_error", review_due_at=past
    )
    kept = BlockFactory(
        address="bo@still-gone.example", category="domain_error", review_due_at=past
    )

    review_due_blocks.delay()

    audit = wait_until(lambda: Unblock.objects.filter(block=lifted).first(), timeout=30)
    assert audit.actor is None and audit.actor_name == "system review"
    assert audit.source == Unblock.Source.REVIEW
    assert "revived.example has MX records again" in audit.reason
    wait_until(lambda: Block.objects.get(pk=kept.pk).review_due_at > timezone.now())
    assert Block.objects.get(pk=kept.pk).is_active
