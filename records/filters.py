"""List filters of contacts and leads: block type, field and category, search, owner, staleness.

The FilterSet only reads and validates the query string: `criteria()` turns it into
`records.selectors.RecordCriteria` and `records.selectors.records_matching` selects the rows, the
same function the bulk unblock job and mailings use with the criteria they stored.
"""

from __future__ import annotations

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from bounces.categories import BlockCategory, BlockType

from . import selectors
from .models import RECORD_MODELS, Contact, Lead

BLOCK_TYPE_CHOICES = [
    (BlockType.TEMPORARY.value, _("Temporary")),
    (BlockType.PERMANENT.value, _("Permanent")),
    (selectors.ANY_TYPE, _("Temporary or permanent")),
]
FIELD_CHOICES = [
    (selectors.EITHER, _("Primary or backup")),
    (selectors.PRIMARY, _("Primary email")),
    (selectors.BACKUP, _("Backup email")),
]


# Both types have an "Other" category: a closed menu shows only the option, not its group.
OTHER_LABELS = {
    BlockType.TEMPORARY: _("Other (temporary)"),
    BlockType.PERMANENT: _("Other (permanent)"),
}


def category_choices() -> list:
    """Return category choices grouped by type, with lazy labels (translated when rendered)."""
    return [
        (
            label,
            [
                (info.key, OTHER_LABELS[type_] if info.slug == "other" else info.name)
                for info in BlockCategory.for_type(type_)
            ],
        )
        for type_, label in (
            (BlockType.TEMPORARY, _("Temporary")),
            (BlockType.PERMANENT, _("Permanent")),
        )
    ]


def user_label(user: User) -> str:
    """Return how the UI names a user: the full name, else the username (as the table does)."""
    return user.get_full_name() or user.get_username()


def active_users():
    """Return the users a record can belong to, in the order of their displayed names."""
    return (
        get_user_model()
        .objects.filter(is_active=True)
        .order_by("first_name", "last_name", "username")
    )


def _owners(request=None):
    return active_users()


class OwnerChoiceFilter(django_filters.ModelChoiceFilter):
    """The owner menu, labelled with full names like the table's Owner column."""

    @property
    def field(self):
        field = super().field
        field.label_from_instance = user_label
        return field


class RecordFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("Search"),
        method="filter_nothing",
        widget=forms.TextInput(
            attrs={"placeholder": _("Name, company, email or phone"), "type": "search"}
        ),
    )
    owner = OwnerChoiceFilter(label=_("Owner"), queryset=_owners, empty_label=_("Any owner"))
    blocked = django_filters.ChoiceFilter(
        label=_("Blocked email"),
        choices=BLOCK_TYPE_CHOICES,
        empty_label=_("Any (no block filter)"),
        method="filter_nothing",
    )
    field = django_filters.ChoiceFilter(
        label=_("In field"), choices=FIELD_CHOICES, empty_label=None, method="filter_nothing"
    )
    category = django_filters.ChoiceFilter(
        label=_("Category"),
        choices=category_choices,
        empty_label=_("Any category"),
        method="filter_nothing",
    )
    stale = django_filters.BooleanFilter(
        label=_("Not emailed for 6 months"),
        method="filter_nothing",
        widget=forms.CheckboxInput,
    )

    class Meta:
        fields = ["q", "owner", "blocked", "field", "category", "stale"]

    def filter_nothing(self, queryset, name, value):
        # Every field acts through filter_queryset(), together.
        return queryset

    def criteria(self) -> selectors.RecordCriteria:
        """Return what the query narrows the list by (fields that are not valid are ignored)."""
        valid = self.form.is_valid()
        data = getattr(self.form, "cleaned_data", {})  # none when the list has no query
        owner = data.get("owner")
        return selectors.RecordCriteria(
            search=data.get("q") or "",
            owner_id=owner.pk if owner else None,
            block=selectors.BlockFilter(
                type=data.get("blocked") or "",
                field=data.get("field") or selectors.EITHER,
                category=data.get("category") or "",
            )
            if valid
            else selectors.BlockFilter(),
            stale=bool(data.get("stale")),
            status=data.get("status") or "",
        )

    def filter_queryset(self, queryset):
        return selectors.records_matching(queryset, self.criteria())

    @property
    def has_search(self) -> bool:
        return self.form.is_valid() and bool(
            selectors.search_words(self.form.cleaned_data["q"] or "")
        )

    @property
    def is_filtered(self) -> bool:
        """Return whether any filter narrows the list (an empty state then says so)."""
        return self.form.is_valid() and self.criteria().active


class ContactFilter(RecordFilter):
    class Meta(RecordFilter.Meta):
        model = Contact


class LeadFilter(RecordFilter):
    status = django_filters.ChoiceFilter(
        label=_("Lead status"), choices=Lead.Status.choices, empty_label=_("Any status")
    )

    class Meta(RecordFilter.Meta):
        model = Lead
        fields = [*RecordFilter.Meta.fields, "status"]


FILTERS = {"contact": ContactFilter, "lead": LeadFilter}


def criteria_for_query(record_type: str, query: str) -> selectors.RecordCriteria:
    """Return the criteria of a list's query string; raise `InvalidSelection` if the list would
    reject it (the bulk action's "all rows matching this filter")."""
    model = RECORD_MODELS[record_type]
    filterset = FILTERS[record_type](QueryDict(query), queryset=model.objects.all())
    if not filterset.is_valid():
        raise selectors.InvalidSelection(query)
    return filterset.criteria()
