"""Cross-cutting HTTP defences: parameters PostgreSQL cannot hold, security headers.

- A NUL byte in a query-string or form parameter answers 400 before any view runs: PostgreSQL
  refuses it in a text value, so a filter like `?type__exact=%00` would otherwise end in a 500
  deep inside a query (admin changelists, the lists, the reports).
- Every HTML response carries a Content-Security-Policy: scripts only from our own static
  files (no inline script, no event-handler attribute, no CDN), no plugins, no framing. Styles
  may be inline: the progress bar's width and pygal's server-drawn SVG charts use them.
- Pages answered to a logged-in user are `Cache-Control: no-store, private`: contact data must
  not stay in a shared or browser cache after logout.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _

DEFAULT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
# Channels that read their own request bodies (webhooks, the raw endpoint): their forms are
# not parsed here, so their bodies stay unread for them.
OWN_BODY_PREFIXES = ("/bounces/",)
# Only URL-encoded forms: parsing a multipart upload here would fix its upload handlers before
# the view (an import page) could choose them.
FORM_TYPES = ("application/x-www-form-urlencoded",)


def _has_nul(data) -> bool:
    return any("\x00" in key or any("\x00" in v for v in values) for key, values in data.lists())


class BadParametersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        bad = _has_nul(request.GET)
        if (
            not bad
            and request.method == "POST"
            and request.content_type in FORM_TYPES
            and not request.path.startswith(OWN_BODY_PREFIXES)
        ):
            bad = _has_nul(request.POST)
        if bad:
            return HttpResponseBadRequest(
                _("Bad request: a parameter contains a NUL byte."),
                content_type="text/plain; charset=utf-8",
            )
        return self.get_response(request)


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "text/html" in response.get("Content-Type", "") and (
            "Content-Security-Policy" not in response
        ):
            response["Content-Security-Policy"] = getattr(settings, "CONTENT_SECURITY_POLICY", "")
            if not response["Content-Security-Policy"]:
                response["Content-Security-Policy"] = DEFAULT_CSP
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            patch_cache_control(response, no_store=True, private=True)
        return response
