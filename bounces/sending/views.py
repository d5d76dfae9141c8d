"""Sending pages: one email from a record page, mailings (compose, pre-send check, progress,
pause/resume/cancel) and the public unsubscribe endpoint. Thin: forms validate, services write.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from django.views.generic import TemplateView

from core.http import SignedInRequest
from records.models import RECORD_MODELS, EmailField, RecordType, record_model
from records.selectors import InvalidSelection

from ..models import Mailing, OptOut
from . import services
from .forms import EmailForm, MailingForm, query_selection
from .recipients import RISKS
from .services import SendError
from .unsubscribe import unsubscribe_parse


# --- one email from a record page ----------------------------------------------------------------
class RecordEmailView(PermissionRequiredMixin, View):
    """ "Send email" on a record page: choose the address and sender, preview, send."""

    record_type = RecordType.CONTACT
    raise_exception = True

    def get_permission_required(self):
        return [f"records.view_{self.record_type}", "bounces.send_email"]

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        model = record_model(self.record_type)
        self.record = get_object_or_404(model.objects.select_related("owner"), pk=kwargs["pk"])

    def _render(self, form: EmailForm, preview=None, status: int = 200) -> HttpResponse:
        return render(
            self.request,
            "sending/record_email.html",
            {
                "record": self.record,
                "form": form,
                "preview": preview,
                "verbose_name": self.record._meta.verbose_name,
                "verbose_name_plural": self.record._meta.verbose_name_plural,
                "list_url": reverse(f"records:{self.record_type}-list"),
                "suppressed": [
                    (field, label, reason)
                    for field, label in EmailField.choices
                    if self.record.address(field)
                    and (reason := services.suppression_reason(self.record.address(field)))
                ],
            },
            status=status,
        )

    def get(self, request: SignedInRequest, *args, **kwargs) -> HttpResponse:
        form = EmailForm(record=self.record, initial={"field": request.GET.get("field")})
        return self._render(form)

    def post(self, request: SignedInRequest, *args, **kwargs) -> HttpResponse:
        form = EmailForm(request.POST, record=self.record)
        if not form.is_valid():
            return self._render(form, status=400)
        data = form.cleaned_data
        if "preview" in request.POST:
            try:
                address, subject, body = services.email_render(
                    record=self.record,
                    field=data["field"],
                    subject=data["subject"],
                    body=data["body"],
                )
            except SendError as exc:
                form.add_error(None, str(exc))
                return self._render(form, status=400)
            preview = {
                "from": data["sender"].formatted,
                "to": address,
                "subject": subject,
                "body": body,
            }
            return self._render(form, preview=preview)
        try:
            row = services.email_queue(
                record=self.record,
                field=data["field"],
                sender=data["sender"],
                subject=data["subject"],
                body=data["body"],
                actor=request.user,
            )
        except SendError as exc:
            form.add_error(None, str(exc))
            return self._render(form, status=400)
        if row.status == row.Status.SUPPRESSED:
            messages.warning(
                request,
                _("Not sent to %(address)s: %(reason)s.")
                % {"address": row.to_address, "reason": row.status_reason},
            )
        else:
            text = _("Email to %(address)s queued.") % {"address": row.to_address}
            messages.success(request, text)
        return HttpResponseRedirect(self.record.get_absolute_url())


# --- mailings ------------------------------------------------------------------------------------
class MassEmailMixin(PermissionRequiredMixin):
    permission_required = "bounces.send_mass_email"
    raise_exception = True


class MailingListView(MassEmailMixin, TemplateView):
    template_name = "sending/mailing_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        mailings = Mailing.objects.select_related("sender").order_by("-created_at", "-id")
        context["page"] = Paginator(mailings, 50).get_page(self.request.GET.get("page"))
        return context


class MailingNewView(MassEmailMixin, View):
    """ "Email these records": arrives from a list with the selection; compose, then create."""

    http_method_names = ["post"]

    def post(self, request: SignedInRequest, *args, **kwargs) -> HttpResponse:
        record_type = request.POST.get("record_type") or kwargs.get("record_type")
        if record_type not in RECORD_MODELS or not request.user.has_perm(
            f"records.view_{record_type}"
        ):
            return HttpResponse(status=400)
        data = request.POST.copy()
        data["record_type"] = record_type
        composing = "compose" in request.POST
        form = MailingForm(data if composing else None, initial=self._initial(data))
        if composing and form.is_valid():
            try:
                mailing = services.mailing_create(
                    name=form.cleaned_data["name"],
                    sender=form.cleaned_data["sender"],
                    subject=form.cleaned_data["subject"],
                    body=form.cleaned_data["body"],
                    record_type=record_type,
                    selection=form.selection(),
                    actor=request.user,
                )
            except SendError as exc:
                form.add_error(None, str(exc))
            else:
                return HttpResponseRedirect(reverse("sending:mailing-detail", args=[mailing.pk]))
        selected = self._count(data, record_type)
        if not composing and not selected:
            messages.error(request, _("No records are selected: tick rows on the list first."))
            query = data.get("query", "")
            back = reverse(f"records:{record_type}-list") + (f"?{query}" if query else "")
            return HttpResponseRedirect(back)
        return render(
            request,
            "sending/mailing_new.html",
            {
                "form": form,
                "selected": selected,
                "record_type": record_type,
                "verbose_name_plural": record_model(record_type)._meta.verbose_name_plural,
                "ids": data.getlist("ids"),
            },
            status=400 if composing else 200,
        )

    @staticmethod
    def _initial(data) -> dict:
        return {
            "record_type": data.get("record_type"),
            "all_matching": data.get("all_matching") in ("1", "true", "on", "True"),
            "query": data.get("query", ""),
        }

    @staticmethod
    def _count(data, record_type: str) -> int:
        if data.get("all_matching") in ("1", "true", "on", "True"):
            try:
                selection = query_selection(record_type, data.get("query", ""))
            except InvalidSelection:
                return 0
        else:
            try:
                selection = {"ids": [int(v) for v in data.getlist("ids")][:500]}
            except ValueError:
                return 0
            if not selection["ids"]:
                return 0
        try:
            return services._queryset(record_type, selection).order_by().count()
        except SendError:
            return 0


class MailingDetailView(MassEmailMixin, TemplateView):
    """A draft's pre-send check (with one-click exclusions), else the progress page."""

    template_name = "sending/mailing_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        mailing = get_object_or_404(Mailing.objects.select_related("sender"), pk=kwargs["pk"])
        context["mailing"] = mailing
        if mailing.state == Mailing.State.DRAFT:
            exclude = [key for key in self.request.GET.getlist("exclude") if key in RISKS]
            try:
                check = services.mailing_precheck(
                    record_type=mailing.record_type,
                    selection=mailing.selection,
                    from_address=mailing.from_address,
                    exclude=exclude,
                )
            except SendError as exc:
                context["error"] = str(exc)
                return context
            context["check"] = check
            context["exclude"] = exclude
            context["risk_links"] = [
                (key, label, count, excluded, self._toggle(exclude, key))
                for key, label, count, excluded in check.risky_rows()
            ]
        else:
            progress = services.mailing_progress(mailing)
            context["progress"] = progress
            total = mailing.recipients_total or 1
            done = progress["sent"] + progress["bounced"] + progress["delivered"]
            done += progress["failed"]
            context["percent"] = min(100, round(100 * done / total))
            context["can_pause"] = mailing.state == Mailing.State.SENDING and not mailing.is_paused
            context["can_resume"] = mailing.is_paused
            context["can_cancel"] = mailing.state in (
                Mailing.State.SENDING,
                Mailing.State.PAUSED,
            )
            context["running"] = mailing.state == Mailing.State.SENDING and not mailing.is_paused
        return context

    @staticmethod
    def _toggle(exclude: list[str], key: str) -> str:
        keys = [k for k in exclude if k != key] if key in exclude else [*exclude, key]
        from urllib.parse import urlencode

        return "?" + urlencode([("exclude", k) for k in keys]) if keys else "?"


class MailingConfirmView(MassEmailMixin, View):
    http_method_names = ["post"]

    def post(self, request: SignedInRequest, pk: int) -> HttpResponse:
        mailing = get_object_or_404(Mailing, pk=pk)
        exclude = [key for key in request.POST.getlist("exclude") if key in RISKS]
        try:
            check = services.mailing_confirm(mailing=mailing, exclude=exclude, actor=request.user)
        except SendError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request,
                _("Mailing confirmed: %(count)d messages are being sent.")
                % {"count": check.to_send},
            )
        return HttpResponseRedirect(reverse("sending:mailing-detail", args=[pk]))


class MailingActionView(MassEmailMixin, View):
    """Pause, resume or cancel (POST)."""

    http_method_names = ["post"]
    action = "pause"

    def post(self, request: SignedInRequest, pk: int) -> HttpResponse:
        mailing = get_object_or_404(Mailing, pk=pk)
        if self.action == "pause":
            done = services.mailing_pause(
                mailing=mailing,
                reason=_("Paused by %(user)s.") % {"user": request.user.get_username()},
            )
            text = _("The mailing is paused.")
        elif self.action == "resume":
            done = services.mailing_resume(mailing=mailing)
            text = _("The mailing is sending again.")
        else:
            dropped = services.mailing_cancel(mailing=mailing)
            done = dropped is not None
            text = _("The mailing is cancelled; %(count)d messages will not be sent.") % {
                "count": dropped or 0
            }
        if done:
            messages.success(request, text)
        else:
            messages.error(request, _("Nothing changed: the mailing is no longer in that state."))
        return HttpResponseRedirect(reverse("sending:mailing-detail", args=[pk]))


# --- unsubscribe (public) ------------------------------------------------------------------------
@method_decorator(login_not_required, name="dispatch")
@method_decorator(csrf_exempt, name="dispatch")  # mail clients POST without a session (RFC 8058)
class UnsubscribeView(View):
    """The link in every mass email. GET asks; POST (a person, or a mail client's one-click
    `List-Unsubscribe=One-Click`) records the opt-out. The signed token is the authority."""

    http_method_names = ["get", "post"]

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        parsed = unsubscribe_parse(token)
        if parsed is None:
            return render(request, "sending/unsubscribe.html", {"invalid": True}, status=400)
        address, _mailing = parsed
        done = OptOut.objects.filter(address=address).exists()
        return render(
            request, "sending/unsubscribe.html", {"address": address, "done": done, "token": token}
        )

    def post(self, request: HttpRequest, token: str) -> HttpResponse:
        parsed = unsubscribe_parse(token)
        if parsed is None:
            return render(request, "sending/unsubscribe.html", {"invalid": True}, status=400)
        address, mailing_id = parsed
        one_click = request.POST.get("List-Unsubscribe") == "One-Click"
        services.optout_record(
            address=address,
            source=OptOut.Source.ONE_CLICK if one_click else OptOut.Source.LINK,
            mailing_id=mailing_id,
        )
        if one_click:
            return HttpResponse(_("Unsubscribed."), content_type="text/plain; charset=utf-8")
        return render(request, "sending/unsubscribe.html", {"address": address, "done": True})
