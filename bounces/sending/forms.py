"""Forms of sending: one email to a record, a new mailing. Bad input is refused here, with the
reason, before anything is queued (the services raise the same SendError messages)."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from records.models import EmailField, Record, record_model
from records.selectors import InvalidSelection, criteria_from_query

from ..models import Sender
from .merge import FIELDS
from .services import FILTER_NOT_VALID, SendError, content_check

MERGE_HELP = _("Merge fields: %(fields)s. Anything else in double braces is refused.") % {
    "fields": ", ".join(f"{{{{{name}}}}}" for name in FIELDS)
}


class _ContentForm(forms.Form):
    sender = forms.ModelChoiceField(
        label=_("From"),
        queryset=Sender.objects.none(),
        empty_label=None,
        error_messages={
            "invalid_choice": _("That address is not a configured sender."),
            "required": _("Choose a sender."),
        },
    )
    subject = forms.CharField(
        label=_("Subject"),
        max_length=300,
        error_messages={"required": _("The subject is empty.")},
    )
    body = forms.CharField(
        label=_("Message"),
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text=MERGE_HELP,
        error_messages={"required": _("The message is empty.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        sender = cast(forms.ModelChoiceField, self.fields["sender"])
        sender.queryset = Sender.objects.filter(active=True).order_by("address")

    def clean(self) -> dict[str, Any]:
        data = self.cleaned_data
        if data.get("subject") and data.get("body"):
            try:
                content_check(subject=data["subject"], body=data["body"])
            except SendError as exc:
                raise forms.ValidationError(str(exc)) from exc
        return data


class EmailForm(_ContentForm):
    """One email to a record: which address, who from, subject and body."""

    field = forms.ChoiceField(label=_("To"), choices=EmailField.choices, widget=forms.RadioSelect)

    def __init__(self, *args, record: Record | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.record = record
        choices = []
        for value, label in EmailField.choices:
            address = record.address(value) if record else ""
            if address:
                choices.append((value, f"{label}: {address}"))
        cast(forms.ChoiceField, self.fields["field"]).choices = choices
        if choices:
            self.fields["field"].initial = choices[0][0]
        self.order_fields(["field", "sender", "subject", "body"])


class MailingForm(_ContentForm):
    """A new mailing to the records selected on a list."""

    name = forms.CharField(
        label=_("Mailing name"), max_length=200, required=False, help_text=_("Default: subject.")
    )
    record_type = forms.ChoiceField(choices=[("contact", "contact"), ("lead", "lead")])
    ids = forms.Field(required=False, widget=forms.MultipleHiddenInput)
    all_matching = forms.BooleanField(required=False, widget=forms.HiddenInput)
    query = forms.CharField(required=False, max_length=4000, widget=forms.HiddenInput)

    MAX_IDS = 500

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["record_type"].widget = forms.HiddenInput()
        self.order_fields(["name", "sender", "subject", "body"])

    def clean_ids(self) -> list[int]:
        raw = self.data.getlist("ids") if hasattr(self.data, "getlist") else []
        try:
            ids = sorted({int(value) for value in raw})
        except (TypeError, ValueError) as exc:
            raise forms.ValidationError(_("The selection is not valid.")) from exc
        if len(ids) > self.MAX_IDS:
            raise forms.ValidationError(_("Too many rows: use “all rows matching this filter”."))
        return ids

    def selection(self) -> dict:
        """Return the selection a mailing stores: the rows' ids or the list's criteria."""
        return self.cleaned_data["selection"]

    def clean(self):
        data = super().clean()
        if data.get("all_matching"):
            try:
                data["selection"] = query_selection(data["record_type"], data.get("query") or "")
            except (KeyError, InvalidSelection) as exc:  # no record type: its own error shows
                raise forms.ValidationError(FILTER_NOT_VALID) from exc
        elif data.get("ids"):
            data["selection"] = {"ids": data["ids"]}
        else:
            raise forms.ValidationError(_("No records are selected: tick rows on the list first."))
        return data


def query_selection(record_type: str, query: str) -> dict:
    """Return the selection of "all rows matching" a list's query string; raise
    `InvalidSelection` if the list would reject the query."""
    criteria = criteria_from_query(query, record_model(record_type))
    return {"criteria": criteria.as_dict()}
