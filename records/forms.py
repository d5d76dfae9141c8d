"""Forms of the sales UI: record create/edit, single unblock and bulk unblock."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Div, Field, Layout, Row, Submit
from django import forms
from django.core import signing
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from bounces.models import Unblock

from .addresses import address_key, clean_optional_address
from .filters import active_users, user_label
from .models import BOTH, EMAIL_FIELDS_CHOICES, Contact, EmailField, Lead

if TYPE_CHECKING:
    from django.contrib.auth.models import User

CONFIRM_ERROR = _("Tick the box to confirm that the cause of the bounce is resolved.")


class OwnerChoiceField(forms.ModelChoiceField):
    """The owner picker: each user shown by `user_label`."""

    def label_from_instance(self, obj: User) -> str:
        return user_label(obj)


class RecordForm(forms.ModelForm):
    """Create or edit a record; both addresses are normalised by the one shared helper."""

    class Meta:
        fields = ["first_name", "last_name", "company", "phone", "owner", "email", "backup_email"]
        field_classes = {"owner": OwnerChoiceField}
        widgets = {
            "email": forms.EmailInput(attrs={"autocomplete": "off"}),
            "backup_email": forms.EmailInput(attrs={"autocomplete": "off"}),
        }

    extra_fields: tuple[str, ...] = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        cast(OwnerChoiceField, self.fields["owner"]).queryset = active_users()
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Row(
                Column("first_name", css_class="col-md-6"),
                Column("last_name", css_class="col-md-6"),
            ),
            Row(Column("company", css_class="col-md-6"), Column("phone", css_class="col-md-6")),
            Row(
                Column("email", css_class="col-md-6"), Column("backup_email", css_class="col-md-6")
            ),
            Row(
                Column("owner", css_class="col-md-6"),
                *[Column(name, css_class="col-md-3") for name in self.extra_fields],
            ),
        )

    def clean_email(self) -> str:
        return clean_optional_address(self.cleaned_data.get("email"))

    def clean_backup_email(self) -> str:
        return clean_optional_address(self.cleaned_data.get("backup_email"))

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        primary, backup = cleaned.get("email"), cleaned.get("backup_email")
        if primary and backup and address_key(primary) == address_key(backup):
            self.add_error("backup_email", _("The backup email is the same as the primary email."))
        return cleaned


class ContactForm(RecordForm):
    class Meta(RecordForm.Meta):
        model = Contact


class LeadForm(RecordForm):
    extra_fields = ("status", "source")

    class Meta(RecordForm.Meta):
        model = Lead
        fields = [*RecordForm.Meta.fields, "status", "source"]


class UnblockForm(forms.Form):
    """Confirm lifting the block of one of a record's addresses.

    The reason field is shown (and required) only when an admin lifts a permanent block; the
    service checks the permissions again whatever the form shows.
    """

    field = forms.ChoiceField(choices=EmailField.choices, widget=forms.HiddenInput)
    confirm = forms.BooleanField(
        label=_("The cause of the bounce is resolved"),
        required=True,
        error_messages={"required": CONFIRM_ERROR},
    )
    reason = forms.CharField(
        label=_("Reason for lifting a permanent block"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=2000,
    )
    source = forms.ChoiceField(
        choices=[(Unblock.Source.RECORD, ""), (Unblock.Source.LIST, "")],
        initial=Unblock.Source.RECORD,
        widget=forms.HiddenInput,
        required=False,
    )
    next = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, needs_reason: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.needs_reason = needs_reason
        if needs_reason:
            self.fields["reason"].required = True
            message = _("Write why the permanent block can be lifted.")
            self.fields["reason"].error_messages["required"] = message
            # The dialog says why in words, not only with a red outline (app.js).
            self.fields["reason"].widget.attrs["data-required-message"] = message
        else:
            del self.fields["reason"]


SHOWN_SALT = "records.bulk-unblock.shown"
SHOWN_MAX_AGE = 24 * 3600  # a day-old page still works; its bounces since then are left alone


def bulk_shown_token() -> str:
    """Return the signed "shown at" value the list page puts in its bulk form."""
    return signing.dumps(time.time(), salt=SHOWN_SALT)


class BulkUnblockForm(forms.Form):
    """The bulk action: selected ids, or every record matching the list's filter."""

    # Named "fields" in the posted data, templates and views; the form metaclass moves it into
    # base_fields, so it never replaces the instance's `fields` dict that mypy sees here.
    fields = forms.ChoiceField(  # type: ignore[assignment]
        label=_("Unblock which addresses"),
        choices=EMAIL_FIELDS_CHOICES,
        initial=BOTH,
        widget=forms.RadioSelect,
    )
    confirm = forms.BooleanField(
        label=_("The cause of the bounces is resolved"),
        required=True,
        error_messages={"required": CONFIRM_ERROR},
    )
    ids = forms.Field(required=False, widget=forms.MultipleHiddenInput)
    all_matching = forms.BooleanField(required=False)
    # The list's query string, so "all rows matching this filter" is rebuilt on the server
    # instead of posting thousands of ids.
    query = forms.CharField(required=False, max_length=4000)
    # When the list (and its confirmation) was shown, signed (`bulk_shown_token`): blocks that got
    # a bounce after it are left in place, since the user confirmed without seeing that bounce.
    shown = forms.CharField(required=False, max_length=200)

    # One page at most: a bigger selection goes through all_matching.
    MAX_IDS = 500

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Field("fields"), Div(Field("confirm")), Submit("submit", _("Confirm"))
        )

    def clean_ids(self):
        raw = self.cleaned_data.get("ids") or []
        try:
            ids = sorted({int(value) for value in raw})
        except ValueError as exc:
            raise ValidationError(_("The selection is not valid.")) from exc
        if len(ids) > self.MAX_IDS:
            raise ValidationError(_("Select at most one page of rows, or all matching rows."))
        return ids

    def clean_shown(self) -> datetime | None:
        """Return when the confirmation was shown, or None (then the moment of posting counts)."""
        value = self.cleaned_data.get("shown") or ""
        try:
            stamp = signing.loads(value, salt=SHOWN_SALT, max_age=SHOWN_MAX_AGE)
            return datetime.fromtimestamp(float(stamp), tz=UTC)
        except (signing.BadSignature, TypeError, ValueError, OverflowError):
            return None

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if not cleaned.get("all_matching") and not cleaned.get("ids"):
            raise ValidationError(_("Select at least one record."), code="empty")
        return cleaned
