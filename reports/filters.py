"""The bounce report's filter form (django-filter), turned into `ReportFilters`.

The same query parameters drive the report page, its downloads and the row lists behind every
number, so a link or a bookmark reproduces exactly what was on screen:
`period` (7d, 30d, 90d, year, 12m, custom) with `start`/`end` (YYYY-MM-DD) for custom,
`type`, `category` ("type:slug"), `channel`, `sender` (an address or a domain), `mailing` (id),
`recipient_domain`.
"""

from __future__ import annotations

import datetime as dt

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bounces.categories import BlockCategory, BlockType
from bounces.models import Bounce, Channel, Mailing

from .selectors import ReportFilters, raw_bounces

PERIODS = [
    ("7d", _("Last 7 days")),
    ("30d", _("Last 30 days")),
    ("90d", _("Last 90 days")),
    ("year", _("This year")),
    ("12m", _("Last 12 months")),
    ("custom", _("Custom range")),
]
DEFAULT_PERIOD = "30d"
MAX_SPAN_DAYS = 366 * 3  # the roll-ups answer any span; this bounds a mistyped year


def period_bounds(period: str, today: dt.date) -> tuple[dt.date, dt.date]:
    """Return the inclusive first and last day of a preset period ending today."""
    if period == "7d":
        return today - dt.timedelta(days=6), today
    if period == "90d":
        return today - dt.timedelta(days=89), today
    if period == "year":
        return today.replace(month=1, day=1), today
    if period == "12m":
        try:
            return today.replace(year=today.year - 1) + dt.timedelta(days=1), today
        except ValueError:  # 29 February
            return today.replace(year=today.year - 1, day=28) + dt.timedelta(days=1), today
    return today - dt.timedelta(days=29), today


def _noop(queryset, name, value):
    # Every filter is applied at once by `BounceReportFilter.report_filters()`.
    return queryset


class DateInput(forms.DateInput):
    input_type = "date"


class BounceReportFilter(django_filters.FilterSet):
    period = django_filters.ChoiceFilter(
        label=_("Period"), choices=PERIODS, empty_label=None, method=_noop
    )
    start = django_filters.DateFilter(label=_("From"), method=_noop, widget=DateInput)
    end = django_filters.DateFilter(label=_("To"), method=_noop, widget=DateInput)
    type = django_filters.ChoiceFilter(
        label=_("Block type"), choices=BlockType.choices, empty_label=_("Any type"), method=_noop
    )
    category = django_filters.ChoiceFilter(
        label=_("Category"),
        choices=BlockCategory.choices,
        empty_label=_("Any category"),
        method=_noop,
    )
    channel = django_filters.ChoiceFilter(
        label=_("Channel"), choices=Channel.choices, empty_label=_("Any channel"), method=_noop
    )
    sender = django_filters.CharFilter(
        label=_("Sender address or domain"),
        method=_noop,
        widget=forms.TextInput(attrs={"placeholder": _("news@example.com or example.com")}),
    )
    mailing = django_filters.ModelChoiceFilter(
        label=_("Mailing"),
        queryset=Mailing.objects.order_by("-created_at").only("id", "name"),
        empty_label=_("Any mailing"),
        method=_noop,
    )
    recipient_domain = django_filters.CharFilter(
        label=_("Recipient domain"),
        method=_noop,
        widget=forms.TextInput(attrs={"placeholder": _("example.com")}),
    )

    class Meta:
        model = Bounce
        fields: list[str] = []

    def __init__(self, data=None, *args, today: dt.date | None = None, **kwargs):
        data = data.copy() if data is not None else {}
        if not data.get("period"):
            data["period"] = "custom" if data.get("start") or data.get("end") else DEFAULT_PERIOD
        super().__init__(data, *args, **kwargs)
        for form_field in self.form.fields.values():
            widget = form_field.widget
            select = isinstance(widget, forms.Select)
            widget.attrs["class"] = (
                "form-select form-select-sm" if select else "form-control form-control-sm"
            )
        self.today = today or timezone.localdate(timezone=timezone.get_default_timezone())

    def is_valid(self) -> bool:
        valid = super().is_valid()
        if valid:
            try:
                self._resolve()
            except ValidationError as exc:
                self.form.add_error(None, exc)
                return False
        return valid

    def _resolve(self) -> ReportFilters:
        data = self.form.cleaned_data
        period = data.get("period") or DEFAULT_PERIOD
        if period == "custom":
            start = data.get("start") or self.today - dt.timedelta(days=29)
            end = data.get("end") or self.today
            if start > end:
                raise ValidationError(_("The period's start is after its end."), code="order")
            if (end - start).days > MAX_SPAN_DAYS:
                raise ValidationError(_("Choose a period of at most three years."), code="span")
        else:
            start, end = period_bounds(period, self.today)
        mailing = data.get("mailing")
        return ReportFilters(
            start=start,
            end=end,
            type=data.get("type") or "",
            category=data.get("category") or "",
            channel=data.get("channel") or "",
            sender=(data.get("sender") or "").strip().lower(),
            mailing=mailing.pk if mailing else None,
            recipient_domain=(data.get("recipient_domain") or "").strip().lower().lstrip("@"),
        )

    def report_filters(self) -> ReportFilters:
        """Return the filters (the default period when the form is invalid)."""
        if self.is_bound and self.is_valid():
            return self._resolve()
        start, end = period_bounds(DEFAULT_PERIOD, self.today)
        return ReportFilters(start=start, end=end)

    @property
    def qs(self):
        """The bounce rows behind the report, newest first."""
        return raw_bounces(self.report_filters()).order_by("-received_at", "-id")
