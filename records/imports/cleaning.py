"""Header matching and the cleaning of one imported row's values.

`match_headers` maps each column of a file to a record field by its header (English spellings and
Chinese headers). `clean_email` takes what people paste into a spreadsheet cell
(`"Li Wei" <li.wei@example.com>,`, `mailto:…`, quotes, stray spaces) down to one address, and
returns every change it made so the preview can show it; the address itself is then normalised
and validated by the app's one helper, `records.addresses.validate_address`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from records.addresses import normalize_email, validate_address
from records.domains import suggest_domain

# Record fields a column can fill, in the order the mapping form shows them.
FIELDS: dict[str, object] = {
    "name": gettext_lazy("Full name"),
    "first_name": gettext_lazy("First name"),
    "last_name": gettext_lazy("Last name"),
    "company": gettext_lazy("Company"),
    "email": gettext_lazy("Email"),
    "backup_email": gettext_lazy("Backup email"),
    "phone": gettext_lazy("Phone"),
    "owner": gettext_lazy("Owner"),
}

# Header spellings, compared after lower-casing and dropping spaces, dashes, dots and underscores.
_SPELLINGS: dict[str, tuple[str, ...]] = {
    "name": (
        "name",
        "fullname",
        "contact",
        "contactname",
        "person",
        "姓名",
        "名字",
        "联系人",
        "全名",
        "客户姓名",
    ),
    "first_name": (
        "firstname",
        "first",
        "givenname",
        "forename",
        "prenom",
        "vorname",
        "名",
        "名字（名）",
    ),
    "last_name": ("lastname", "last", "surname", "familyname", "nom", "nachname", "姓", "姓氏"),
    "company": (
        "company",
        "companyname",
        "organisation",
        "organization",
        "org",
        "account",
        "accountname",
        "employer",
        "firma",
        "公司",
        "公司名称",
        "单位",
        "企业",
        "企业名称",
        "机构",
    ),
    "email": (
        "email",
        "emailaddress",
        "mail",
        "e-mail",
        "primaryemail",
        "workemail",
        "emails",
        "邮箱",
        "电子邮件",
        "电子邮箱",
        "邮件",
        "邮箱地址",
        "主邮箱",
        "email地址",
    ),
    "backup_email": (
        "backupemail",
        "secondaryemail",
        "email2",
        "otheremail",
        "alternateemail",
        "alternativeemail",
        "personalemail",
        "备用邮箱",
        "备用电子邮件",
        "其他邮箱",
        "第二邮箱",
    ),
    "phone": (
        "phone",
        "phonenumber",
        "telephone",
        "tel",
        "mobile",
        "mobilephone",
        "cell",
        "cellphone",
        "workphone",
        "电话",
        "手机",
        "手机号",
        "手机号码",
        "电话号码",
        "联系电话",
        "座机",
    ),
    "owner": (
        "owner",
        "accountowner",
        "assignedto",
        "salesrep",
        "负责人",
        "所有者",
        "销售",
        "跟进人",
        "归属人",
    ),
}
_LOOKUP = {spelling: name for name, spellings in _SPELLINGS.items() for spelling in spellings}
_HEADER_NOISE = re.compile(r"[\s\-_.:：*()（）]+")


def _header_key(header: str) -> str:
    return _HEADER_NOISE.sub("", unicodedata.normalize("NFKC", header).lower())


def match_headers(headers: list[str]) -> dict[int, str]:
    """Return {column index: field} for the columns whose header names a field (first wins)."""
    mapping: dict[int, str] = {}
    for index, header in enumerate(headers):
        name = _LOOKUP.get(_header_key(header))
        if name and name not in mapping.values():
            mapping[index] = name
    return mapping


# --- email cleaning ------------------------------------------------------------------------
@dataclass
class CleanedEmail:
    original: str
    address: str = ""
    changes: list[str] = field(default_factory=list)
    error: str = ""
    suggestion: str = ""  # a likely intended domain ("gmail.com" for "gmial.com")


_INVISIBLE = re.compile("[\u00a0\u200b\u200c\u200d\u2060\ufeff\u3000]")
_ANGLE = re.compile(r"<([^<>]*)>")


def clean_email(raw: str) -> CleanedEmail:
    """Return the address in `raw` cleaned and validated, with each change described."""
    result = CleanedEmail(original=raw)
    value = raw
    if _INVISIBLE.search(value):
        value = _INVISIBLE.sub(" ", value)
    stripped = value.strip()
    if stripped != value:
        result.changes.append(_("removed surrounding spaces"))
        value = stripped
    trimmed = value.rstrip(",;").rstrip()
    if trimmed != value:
        result.changes.append(_("removed a trailing comma or semicolon"))
        value = trimmed
    match = _ANGLE.search(value)
    if match:
        display = value[: match.start()].strip().strip("\"'“”‘’").strip()
        value = match.group(1).strip()
        if display:
            result.changes.append(_("removed the display name “%(name)s”") % {"name": display})
        else:
            result.changes.append(_("removed angle brackets"))
    unquoted = value.strip("\"'“”‘’`")
    if unquoted != value:
        result.changes.append(_("removed quotes"))
        value = unquoted.strip()
    if value.lower().startswith("mailto:"):
        value = value[7:].split("?", 1)[0]
        result.changes.append(_("removed “mailto:”"))
    if re.search(r"\s", value):
        value = re.sub(r"\s+", "", value)
        result.changes.append(_("removed spaces inside the address"))
    value = value.rstrip(",;.")
    if not value:
        result.error = _("the email cell holds no address")
        return result
    try:
        address = validate_address(value)
    except ValidationError as exc:
        result.error = exc.messages[0]
        return result
    local, _sep, domain = value.rpartition("@")
    if address != value:
        new_domain = address.rpartition("@")[2]
        if new_domain != domain and normalize_email(value) != value:
            result.changes.append(_("lower-cased the domain"))
        elif new_domain != domain:
            result.changes.append(_("normalised the domain (%(domain)s)") % {"domain": new_domain})
        if address.rpartition("@")[0] != local:
            result.changes.append(_("normalised the characters of the local part"))
    domain = address.rpartition("@")[2]
    if not domain.isascii():
        try:
            ascii_domain = domain.encode("idna").decode("ascii")
        except UnicodeError:
            ascii_domain = ""
        if ascii_domain:
            result.changes.append(
                _("internationalised domain, sent as %(ascii)s") % {"ascii": ascii_domain}
            )
    result.address = address
    result.suggestion = suggest_domain(domain) or ""
    return result


def split_name(name: str) -> tuple[str, str]:
    """Return (first, last) of a full name: the last word is the last name; a name written
    without spaces (e.g. Chinese 李伟) is kept whole as the last name."""
    name = " ".join(name.split())
    if " " not in name:
        return "", name
    first, _sep, last = name.rpartition(" ")
    return first, last


_PHONEISH = re.compile(r"^[+\-]?[\d\s().\-/]*$")


def formula_like(value: str) -> bool:
    """Return whether a cell would run as a spreadsheet formula (a phone "+86 138…" does not
    count: it is digits and separators only)."""
    if not value:
        return False
    if value[0] in "=@":
        return True
    return value[0] in "+-" and not _PHONEISH.match(value)
