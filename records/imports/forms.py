from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .cleaning import FIELDS
from .models import RECORD_TYPE_CHOICES, ImportJob, OnDuplicate


class UploadForm(forms.Form):
    record_type = forms.ChoiceField(label=_("Import as"), choices=RECORD_TYPE_CHOICES)
    file = forms.FileField(
        label=_("CSV or XLSX file"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.xlsx"}),
    )


class MappingForm(forms.Form):
    """One field choice per column of the file, and the import's options."""

    on_duplicate = forms.ChoiceField(
        label=_("When the email is already on a record or earlier in the file"),
        choices=OnDuplicate.choices,
    )
    fix_typos = forms.BooleanField(
        label=_("Apply the suggested fix to likely typo domains (gmial.com → gmail.com)"),
        required=False,
    )
    check_dns = forms.BooleanField(
        label=_("Check that each domain accepts mail (a DNS look-up per domain)"),
        required=False,
    )

    def __init__(self, *args, job: ImportJob, **kwargs):
        super().__init__(*args, **kwargs)
        self.job = job
        choices = [("", _("(ignore this column)")), *FIELDS.items()]
        self.columns = []
        for index, header in enumerate(job.headers):
            name = f"col_{index}"
            self.fields[name] = forms.ChoiceField(
                label=header or _("Column %(n)d") % {"n": index + 1},
                choices=choices,
                required=False,
                initial=job.mapping.get(str(index), ""),
            )
            self.columns.append(name)
        self.fields["on_duplicate"].initial = job.on_duplicate
        self.fields["fix_typos"].initial = job.fix_typos
        self.fields["check_dns"].initial = job.check_dns

    def column_fields(self):
        return [self[name] for name in self.columns]

    def clean(self):
        data = super().clean()
        data = data if data is not None else {}
        mapping: dict[str, str] = {}
        for index, name in enumerate(self.columns):
            value = data.get(name)
            if not value:
                continue
            if value in mapping.values():
                raise forms.ValidationError(
                    _("“%(field)s” is chosen for two columns.") % {"field": FIELDS[value]}
                )
            mapping[str(index)] = value
        if not {"email", "name", "last_name", "first_name"} & set(mapping.values()):
            raise forms.ValidationError(_("Choose at least the column with the email or a name."))
        data["mapping"] = mapping
        return data
