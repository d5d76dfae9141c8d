"""Sales UI views: home, record lists, record pages, create/edit, single unblock (the bulk
unblock and its background job: views_bulk.py).

Thin callers: selectors read, `bounces.services` write, domain errors become messages. Every
permission is checked here on the server (the templates only hide what a user cannot do).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.db import transaction
from django.http import HttpRequest, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.generic import CreateView, DetailView, TemplateView, UpdateView
from django.views.generic.base import ContextMixin
from django.views.generic.edit import ModelFormMixin
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin

from bounces import selectors as bounce_selectors
from bounces.models import Block, Unblock
from bounces.services.blocks import can_unblock
from bounces.services.record_blocks import record_refresh_blocks
from bounces.services.record_unblock import record_unblock
from reports.selectors import rates_over_threshold

from . import selectors
from .addresses import address_key
from .filters import ContactFilter, LeadFilter
from .forms import BulkUnblockForm, ContactForm, LeadForm, UnblockForm, bulk_shown_token
from .models import Contact, EmailField, Lead, Record, RecordType

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

from .tables import (
    SEARCH_COUNT_CAP,
    ContactTable,
    LeadTable,
    RecordPaginator,
    allowed_per_page,
)


@dataclass(frozen=True)
class RecordPages:
    """The pages of one record type: its model, filter, table and form, and their URLs."""

    model: type[Record]
    filterset_class: type
    table_class: type
    form_class: type

    @property
    def record_type(self) -> RecordType:
        return RecordType(self.model.record_type())

    def url(self, action: str, *args) -> str:
        return reverse(f"records:{self.record_type}-{action}", args=args)

    @property
    def url_list(self) -> str:
        return self.url("list")

    @property
    def url_create(self) -> str:
        return self.url("create")


CONTACTS = RecordPages(Contact, ContactFilter, ContactTable, ContactForm)
LEADS = RecordPages(Lead, LeadFilter, LeadTable, LeadForm)


def _safe_next(request: HttpRequest, value: str | None, default: str) -> str:
    if value and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return default


class RecordPagesMixin(PermissionRequiredMixin, ContextMixin):
    request: HttpRequest
    pages: RecordPages = CONTACTS
    action = "view"
    raise_exception = True  # a logged-in user without the right gets 403, not a login loop

    def get_permission_required(self):
        return [f"records.{self.action}_{self.pages.record_type}"]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        record_type = self.pages.record_type
        context["pages"] = self.pages
        context["record_type"] = record_type
        context["verbose_name"] = self.pages.model._meta.verbose_name
        context["verbose_name_plural"] = self.pages.model._meta.verbose_name_plural
        context["can_add"] = self.request.user.has_perm(f"records.add_{record_type}")
        context["can_change"] = self.request.user.has_perm(f"records.change_{record_type}")
        return context


# --- log out -------------------------------------------------------------------------------------
class LogoutView(auth_views.LogoutView):
    """Log out, then say so on the login page (the session is gone; the message rides in a
    cookie)."""

    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        messages.success(request, _("You are logged out."))
        return response


# --- home ----------------------------------------------------------------------------------------
class HomeView(PermissionRequiredMixin, TemplateView):
    """Blocked addresses and recent bounces: only for users who may see them (login alone is
    not enough: a user in no group gets 403)."""

    template_name = "home.html"
    permission_required = ("bounces.view_block", "bounces.view_bounce")
    raise_exception = True

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["summary"] = bounce_selectors.block_summary()
        context["recent_bounces"] = bounce_selectors.recent_bounces()
        context["rates"] = rates_over_threshold()
        return context


# --- lists ---------------------------------------------------------------------------------------
class RecordListView(RecordPagesMixin, SingleTableMixin, FilterView):
    template_name = "records/record_list.html"

    def get_queryset(self):
        return self.pages.model.objects.select_related("owner")

    def get_filterset_class(self):
        return self.pages.filterset_class

    def get_table_class(self):
        return self.pages.table_class

    def per_page(self) -> int:
        return allowed_per_page(self.request.GET.get("per_page"))

    def get_table_kwargs(self):
        return {"user": self.request.user, "list_url": self.request.get_full_path()}

    def get_table_pagination(self, table):
        return {
            "per_page": self.per_page(),
            "paginator_class": RecordPaginator,
            # A block filter is selective: count and sort the matches in one pass.
            "count_in_page": self.filterset.criteria().block.active,
            "count_cap": SEARCH_COUNT_CAP if self.filterset.has_search else None,
            "select_related": ("owner",),
        }

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        query = self.request.GET.copy()
        for key in ("page", "sort"):
            query.pop(key, None)
        context["filter_query"] = query.urlencode()
        context["bulk_form"] = BulkUnblockForm()
        context["bulk_shown"] = bulk_shown_token()
        context["per_page"] = self.per_page()
        context["is_filtered"] = self.filterset.is_filtered
        context["unblock_form"] = UnblockForm(initial={"source": Unblock.Source.LIST})
        context["bulk_url"] = self.pages.url("bulk-unblock")
        return context


# --- record page ---------------------------------------------------------------------------------
@dataclass
class AddressState:
    """One email field of a record as the record page shows it."""

    field: str
    label: StrOrPromise
    address: str
    block: Block | None
    can_unblock: bool

    @property
    def needs_reason(self) -> bool:
        return bool(self.block and self.block.is_permanent and self.can_unblock)


def address_states(record, user, blocks: dict[str, Block]) -> list[AddressState]:
    states = []
    for field, label in EmailField.choices:
        address = record.address(field)
        block = blocks.get(address_key(address)) if address else None
        states.append(
            AddressState(
                field=field,
                label=label,
                address=address,
                block=block,
                can_unblock=block is not None and can_unblock(user, block),
            )
        )
    return states


class RecordDetailView(RecordPagesMixin, DetailView):
    template_name = "records/record_detail.html"
    context_object_name = "record"

    def get_queryset(self):
        return self.pages.model.objects.select_related("owner")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        record = self.object
        blocks = bounce_selectors.blocks_for_records([record])
        states = address_states(record, self.request.user, blocks)
        context["addresses"] = states
        context["unblock_forms"] = {
            state.field: UnblockForm(
                initial={"field": state.field, "source": Unblock.Source.RECORD},
                needs_reason=state.needs_reason,
                auto_id=f"id_{state.field}_%s",
            )
            for state in states
            if state.block is not None
        }
        context["update_url"] = self.pages.url("update", record.pk)
        context["unblock_url"] = self.pages.url("unblock", record.pk)
        context["sent_emails"] = sent = bounce_selectors.record_sent_emails(record)
        context["last_emailed"] = bounce_selectors.record_last_emailed(record, sent)
        context["history"] = bounce_selectors.unblock_history(
            [address_key(record.email), address_key(record.backup_email)]
        )
        return context


class RecordUnblockView(RecordPagesMixin, TemplateView):
    """Lift the block on one of a record's addresses, after the user confirms.

    GET shows the confirmation page (the list and record page open the same form in a dialog);
    POST acts. Without the tick nothing changes and the form says why.
    """

    template_name = "records/record_unblock.html"

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.record = get_object_or_404(self.pages.model, pk=kwargs["pk"])

    def _field(self) -> str:
        data = self.request.POST if self.request.method == "POST" else self.request.GET
        field = data.get("field") or EmailField.PRIMARY
        return field if field in EmailField.values else EmailField.PRIMARY

    def _state(self, field: str) -> AddressState:
        blocks = bounce_selectors.blocks_for_records([self.record])
        states = address_states(self.record, self.request.user, blocks)
        return next(state for state in states if state.field == field)

    def _form(self, state: AddressState, data=None) -> UnblockForm:
        return UnblockForm(
            data,
            initial={
                "field": state.field,
                "source": Unblock.Source.RECORD,
                "next": self.request.GET.get("next", ""),
            },
            needs_reason=state.needs_reason,
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["record"] = self.record
        return context

    def get(self, request, *args, **kwargs):
        state = self._state(self._field())
        if state.block is None:
            messages.info(request, _("%(address)s is not blocked.") % {"address": state.address})
            return HttpResponseRedirect(self.record.get_absolute_url())
        return self.render_to_response(self.get_context_data(state=state, form=self._form(state)))

    def post(self, request, *args, **kwargs):
        state = self._state(self._field())
        form = self._form(state, request.POST)
        default = self.record.get_absolute_url()
        if state.block is None:
            messages.info(request, _("%(address)s is not blocked.") % {"address": state.address})
            return HttpResponseRedirect(default)
        if not form.is_valid():
            return self.render_to_response(
                self.get_context_data(state=state, form=form), status=400
            )
        result = record_unblock(
            record=self.record,
            fields=form.cleaned_data["field"],
            actor=request.user,
            source=form.cleaned_data.get("source") or Unblock.Source.RECORD,
            confirmed=form.cleaned_data["confirm"],
            reason=form.cleaned_data.get("reason", ""),
        )
        for unblock in result.unblocked:
            messages.success(request, _("%(address)s is unblocked.") % {"address": unblock.address})
        for error in result.refused:
            messages.error(request, str(error))
        return HttpResponseRedirect(_safe_next(request, form.cleaned_data.get("next"), default))


# --- create and edit -----------------------------------------------------------------------------
class RecordFormMixin(RecordPagesMixin, ModelFormMixin):
    template_name: str | None = "records/record_form.html"
    object: Any  # the create and update views set it (a Record once saved)

    def get_form_class(self):
        return self.pages.form_class

    def get_queryset(self):
        return self.pages.model.objects.all()

    def form_valid(self, form):
        # The save and the record's block columns together: a new or changed address shows its
        # own block state in the lists, never the old address' one.
        with transaction.atomic():
            response = super().form_valid(form)
            assert isinstance(self.object, Record)  # the form saved it
            record_refresh_blocks(record=self.object)
        return response

    def _warn_if_duplicate(self, record) -> None:
        for other in selectors.records_sharing_addresses(record):
            shared = {address_key(other.email), address_key(other.backup_email)} & {
                address_key(record.email),
                address_key(record.backup_email),
            }
            messages.warning(
                self.request,
                format_html(
                    _('{address} is also the address of {record_type} <a href="{url}">{name}</a>.'),
                    address=", ".join(sorted(key for key in shared if key)),
                    record_type=other._meta.verbose_name,
                    url=other.get_absolute_url(),
                    name=str(other),
                ),
            )

    def _warn_if_blocked(self, record) -> None:
        blocks = bounce_selectors.blocks_for_records([record])
        for state in address_states(record, self.request.user, blocks):
            if state.block is not None:
                messages.warning(
                    self.request,
                    _("%(address)s is blocked (%(type)s: %(category)s).")
                    % {
                        "address": state.address,
                        "type": state.block.get_type_display(),
                        "category": state.block.info.name,
                    },
                )


class RecordCreateView(RecordFormMixin, CreateView):
    action = "add"

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, _("%(name)s was created.") % {"name": self.object})
        self._warn_if_blocked(self.object)
        self._warn_if_duplicate(self.object)
        return response

    def get_initial(self):
        # Whoever creates a record usually owns it.
        return {**super().get_initial(), "owner": self.request.user.pk}


class RecordUpdateView(RecordFormMixin, UpdateView):
    action = "change"
    context_object_name = "record"

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, _("%(name)s was saved.") % {"name": self.object})
        # A changed address has its own block state; the old address' block stays with it.
        changed = {"email", "backup_email"} & set(form.changed_data)
        if changed:
            self._warn_if_blocked(self.object)
            self._warn_if_duplicate(self.object)
        return response


def record_views(pages: RecordPages) -> dict[str, Callable[..., HttpResponseBase]]:
    """Return the views of one record type, keyed by URL action."""
    return {
        "list": RecordListView.as_view(pages=pages),
        "create": RecordCreateView.as_view(pages=pages),
        "detail": RecordDetailView.as_view(pages=pages),
        "update": RecordUpdateView.as_view(pages=pages),
        "unblock": RecordUnblockView.as_view(pages=pages),
    }
