"""Tables of contacts and leads, and the one paginator the list views use.

Pagination happens here only (django-filter's view does not paginate), and a page costs the same
number of queries whatever its size: with a block filter one query (the page's rows with their
owners, active blocks and the total), otherwise the count and the rows with their blocks.

The body rows are built in one Python pass (`RecordTable.rows_html`) rather than by
django-tables2's per-cell machinery (an accessor lookup, a signature inspection and a template
variable per cell): at 100 rows that machinery cost more than the page's queries (cProfile,
bench.record_lists). Header, sorting and paging stay django-tables2's.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import django_tables2 as tables
from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db import connection
from django.db.models import Count, QuerySet, Subquery, Value
from django.template.defaultfilters import date as date_filter
from django.urls import reverse
from django.utils import timezone
from django.utils.html import conditional_escape, escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_tables2.rows import BoundRow, BoundRows

from bounces.categories import BlockType
from bounces.selectors import active_blocks_of_rows, blocks_for_records, records_with_active_blocks
from bounces.services.blocks import can_unblock_type

from .addresses import address_key
from .templatetags.records_ui import PageBadges

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

    from .models import Record

# Below this many rows an exact COUNT(*) of an unfiltered list is cheap enough.
ESTIMATE_ABOVE = 100_000

# A search counts its matches up to this many, then says "more than".
SEARCH_COUNT_CAP = 1000

# A pk no list shows, reversed once per page and replaced by each row's pk.
_URL_MARKER = 987654321

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

    The page's rows come with their addresses' active blocks (`records_with_active_blocks`).
    With `count_in_page` (a selective filter, such as a block category, is active) the rows and
    the total come from one query (`_rows_with_total`). Without a filter on a large PostgreSQL
    table, the count is the planner's estimate (shown as "about"), since an exact count of a
    million rows costs more than the page itself.
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
            number = self.validate_number(number)
            bottom = (number - 1) * self.per_page
            rows = list(self._rows(bottom, bottom + self.per_page))
            return Page(BoundRows(rows, table=self.object_list.table), number, self)
        try:
            number = int(number)
        except (TypeError, ValueError) as exc:
            raise PageNotAnInteger(_("That page number is not an integer")) from exc
        if number < 1:
            raise EmptyPage(_("That page number is less than 1"))
        bottom = (number - 1) * self.per_page
        records = list(self._rows(bottom, bottom + self.per_page, with_total=True))
        if not records:
            self.__dict__["count"] = 0 if number == 1 else self.queryset.count()
            number = self.validate_number(number)
            return Page(BoundRows([], table=self.object_list.table), number, self)
        self.__dict__["count"] = records[0]._total
        return Page(BoundRows(records, table=self.object_list.table), number, self)

    def _rows(self, bottom: int, top: int, *, with_total: bool = False) -> QuerySet:
        """Return the rows of one page (and the number of matches), in one query.

        The page's ids are found first, in list order (with a block filter, an index walk on
        the filter's partial indexes), so the planner picks its plan for the ids alone; only the
        page's rows are then read in full, with their owners and active blocks (a subquery in
        the select list made PostgreSQL walk the name index for a search instead, 1.7 s). The
        total is an index-only count of the same matches that PostgreSQL runs once (an InitPlan).
        """
        queryset = self.queryset
        ids = queryset.values("pk")[bottom:top]
        total = (
            queryset.order_by()
            .annotate(_group=Value(1))
            .values("_group")
            .annotate(_n=Count("*"))
            .values("_n")
        )
        ordering = queryset.query.order_by or queryset.model._meta.ordering
        rows = records_with_active_blocks(
            queryset.model._default_manager.filter(pk__in=Subquery(ids))
            .select_related(*self.select_related)
            .order_by(*ordering)
        )
        return rows.annotate(_total=Subquery(total)) if with_total else rows


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
        self.badges = PageBadges()

    @property
    def page_records(self) -> list:
        rows = self.page.object_list.data if hasattr(self, "page") else self.data
        return list(rows)

    @cached_property
    def blocks(self) -> dict:
        """Return the active blocks of the current page's addresses (read with the rows)."""
        records = self.page_records
        blocks = active_blocks_of_rows(records)
        return blocks if blocks is not None else blocks_for_records(records)

    def render_owner(self, value):
        return value.get_full_name() or value.get_username()

    # --- the body, in one pass -------------------------------------------------------------
    @cached_property
    def _urls(self) -> dict[tuple[str, str], tuple[str, str]]:
        return {}

    def _url(self, action: str, record: Record) -> str:
        """Return a record's URL; reverse() runs once per page and action, not per row."""
        key = (record.record_type(), action)
        if key not in self._urls:
            url = reverse(f"records:{key[0]}-{action}", args=[_URL_MARKER])
            before, _marker, after = url.partition(str(_URL_MARKER))
            self._urls[key] = (before, after)
        before, after = self._urls[key]
        return f"{before}{record.pk}{after}"

    def _name_cell(self, record: Record) -> str:
        return (
            f'<a href="{self._url("detail", record)}" class="fw-semibold">'
            f"{escape(record.full_name)}</a>"
        )

    @cached_property
    def _labels(self) -> dict[str, str]:
        """Return the cells' fixed words, translated and escaped once per page."""
        return {
            "none": escape(gettext("none")),
            "unblock": escape(gettext("Unblock")),
            "lift": escape(gettext("Lift…")),
        }

    @cached_property
    def _may_unblock(self) -> dict[str, bool]:
        """Return, per block type, whether the user may lift it: asked once per page."""
        return {type_: can_unblock_type(self.user, type_) for type_ in BlockType.values}

    def _email_cell(self, record: Record, field: str, address: str) -> str:
        """Return one email cell: the warning icon, the address and the unblock action."""
        if not address:
            return f'<span class="text-body-secondary" aria-label="{self._labels["none"]}">—</span>'
        key = address_key(address)
        block = self.blocks.get(key) if key else None
        address_html = escape(address)
        if block is None:
            return (
                f'<span class="email-cell"><span class="email-address">{address_html}</span></span>'
            )
        uid = f"{record.record_type()}-{record.pk}-{field}"
        parts = [
            self.badges.badge(block, uid),
            f'<span class="email-address is-blocked">{address_html}</span>',
        ]
        if self._may_unblock[block.type]:
            unblock_url = escape(self._url("unblock", record))
            href = escape(f"{self._url('unblock', record)}?{self._unblock_queries[field]}")
            # Buttons, not small links: solid, on their own line under a long address.
            if block.is_permanent:
                parts.append(
                    f'<a class="btn btn-sm btn-danger unblock-link" href="{href}">'
                    f"{self._labels['lift']}</a>"
                )
            else:
                parts.append(
                    f'<a class="btn btn-sm btn-warning unblock-link" href="{href}" '
                    f'data-unblock-modal data-unblock-url="{unblock_url}" data-field="{field}" '
                    f'data-address="{address_html}">{self._labels["unblock"]}</a>'
                )
        return f'<span class="email-cell">{"".join(parts)}</span>'

    @cached_property
    def _unblock_queries(self) -> dict[str, str]:
        return {
            field: urlencode({"field": field, "next": self.list_url})
            for field in ("primary", "backup")
        }

    @cached_property
    def _select_attrs(self) -> tuple[str, str, Any]:
        """Return the row checkbox's fixed attributes (as HTML) and its per-row label."""
        attrs = dict(self.base_columns["select"].attrs["td__input"])
        label = attrs.pop("aria-label")
        name = attrs.pop("name")
        fixed = " ".join(f'{key}="{conditional_escape(value)}"' for key, value in attrs.items())
        return f'name="{name}"', fixed, label

    def _select_cell(self, record: Record) -> str:
        name, fixed, label = self._select_attrs
        return (
            f'<input type="checkbox" {name} value="{record.pk}" {fixed} '
            f'aria-label="{escape(label(record))}" />'
        )

    def _plain_cell(self, value) -> str:
        return escape(value) if value not in (None, "") else escape(self.default)

    @cached_property
    def _dates(self) -> dict:
        return {}

    def _date_cell(self, value) -> str:
        """Return a short date; formatted once per day shown (a mailing's records share it)."""
        if value is None:
            return escape(self.default)
        day = timezone.localtime(value).date()
        if day not in self._dates:
            self._dates[day] = escape(date_filter(day, "SHORT_DATE_FORMAT"))
        return self._dates[day]

    def _cells(self, record: Record) -> dict[str, str]:
        owner = record.owner if record.owner_id else None
        cells = {
            "select": self._select_cell(record),
            "name": self._name_cell(record) if record.last_name else escape(self.default),
            "company": self._plain_cell(record.company),
            "owner": self._plain_cell(owner and self.render_owner(owner)),
            "email": self._email_cell(record, "primary", record.email),
            "backup_email": self._email_cell(record, "backup", record.backup_email),
            "last_emailed_at": self._date_cell(record.last_emailed_at),
        }
        status = getattr(record, "get_status_display", None)
        if status is not None:
            cells["status"] = self._plain_cell(status())
        return cells

    def rows_html(self) -> SafeString:
        """Return the page's body rows, each column's cell built directly from the record.

        A column without a direct builder here (a subclass' own) goes through
        django-tables2's cell rendering, so it still shows.
        """
        columns = [column.name for column in self.columns]
        rows = []
        for record in self.page_records:
            cells = self._cells(record)
            tds = []
            for name in columns:
                cell = cells.get(name)
                if cell is None:
                    cell = conditional_escape(BoundRow(record, table=self).get_cell(name))
                tds.append(f'<td class="col-{name}">{cell}</td>')
            rows.append(f"<tr>{''.join(tds)}</tr>")
        return mark_safe("\n".join(rows))  # noqa: S308 - every cell is escaped above

    def block_infos_html(self) -> SafeString:
        """Return the hidden explanations of the categories on the page (after `rows_html`)."""
        return self.badges.infos_html()


class ContactTable(RecordTable):
    class Meta(RecordTable.Meta):
        pass


class LeadTable(RecordTable):
    status = tables.Column(verbose_name=_("Status"), order_by=("status", "id"))

    class Meta(RecordTable.Meta):
        sequence = (*RecordTable.Meta.sequence, "status")
