"""The list's criteria: one set of rules for the list page, the bulk unblock job and mailings."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from bounces.models import Block, BulkUnblockJob
from bounces.services.bulk import bulk_unblock_job_run
from records.filters import criteria_for_query
from records.models import Contact, Lead
from records.selectors import (
    BlockFilter,
    InvalidSelection,
    RecordCriteria,
    criteria_from_query,
    records_for_selection,
)
from tests.factories import BlockFactory, ContactFactory, UserFactory

pytestmark = pytest.mark.django_db

QUERIES = [
    "",
    "q=acme",
    "q=+acme++",
    "blocked=any",
    "blocked=temporary&field=backup",
    "blocked=permanent&category=permanent:bad_mailbox",
    "blocked=temporary&category=permanent:bad_mailbox",
    "category=temporary:mailbox_full&field=primary",
    "field=either",
    "stale=on",
    "stale=false",
    "status=qualified",
    "status=nonsense",
    "blocked=nonsense",
    "field=nonsense",
    "category=nonsense",
    "owner=notanumber",
    "owner=999999",
    "unknown=1",
]


@pytest.mark.parametrize("record_type", ["contact", "lead"])
@pytest.mark.parametrize("query", QUERIES)
def test_the_domain_parser_agrees_with_the_list_filter(record_type, query):
    """`send_mailing --filter` and the mailing page parse the query as the list page does."""
    model = {"contact": Contact, "lead": Lead}[record_type]
    try:
        expected = criteria_for_query(record_type, query)
    except InvalidSelection:
        with pytest.raises(InvalidSelection):
            criteria_from_query(query, model)
    else:
        assert criteria_from_query(query, model) == expected


def test_an_owner_must_be_an_active_user(sales_user):
    inactive = UserFactory(is_active=False)
    assert criteria_for_query("contact", f"owner={sales_user.pk}").owner_id == sales_user.pk
    assert criteria_from_query(f"owner={sales_user.pk}", Contact).owner_id == sales_user.pk
    with pytest.raises(InvalidSelection):
        criteria_for_query("contact", f"owner={inactive.pk}")
    with pytest.raises(InvalidSelection):
        criteria_from_query(f"owner={inactive.pk}", Contact)


def test_stored_criteria_round_trip_and_refuse_unknown_values():
    criteria = RecordCriteria(
        search="acme",
        owner_id=3,
        block=BlockFilter(type="temporary", field="backup", category="temporary:mailbox_full"),
        stale=True,
    )
    assert RecordCriteria.from_dict(criteria.as_dict()) == criteria
    assert RecordCriteria().as_dict() == {}
    for bad in ({"blocked": "nonsense"}, {"owner": "3"}, {"stale": "on"}, {"nope": 1}, []):
        with pytest.raises(InvalidSelection):
            records_for_selection(record_type="contact", selection={"criteria": bad})
    with pytest.raises(InvalidSelection):
        records_for_selection(record_type="contact", selection={"criteria": {"status": "new"}})


@pytest.fixture
def mixed_contacts(sales_user):
    """Contacts blocked on their primary address; half of them match the filter below."""
    old = timezone.now() - timedelta(days=400)
    other = UserFactory()
    now = timezone.now()
    # name: (company, owner, last emailed)
    rows = {
        "match": ("Acme", sales_user, old),
        "match_never_emailed": ("Acme", sales_user, None),
        "match_acme_ltd": ("Acme Ltd", sales_user, old),
        "other_owner": ("Acme", other, old),
        "other_company": ("Globex", sales_user, old),
        "recently_emailed": ("Acme", sales_user, now),
    }
    contacts = {}
    for n, (name, (company, owner, emailed)) in enumerate(rows.items()):
        BlockFactory(address=f"c{n}@example.com")
        contacts[name] = ContactFactory(
            email=f"c{n}@example.com", company=company, owner=owner, last_emailed_at=emailed
        )
    permanent = ContactFactory(
        email="perm@example.com", company="Acme", owner=sales_user, last_emailed_at=old
    )
    BlockFactory(address="perm@example.com", permanent=True)
    contacts["permanent_block"] = permanent
    for contact in contacts.values():
        contact.refresh_from_db()
    return contacts


def test_the_bulk_job_from_a_filtered_list_lifts_exactly_the_listed_rows(
    sales_client, sales_user, settings, mixed_contacts
):
    settings.BULK_UNBLOCK_SYNC_LIMIT = 1  # the filter matches more: a background job
    query = f"q=acme&owner={sales_user.pk}&stale=on&blocked=temporary&field=primary"
    page = sales_client.get(reverse("records:contact-list") + "?" + query)
    listed = {row.record.pk for row in page.context["table"].page.object_list}
    assert listed == {
        mixed_contacts[name].pk for name in ("match", "match_never_emailed", "match_acme_ltd")
    }

    response = sales_client.post(
        reverse("records:contact-bulk-unblock"),
        {"fields": "primary", "confirm": "on", "all_matching": "1", "query": query},
    )
    job = BulkUnblockJob.objects.get()
    assert response["Location"] == reverse("records:bulk-unblock-job", args=[job.pk])
    bulk_unblock_job_run(job_id=job.pk)

    still_blocked = set(Block.objects.active().values_list("address", flat=True))
    lifted = {c.pk for c in Contact.objects.all() if c.email not in still_blocked}
    assert lifted == listed
    # The job's page links back to the same list.
    back = sales_client.get(response["Location"]).context["back_url"]
    path, _, back_query = back.partition("?")
    assert path == reverse("records:contact-list")
    assert criteria_for_query("contact", back_query) == criteria_for_query("contact", query)


def test_the_mailing_selects_the_rows_the_list_shows(admin_client, sales_user, mixed_contacts):
    client = admin_client
    query = f"q=acme&owner={sales_user.pk}&stale=on"
    listed = client.get(reverse("records:contact-list") + "?" + query).context["table"]
    start = client.post(
        reverse("sending:mailing-new"),
        {"record_type": "contact", "all_matching": "1", "query": query},
    )
    assert f"{len(listed.page.object_list)} selected" in start.content.decode()
    bad = client.post(
        reverse("sending:mailing-new"),
        {"record_type": "contact", "all_matching": "1", "query": "blocked=nonsense"},
    )
    assert "No records are selected" in "".join(str(m) for m in bad.wsgi_request._messages)
