"""Big bulk unblocks through the views: a background job, its progress page and status JSON."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from bounces.models import Block, BulkUnblockJob, Unblock
from bounces.services.bulk import bulk_unblock_job_run
from tests.conftest import wait_until
from tests.factories import BlockFactory, ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def limit(settings):
    settings.BULK_UNBLOCK_SYNC_LIMIT = 5
    return 5


@pytest.fixture
def eight_blocked(db):
    contacts = [ContactFactory(last_name=f"Person{n}", email=f"p{n}@example.com") for n in range(8)]
    for n in range(7):
        BlockFactory(address=f"p{n}@example.com", permanent=(n == 6))
    return contacts


def post_bulk(client, **data):
    payload = {"fields": "primary", "confirm": "on", **data}
    return client.post(reverse("records:contact-bulk-unblock"), payload)


def test_above_the_limit_starts_a_job_and_redirects_to_its_page(
    sales_client, sales_user, limit, eight_blocked
):
    response = post_bulk(sales_client, all_matching="1", query="blocked=any")
    job = BulkUnblockJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("records:bulk-unblock-job", args=[job.pk])
    assert (job.actor, job.record_type, job.fields, job.total) == (
        sales_user,
        "contact",
        "primary",
        7,
    )
    assert job.selection == {"criteria": {"blocked": "any"}}
    page = sales_client.get(response["Location"])
    html = page.content.decode()
    assert 'role="progressbar"' in html and 'aria-valuenow="0"' in html
    assert 'http-equiv="refresh"' in html  # without JavaScript the page refreshes itself


def test_up_to_the_limit_stays_synchronous(sales_client, limit, eight_blocked):
    ids = [c.pk for c in eight_blocked[:5]]
    response = post_bulk(sales_client, ids=ids)
    assert response["Location"].startswith(reverse("records:contact-list"))
    assert not BulkUnblockJob.objects.exists()
    assert Unblock.objects.count() == 5


def test_a_job_is_not_started_without_the_tick(sales_client, limit, eight_blocked):
    response = post_bulk(sales_client, all_matching="1", query="", confirm="")
    assert response["Location"].startswith(reverse("records:contact-list"))
    assert not BulkUnblockJob.objects.exists()


def test_status_json_and_finished_summary(sales_client, limit, eight_blocked):
    post_bulk(sales_client, all_matching="1", query="")
    job = BulkUnblockJob.objects.get()
    status_url = reverse("records:bulk-unblock-job-status", args=[job.pk])
    assert sales_client.get(status_url).json() == {
        "state": "queued",
        "finished": False,
        "total": 8,
        "processed": 0,
        "percent": 0,
        "unblocked": 0,
        "skipped_permanent": 0,
        "skipped_not_blocked": 0,
    }
    bulk_unblock_job_run(job_id=job.pk, chunk=3)
    status = sales_client.get(status_url).json()
    assert status["state"] == "done" and status["finished"] and status["percent"] == 100
    assert (status["processed"], status["unblocked"]) == (8, 6)
    assert (status["skipped_permanent"], status["skipped_not_blocked"]) == (1, 1)
    html = sales_client.get(reverse("records:bulk-unblock-job", args=[job.pk])).content.decode()
    assert "Unblocked 6 email addresses." in html
    assert "Skipped 1 address blocked permanently" in html and "p6@example.com" in html
    assert "Skipped 1 address that is not blocked." in html
    assert 'http-equiv="refresh"' not in html
    assert reverse("records:contact-list") in html


def test_another_sales_user_gets_404_and_an_admin_sees_it(
    client, sales_client, admin_user, django_user_model, limit, eight_blocked
):
    post_bulk(sales_client, all_matching="1", query="")
    job = BulkUnblockJob.objects.get()
    urls = [
        reverse("records:bulk-unblock-job", args=[job.pk]),
        reverse("records:bulk-unblock-job-status", args=[job.pk]),
    ]
    other = django_user_model.objects.create_user("sam", password="pw-sales-456")
    other.groups.add(Group.objects.get(name="Sales staff"))
    client.force_login(other)
    assert [client.get(url).status_code for url in urls] == [404, 404]
    client.force_login(admin_user)
    assert [client.get(url).status_code for url in urls] == [200, 200]


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_job(celery_worker, transactional_db, sales_client, limit):
    for n in range(12):
        ContactFactory(last_name=f"Worker{n}", email=f"w{n}@example.com")
        BlockFactory(address=f"w{n}@example.com")
    response = post_bulk(sales_client, all_matching="1", query="blocked=temporary")
    job = BulkUnblockJob.objects.get()
    assert response["Location"] == reverse("records:bulk-unblock-job", args=[job.pk])
    wait_until(
        lambda: BulkUnblockJob.objects.filter(pk=job.pk, state__in=["done", "failed"]).exists(),
        timeout=60,
    )
    job.refresh_from_db()
    assert (job.state, job.error, job.processed, job.unblocked) == ("done", "", 12, 12)
    assert not Block.objects.active().filter(address__startswith="w").exists()
    assert Unblock.objects.filter(source="bulk", actor=job.actor).count() == 12


def test_progress_page_in_chinese(sales_client, limit, eight_blocked):
    post_bulk(sales_client, all_matching="1", query="")
    job = BulkUnblockJob.objects.get()
    url = reverse("records:bulk-unblock-job", args=[job.pk])
    html = sales_client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "已排队：后台任务进程可用时即开始执行。" in html and "已处理 0 / 8 条记录" in html
    assert 'data-template="已处理 %(processed)s / %(total)s 条记录' in html  # for app.js
    bulk_unblock_job_run(job_id=job.pk)
    html = sales_client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "批量解除阻止已完成。" in html
