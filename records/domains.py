"""Facts about recipient and sender domains that list cleaning and sending both need.

- `suggest_domain`: a likely typo of a well-known mail provider (`gmial.com` → `gmail.com`), found
  by an edit distance of one (two for long names) to a provider's domain, or by a mistyped
  top-level domain after a provider's name (`gmail.con`). Real domains that merely resemble a
  provider (`mail.com`, `gmx.net`) are providers themselves, so they are never "fixed".
- `is_free_webmail`: whether a domain is a free mailbox provider; mass mail sent From such an
  address fails the provider's DMARC policy at the recipients' servers.
"""

from __future__ import annotations

from functools import lru_cache

# Free mailbox providers people most often type, worldwide and in China.
FREE_WEBMAIL_DOMAINS: frozenset[str] = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "yahoo.com",
        "yahoo.co.uk",
        "yahoo.co.jp",
        "yahoo.fr",
        "yahoo.de",
        "ymail.com",
        "hotmail.com",
        "hotmail.co.uk",
        "hotmail.fr",
        "outlook.com",
        "live.com",
        "msn.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "aol.com",
        "protonmail.com",
        "proton.me",
        "gmx.com",
        "gmx.de",
        "gmx.net",
        "web.de",
        "mail.com",
        "mail.ru",
        "yandex.ru",
        "yandex.com",
        "zoho.com",
        "qq.com",
        "foxmail.com",
        "163.com",
        "126.com",
        "yeah.net",
        "sina.com",
        "sina.cn",
        "sohu.com",
        "aliyun.com",
        "139.com",
        "naver.com",
        "daum.net",
        "rediffmail.com",
    }
)

# Large ISPs' mailbox domains: typos of them are as common as of the webmail names.
_ISP_DOMAINS = frozenset({"comcast.net", "verizon.net", "att.net", "btinternet.com", "orange.fr"})
KNOWN_DOMAINS: frozenset[str] = FREE_WEBMAIL_DOMAINS | _ISP_DOMAINS

# Top-level domains that are almost always a slip of the finger for ".com" / ".net".
_TLD_SLIPS = {
    "com": ("con", "cmo", "ocm", "comm", "coom", "cim", "vom", "xom", "om", "co", "cm", "c0m"),
    "net": ("nte", "ner", "nett", "bet", "met", "ne"),
}
# Short provider names get no edit-distance match at all: one slip turns "qq.com", "me.com" or
# "live.com" into another real domain. Long ones allow two edits.
_SHORT_NAME = 5
_LONG_NAME = 10


def _distance(a: str, b: str, limit: int) -> int:
    """Return the optimal-string-alignment edit distance, or `limit + 1` once it exceeds `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                value = min(value, previous2[j - 2] + 1)  # a transposition ("gmial")
            current[j] = value
        if min(current) > limit and min(previous) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


@lru_cache(maxsize=4096)
def suggest_domain(domain: str) -> str | None:
    """Return the provider domain that `domain` is probably a typo of, or None."""
    domain = domain.strip().lower().rstrip(".")
    if not domain or domain in KNOWN_DOMAINS or "." not in domain:
        return None
    name, _, tld = domain.rpartition(".")
    for right_tld, slips in _TLD_SLIPS.items():
        if tld in slips and f"{name}.{right_tld}" in KNOWN_DOMAINS:
            return f"{name}.{right_tld}"
    best: tuple[int, str] | None = None
    for known in KNOWN_DOMAINS:
        if len(known.partition(".")[0]) < _SHORT_NAME:
            continue
        limit = 2 if len(known) >= _LONG_NAME else 1
        distance = _distance(domain, known, limit)
        if distance <= limit and (best is None or distance < best[0]):
            best = (distance, known)
    return best[1] if best else None


def is_free_webmail(domain: str) -> bool:
    """Return whether `domain` is a free mailbox provider's."""
    return domain.strip().lower().rstrip(".") in FREE_WEBMAIL_DOMAINS
