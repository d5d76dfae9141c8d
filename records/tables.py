"""Tables of contacts and leads, and the one paginator the list views use.

Pagination happens here only (django-filter's view does not paginate), and a page costs the same
number of queries whatever its size: the rows, then the active blocks of the page's addresses.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

import django_tables2 as tables
from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db import connection
from django.db.models import Count, Window
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django_tables2.rows import BoundRows

from bounces.selectors import blocks_for_records
from bounces.services.blocks import can_unblock

from .addresses import address_key
from .templatetags.records_ui import email_cell_html

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

    from .models import Record

# Below this many rows an exact COUNT(*) of an unfiltered list is cheap enough.
ESTIMATE_ABOVE = 100_000

# A search counts its matches up to this many, then says "more than".
SEARCH_COUNT_CAP = 1000

# The "Rows per page" menu; anything else in `?per_page=` means the first (a cap, too: a page
# of 100,000 rows would be a denial of service).
PER_PAGE_CHOICES = (25, 50, 100)


def allowed_per_page(value) -> int:
    """Return `value` as a page size if it is one of PER_PAGE_CHOICES, else the default."""
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        return PER_PAGE_CHOICES[0]
    return number if number in PER_PAGE_CHOICES else PER_PAGE_CHOICES[0]


def _estimated_rows(model) -> int | None:
    """Return PostgreSQL's row estimate for the model's table (kept by ANALYZE/autovacuum)."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
            [model._meta.db_table],
        )
        row = cursor.fetchone()
    return int(row[0]) if row and row[0] and row[0] > 0 else None


class RecordPaginator(Paginator):
    """Paginate a table's queryset in one or two queries, whatever the page number.

    With `count_in_page` (a selective filter, such as a block category, is active) the page's
    ids and the total come from one query (`COUNT(*) OVER ()`): the database finds and sorts
    the matches once instead of twice, then the page's rows are fetched by primary key. Without
    a filter on a large PostgreSQL table, the count is the planner's estimate (shown as
    "about"), since an exact count of a million rows costs more than the page itself.
    """

    object_list: Any  # django_tables2's TableQuerysetData (the library has no types)

    def __init__(
        self, object_list, per_page, *, count_in_page=False, count_cap=None, select_related=(), **kw
    ):
        super().__init__(object_list, per_page, **kw)
        self.count_in_page = count_in_page
        self.count_cap = count_cap
        self.select_related = select_related
        self.count_is_estimate = False
        self.count_is_lower_bound = False

    @property
    def queryset(self):
        return self.object_list.data.data

    @cached_property
    def count(self) -> int:
        queryset = self.queryset
        if not queryset.query.where:
            estimate = _estimated_rows(queryset.model)
            if estimate is not None and estimate > ESTIMATE_ABOVE:
                self.count_is_estimate = True
                return estimate
        if self.count_cap:
            # A search for a common word ("Priya") matches tens of thousands of rows spread over
            # the table: counting them all cost more than the page (bench.record_lists). Count up to
            # the cap and say "more than".
            count = queryset.order_by()[: self.count_cap + 1].count()
            self.count_is_lower_bound = count > self.count_cap
            return count
        return queryset.count()

    def page(self, number):
        if not self.count_in_page:
            return super().page(number)
        try:
            number = int(number)
        except (TypeError, ValueError) as exc:
            raise PageNotAnInteger(_("That page number is not an integer")) from exc
        if number < 1:
            raise EmptyPage(_("That page number is less than 1"))
        bottom = (number - 1) * self.per_page
        rows = list(
            self.queryset.annotate(_total=Window(Count("pk"))).values_list("pk", "_total")[
                bottom : bottom + self.per_page
            ]
        )
        if not rows:
            self.__dict__["count"] = 0 if number == 1 else self.queryset.count()
            number = self.validate_number(number)
            return Page(BoundRows([], table=self.object_list.table), number, self)
        self.__dict__["count"] = rows[0][1]
        ids = [pk for pk, _total in rows]
        model = self.queryset.model
        fetched = model._default_manager.select_related(*self.select_related).in_bulk(ids)
        records = [fetched[pk] for pk in ids if pk in fetched]
        return Page(BoundRows(records, table=self.object_list.table), number, self)


class MenuPagedTable(tables.Table):
    """A table paged only in the "Rows per page" menu's sizes, drawn by records/table.html."""

    per_page_choices = PER_PAGE_CHOICES

    def paginate(self, *args, per_page=None, page=1, **kwargs):
        # django-tables2's RequestConfig passes `?per_page=` through as any integer (a negative
        # one raised a 500, 100000 rendered every row): only the menu's sizes get through. A
        # page number below 1 is page 1 (one past the end is still the last page).
        page = page if isinstance(page, int) and page >= 1 else 1
        return super().paginate(*args, per_page=allowed_per_page(per_page), page=page, **kwargs)


class RecordTable(MenuPagedTable):
    """Columns shared by contacts and leads; each email cell carries its block warning."""

    select = tables.CheckBoxColumn(
        accessor="pk",
        attrs={
            "th__input": {
                "class": "form-check-input",
                "data-select-page": "",
                "aria-label": _("Select all rows on this page"),
            },
            "td__input": {
                "class": "form-check-input",
                "name": "ids",
                "form": "bulk-form",
                "data-row-select": "",
                "aria-label": lambda record: _("Select %(name)s") % {"name": record},
            },
            "td": {"class": "col-select"},
            "th": {"class": "col-select"},
        },
        orderable=False,
    )
    name = tables.Column(
        verbose_name=_("Name"), accessor="last_name", order_by=("last_name", "first_name", "id")
    )
    company = tables.Column(verbose_name=_("Company"), order_by=("company", "id"))
    owner = tables.Column(
        verbose_name=_("Owner"), accessor="owner", order_by=("owner__username", "id")
    )
    email = tables.Column(
        verbose_name=_("Primary email"), order_by=("email_key", "id"), empty_values=()
    )
    backup_email = tables.Column(
        verbose_name=_("Backup email"), order_by=("backup_email_key", "id"), empty_values=()
    )
    last_emailed_at = tables.DateColumn(
        verbose_name=_("Last emailed"), order_by=("last_emailed_at", "id"), short=True
    )

    class Meta:
        attrs = {"class": "table table-hover align-middle record-table", "id": "record-table"}
        order_by = ("name",)
        empty_text = _("No records match these filters.")
        sequence: tuple[str, ...] = (
            "select",
            "name",
            "company",
            "owner",
            "email",
            "backup_email",
            "last_emailed_at",
        )

    def __init__(
        self, *args, user: User | AnonymousUser | None = None, list_url: str = "", **kwargs
    ):
        super().__init__(*args, **kwargs)
        self.user = user
        self.list_url = list_url

    @cached_property
    def blocks(self) -> dict:
        """Return the active blocks of the current page's addresses (one query)."""
        rows = self.page.object_list.data if hasattr(self, "page") else self.data
        return blocks_for_records(rows)

    def render_name(self, record: Record) -> str:
        return format_html(
            '<a href="{}" class="fw-semibold">{}</a>', record.get_absolute_url(), record.full_name
        )

    def render_owner(self, value):
        return value.get_full_name() or value.get_username()

    def _email_cell(self, record: Record, field: str, address: str, key: str) -> str:
        block = self.blocks.get(key) if key else None
        return email_cell_html(
            address=address,
            block=block,
            uid=f"{record.record_type()}-{record.pk}-{field}",
            unblock_url=reverse(f"records:{record.record_type()}-unblock", args=[record.pk]),
            field=field,
            next_url=self.list_url,
            can_unblock=block is not None and can_unblock(self.user, block),
        )

    def render_email(self, record: Record) -> str:
        return self._email_cell(record, "primary", record.email, address_key(record.email))

    def render_backup_email(self, record: Record) -> str:
        return self._email_cell(
            record, "backup", record.backup_email, address_key(record.backup_email)
        )


class ContactTable(RecordTable):
    class Meta(RecordTable.Meta):
        pass


class LeadTable(RecordTable):
    status = tables.Column(verbose_name=_("Status"), order_by=("status", "id"))

    class Meta(RecordTable.Meta):
        sequence = (*RecordTable.Meta.sequence, "status")
