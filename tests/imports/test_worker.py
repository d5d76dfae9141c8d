"""The import job through a real Celery worker process on Redis."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from records.imports.models import ImportJob
from records.imports.services import import_confirm, import_job_preview, import_upload
from records.models import Contact
from tests.conftest import wait_until
from tests.factories import BlockFactory

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_import_runs_in_the_worker(celery_worker, sales_user, write_csv):
    BlockFactory(address="p3@example.com")
    rows = [[f"Person {i}", "Acme", f"P{i}@Example.com", "", ""] for i in range(2500)]
    path = write_csv(rows)
    job = import_upload(
        actor=sales_user,
        record_type="contact",
        upload=SimpleUploadedFile("big.csv", path.read_bytes()),
        file_name="big.csv",
    )
    import_job_preview(job=job)
    with transaction.atomic():
        assert import_confirm(job=job)
    job = wait_until(
        lambda: ImportJob.objects.filter(pk=job.pk, state__in=["done", "failed"]).first(),
        timeout=60,
    )
    assert (job.state, job.created, job.processed, job.last_line) == ("done", 2500, 2500, 2501)
    assert Contact.objects.count() == 2500
    assert Contact.objects.get(email="P3@example.com").email_block == "temporary:mailbox_full"
    assert Contact.objects.exclude(email_block="").count() == 1
