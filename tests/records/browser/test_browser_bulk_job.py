"""A big bulk unblock in a real browser: the progress page and its finished summary."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from bounces.models import Block, BulkUnblockJob
from bounces.services.bulk import bulk_unblock_job_run
from tests.factories import BlockFactory, ContactFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def thirty(settings):
    settings.BULK_UNBLOCK_SYNC_LIMIT = 5
    for n in range(30):
        ContactFactory(last_name=f"Person{n:02d}", email=f"p{n}@example.com")
        BlockFactory(address=f"p{n}@example.com", permanent=(n == 29))


def test_all_matching_runs_as_a_job_and_shows_the_summary(page, login, sales_user, thirty):
    login(sales_user).goto("/contacts/?blocked=any")
    page.locator("[data-select-page]").check()
    page.get_by_role("button", name=re.compile("Select all 30 rows matching")).click()
    page.get_by_role("button", name="Unblock email addresses").click()
    dialog = page.locator("#bulk-modal")
    dialog.get_by_label("Primary email").check()
    dialog.get_by_label("The cause of the bounces is resolved").check()
    dialog.get_by_role("button", name="Confirm").click()
    # Eager Celery in the live server: the job ran on commit, before the redirect.
    expect(page).to_have_url(re.compile(r"/bulk-unblock/jobs/\d+/$"))
    expect(page.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "100")
    expect(page.get_by_text("Unblocked 29 email addresses.")).to_be_visible()
    expect(page.get_by_text("Skipped 1 address blocked permanently")).to_contain_text(
        "p29@example.com"
    )
    page.get_by_role("link", name="Back to the contacts").click()
    expect(page).to_have_url(re.compile(r"/contacts/\?blocked=any$"))
    assert Block.objects.active().count() == 1


def test_the_progress_bar_follows_a_running_job(page, login, sales_user, thirty):
    job = BulkUnblockJob.objects.create(
        actor=sales_user, record_type="contact", selection={"criteria": {}}, fields="both", total=30
    )
    login(sales_user).goto(f"/bulk-unblock/jobs/{job.pk}/")
    bar = page.get_by_role("progressbar")
    expect(bar).to_have_attribute("aria-valuenow", "0")
    expect(
        page.get_by_text(
            "Queued: the job will start as soon as the background worker is reachable", exact=False
        )
    ).to_be_visible()
    bulk_unblock_job_run(job_id=job.pk, chunk=10)  # app.js polls, then shows the summary
    expect(page.get_by_text("Unblocked 29 email addresses.")).to_be_visible()
    expect(bar).to_have_attribute("aria-valuenow", "100")
