"""The list search: every word in any order, case- and accent-insensitive, over names, company,
addresses and phone; kept by every save path (forms, bulk_create, the demo seed's COPY)."""

from __future__ import annotations

import pytest
from django.db import connection

from records.models import Contact, Lead
from records.search import normalise, search_words
from tests.factories import ContactFactory, LeadFactory

pytestmark = pytest.mark.django_db

LIST = "/contacts/"


def names(response) -> list[str]:
    return [row.record.full_name for row in response.context["table"].page.object_list]


@pytest.fixture
def people(db):
    ContactFactory(
        first_name="Maya", last_name="Ali", company="Orbit Tooling", phone="+44 20 7946 0958"
    )
    ContactFactory(first_name="Ali", last_name="Hassan", email="ali.hassan@example.com")
    ContactFactory(first_name="Chloé", last_name="Dubois", company="Crème Brûlée SARL")
    ContactFactory(first_name="Jürgen", last_name="Groß", email="JUERGEN@Example.DE")
    ContactFactory(first_name="Søren", last_name="Kierkegaard")


@pytest.mark.parametrize(
    "q, expected",
    [
        ("Maya Ali", ["Maya Ali"]),
        ("Ali Maya", ["Maya Ali"]),
        ("  maya   ALI ", ["Maya Ali"]),
        ("Ali", ["Maya Ali", "Ali Hassan"]),
        ("Chloe", ["Chloé Dubois"]),
        ("chloé", ["Chloé Dubois"]),
        ("CHLOÉ DUBOIS", ["Chloé Dubois"]),
        ("creme brulee", ["Chloé Dubois"]),
        ("jurgen gross", ["Jürgen Groß"]),
        ("juergen@example.de", ["Jürgen Groß"]),
        ("soren", ["Søren Kierkegaard"]),
        ("7946 0958", ["Maya Ali"]),
        ("2079460958", ["Maya Ali"]),
        ("orbit", ["Maya Ali"]),
        ("maya hassan", []),
        ("%", []),
        ("_", []),
    ],
)
def test_search(sales_client, people, q, expected):
    response = sales_client.get(LIST, {"q": q})
    assert response.status_code == 200
    assert sorted(names(response)) == sorted(expected)


def test_search_text_follows_an_edit(sales_client, people):
    contact = Contact.objects.get(last_name="Ali")
    contact.last_name = "Alvarez"
    contact.save()
    assert names(sales_client.get(LIST, {"q": "maya alvarez"})) == ["Maya Alvarez"]
    assert names(sales_client.get(LIST, {"q": "maya ali"})) == []


def test_bulk_create_fills_the_search_text(db):
    Lead.objects.bulk_create([Lead(first_name="Zoë", last_name="Ñúñez", email="z@x.org")])
    assert Lead.objects.get().search_text == "zoe nunez z@x.org"


def test_the_edit_form_keeps_the_search_text(sales_client, sales_user):
    from django.contrib.auth.models import Permission

    sales_user.user_permissions.add(Permission.objects.get(codename="add_contact"))
    response = sales_client.post(
        "/contacts/new/", {"first_name": "Élodie", "last_name": "Côté", "owner": sales_user.pk}
    )
    assert response.status_code == 302, response.content
    assert names(sales_client.get(LIST, {"q": "elodie cote"})) == ["Élodie Côté"]


def test_words_are_normalised_and_capped():
    assert normalise("  Chloé\tDUBOIS ") == "chloe dubois"
    assert normalise("Straße Øre Æther") == "strasse ore aether"
    assert search_words("a b a c d e f g h") == ["a", "b", "c", "d", "e", "f"]


def test_admin_search_is_the_same(admin_client, people):
    html = admin_client.get("/admin/records/contact/", {"q": "ali maya"}).content.decode()
    assert "Maya" in html and "Hassan" not in html


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only")
def test_postgresql_serves_the_search_with_the_trigram_index(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT extname FROM pg_extension WHERE extname IN ('unaccent', 'pg_trgm')")
        assert {row[0] for row in cursor.fetchall()} == {"unaccent", "pg_trgm"}
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'contact_search_text'")
        assert "gin_trgm_ops" in cursor.fetchone()[0]
        # The migration's SQL backfill agrees with the Python normaliser.
        cursor.execute("SELECT lower(unaccent('Chloé Brûlée'))")
        assert cursor.fetchone()[0] == normalise("Chloé Brûlée")


def test_seed_demo_rows_are_searchable(db, settings):
    from django.core.management import call_command

    settings.DEBUG = True
    call_command("seed_demo", contacts=30, leads=10, bounces=5, verbosity=0)
    contact = Contact.objects.exclude(first_name="").first()
    assert contact.search_text.startswith(normalise(f"{contact.first_name} {contact.last_name}"))
    assert Lead.objects.filter(search_text="").count() == 0


def test_sync_record_search_repairs_rows_written_around_save(db):
    from io import StringIO

    from django.core.management import call_command

    ContactFactory(first_name="Zoë", last_name="Brontë", phone="+33 1 23")
    Contact.objects.update(last_name="Ñúñez", search_text="")
    out = StringIO()
    call_command("sync_record_search", stdout=out)
    assert out.getvalue().startswith("1 records' search text corrected")
    assert Contact.objects.get().search_text.startswith("zoe nunez")
    call_command("sync_record_search", stdout=out)
    assert "0 records' search text corrected" in out.getvalue()


def test_the_sql_fill_agrees_with_the_python_normaliser(db):
    from records.search import records_fill_search_text

    ContactFactory(
        first_name="Chloé", last_name="Brûlée-Straße", company="Crème  SARL", phone="+33 (1) 23-45"
    )
    LeadFactory(first_name="Zoë", last_name="Ñúñez", email="Zoe@Example.com")
    assert records_fill_search_text() == 0
