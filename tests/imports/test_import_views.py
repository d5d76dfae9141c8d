"""The import pages through Django's test client: permissions, the upload-mapping-preview-
confirm path (Celery eager here; the real worker in test_worker.py), bad files, rollback."""

from __future__ import annotations

import csv
import io

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from records.imports.models import ImportBatch, ImportJob
from records.models import Contact, Lead
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _upload(client, path, record_type="contact", **extra):
    with open(path, "rb") as handle:
        return client.post(
            reverse("imports:index"),
            {"record_type": record_type, "file": SimpleUploadedFile(path.name, handle.read())},
            **extra,
        )


def _mapping_data(job, **overrides):
    data = {f"col_{i}": name for i, name in ((int(k), v) for k, v in job.mapping.items())}
    data.update(on_duplicate="skip")
    data.update(overrides)
    return data


def test_anonymous_is_sent_to_login(client):
    response = client.get("/imports/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_user_without_add_permission_is_refused(client, write_csv):
    client.force_login(UserFactory())
    assert client.get("/imports/").status_code == 403
    assert _upload(client, write_csv()).status_code == 403
    assert ImportJob.objects.count() == 0


def test_contact_importer_cannot_import_leads(client, write_csv):
    user = UserFactory()
    user.user_permissions.add(Permission.objects.get(codename="add_contact"))
    client.force_login(user)
    assert _upload(client, write_csv(), record_type="lead").status_code == 403
    assert _upload(client, write_csv(), record_type="contact").status_code == 302


def test_upload_mapping_preview_confirm(
    sales_client, write_csv, django_capture_on_commit_callbacks
):
    response = _upload(sales_client, write_csv(encoding="gb18030"), record_type="lead")
    job = ImportJob.objects.get()
    assert response["Location"] == reverse("imports:mapping", args=[job.pk])
    assert (job.encoding, job.mapping) == (
        "gb18030",
        {"0": "name", "1": "company", "2": "email", "3": "backup_email", "4": "phone"},
    )
    page = sales_client.get(response["Location"]).content.decode()
    assert "备用邮箱" in page
    assert "李伟 · Anna Müller · Bob" in page  # the first values of each column
    # The user drops the phone column.
    response = sales_client.post(
        reverse("imports:mapping", args=[job.pk]), _mapping_data(job, col_4="")
    )
    assert response["Location"] == reverse("imports:preview", args=[job.pk])
    page = sales_client.get(response["Location"]).content.decode()
    assert "2 to create" in page and "2 rejected" in page and "1 to skip" in page
    assert "removed the display name “Li Wei”" in page
    assert "gmail.com" in page  # the suggested fix
    assert Lead.objects.count() == 0  # nothing saved before the confirmation
    with django_capture_on_commit_callbacks(execute=True):
        response = sales_client.post(reverse("imports:preview", args=[job.pk]))
    job.refresh_from_db()
    assert (job.state, job.created, job.skipped, job.rejected) == ("done", 2, 1, 2)
    assert Lead.objects.get(email="li.wei@example.com").phone == ""
    page = sales_client.get(job.get_absolute_url()).content.decode()
    assert "The import is done." in page
    result = sales_client.get(reverse("imports:result", args=[job.pk]))
    rows = list(csv.reader(io.StringIO(b"".join(result.streaming_content).decode("utf-8-sig"))))
    assert rows[0] == ["line", "outcome", "reason", "record_id"]
    assert [row[:2] for row in rows[1:]] == [
        ["2", "created"],
        ["3", "created"],
        ["4", "rejected"],
        ["5", "skipped"],
        ["6", "rejected"],
    ]
    # Confirming twice does not import twice.
    sales_client.post(reverse("imports:preview", args=[job.pk]))
    assert Lead.objects.count() == 2


def test_mapping_errors_are_shown(sales_client, write_csv):
    _upload(sales_client, write_csv())
    job = ImportJob.objects.get()
    response = sales_client.post(
        reverse("imports:mapping", args=[job.pk]), _mapping_data(job, col_1="email")
    )
    assert response.status_code == 400
    assert "is chosen for two columns" in response.content.decode()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The submitted file is empty."),
        (b"%PDF-1.5\n" + b"\x00\x01" * 500, "neither CSV nor XLSX"),
        (b"name,email\nA\0,a@example.com\n", "Line 2 contains a NUL byte"),
    ],
)
def test_bad_files_get_a_clear_message_and_nothing_is_kept(
    sales_client, content, message, tmp_path
):
    path = tmp_path / "contacts.csv"
    path.write_bytes(content)
    response = _upload(sales_client, path)
    if b"\0" in content and not content.startswith(b"%PDF"):
        # A NUL in a data row is found when the preview reads the whole file.
        job = ImportJob.objects.get()
        response = sales_client.post(reverse("imports:mapping", args=[job.pk]), _mapping_data(job))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Contact.objects.count() == 0


def test_oversized_upload_is_refused_before_reading(sales_client, settings, tmp_path, upload_dir):
    settings.IMPORT_MAX_FILE_BYTES = 1000
    path = tmp_path / "big.csv"
    path.write_bytes(b"name,email\n" + b"a,a@example.com\n" * 10000)
    response = _upload(sales_client, path)
    assert response.status_code == 413
    assert "bigger than the limit" in response.content.decode()
    assert ImportJob.objects.count() == 0
    assert (
        not list(settings.IMPORT_UPLOAD_DIR.glob("*"))
        if settings.IMPORT_UPLOAD_DIR.exists()
        else True
    )


def test_upload_needs_a_csrf_token(sales_user, write_csv):
    client = Client(enforce_csrf_checks=True)
    client.force_login(sales_user)
    assert _upload(client, write_csv()).status_code == 403
    assert ImportJob.objects.count() == 0


def test_someone_elses_job_is_not_found(client, sales_client, write_csv):
    _upload(sales_client, write_csv())
    job = ImportJob.objects.get()
    other = UserFactory(groups=["Sales staff"])
    client.force_login(other)
    for name in ("job", "mapping", "preview", "status", "result"):
        assert client.get(reverse(f"imports:{name}", args=[job.pk])).status_code == 404


def test_rollback_deletes_what_the_import_created(
    sales_client, write_csv, django_capture_on_commit_callbacks
):
    kept = Contact.objects.create(last_name="Kept", email="kept@example.com")
    _upload(sales_client, write_csv())
    job = ImportJob.objects.get()
    sales_client.post(reverse("imports:mapping", args=[job.pk]), _mapping_data(job))
    with django_capture_on_commit_callbacks(execute=True):
        sales_client.post(reverse("imports:preview", args=[job.pk]))
    assert Contact.objects.count() == 3
    response = sales_client.post(reverse("imports:rollback", args=[job.pk]))
    assert Contact.objects.count() == 3  # not confirmed
    response = sales_client.post(reverse("imports:rollback", args=[job.pk]), {"confirm": "1"})
    assert response.status_code == 302
    assert list(Contact.objects.all()) == [kept]
    job.refresh_from_db()
    assert job.state == "rolled_back"


def test_failed_import_says_which_lines_are_saved_and_resumes(
    sales_client, write_csv, monkeypatch, django_capture_on_commit_callbacks
):
    from records.imports import services

    monkeypatch.setattr(services, "CHUNK", 2)
    rows = [[f"P{i}", "", f"p{i}@example.com", "", ""] for i in range(7)]
    _upload(sales_client, write_csv(rows))
    job = ImportJob.objects.get()
    sales_client.post(reverse("imports:mapping", args=[job.pk]), _mapping_data(job))
    real_apply = services._apply_chunk
    calls = []

    def flaky(job_id, plans, model):
        calls.append(plans[0].line)
        if len(calls) == 2:
            raise RuntimeError("database went away")
        real_apply(job_id, plans, model)

    monkeypatch.setattr(services, "_apply_chunk", flaky)
    with django_capture_on_commit_callbacks(execute=True):
        sales_client.post(reverse("imports:preview", args=[job.pk]))
    job.refresh_from_db()
    assert (job.state, job.last_line, Contact.objects.count()) == ("failed", 3, 2)
    page = sales_client.get(job.get_absolute_url()).content.decode()
    assert "Every line up to line 3 is saved; nothing after it." in page
    with django_capture_on_commit_callbacks(execute=True):
        sales_client.post(reverse("imports:resume", args=[job.pk]))
    job.refresh_from_db()
    assert (job.state, job.created, Contact.objects.count()) == ("done", 7, 7)
    lines = [entry[0] for batch in ImportBatch.objects.filter(job=job) for entry in batch.lines]
    assert lines == list(range(2, 9))


def test_pages_are_translated(sales_client):
    sales_client.cookies["django_language"] = "zh-hans"
    page = sales_client.get("/imports/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "导入联系人或线索" in page and "列表清理" in page


def test_index_query_count_does_not_grow_with_jobs(
    sales_client, sales_user, django_assert_max_num_queries
):
    for n in range(15):
        ImportJob.objects.create(actor=sales_user, record_type="contact", file_name=f"f{n}.csv")
    with django_assert_max_num_queries(8):
        assert sales_client.get("/imports/").status_code == 200


def test_full_preview_download_lists_every_line_and_change(sales_client, write_csv):
    _upload(sales_client, write_csv())
    job = ImportJob.objects.get()
    sales_client.post(reverse("imports:mapping", args=[job.pk]), _mapping_data(job))
    page = sales_client.get(reverse("imports:preview", args=[job.pk])).content.decode()
    assert reverse("imports:preview-csv", args=[job.pk]) in page
    response = sales_client.get(reverse("imports:preview-csv", args=[job.pk]))
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert [row[:2] for row in rows] == [
        ["line", "outcome"],
        ["2", "created"],
        ["3", "created"],
        ["4", "rejected"],
        ["5", "skipped"],
        ["6", "rejected"],
    ]
    assert "removed the display name “Li Wei”" in rows[1][3]
    assert "removed “mailto:”" in rows[2][3]
    assert Contact.objects.count() == 0


def test_preview_flags_blocked_addresses_with_type_and_category(sales_client, write_csv):
    from bounces.categories import BlockType, Category
    from tests.factories import BlockFactory

    BlockFactory(
        address="li.wei@example.com", type=BlockType.PERMANENT, category=Category.BAD_MAILBOX
    )
    _upload(sales_client, write_csv())
    job = ImportJob.objects.get()
    sales_client.post(reverse("imports:mapping", args=[job.pk]), _mapping_data(job))
    page = sales_client.get(reverse("imports:preview", args=[job.pk])).content.decode()
    assert "Already blocked addresses (2)" in page
    assert "li.wei@example.com" in page and "Permanent · " in page


def test_abandoned_uploads_are_discarded(sales_client, write_csv, upload_dir):
    from datetime import timedelta

    from django.utils import timezone

    from records.imports.tasks import discard_stale_uploads

    _upload(sales_client, write_csv())
    job = ImportJob.objects.get()
    assert discard_stale_uploads() == 0
    ImportJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(days=2))
    assert discard_stale_uploads() == 1
    assert not ImportJob.objects.exists()
    assert list(upload_dir.iterdir()) == []
