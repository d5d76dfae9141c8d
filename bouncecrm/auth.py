"""Authentication backends: login throttling (django-axes) and permissions in one query."""

from __future__ import annotations

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.db.models import Q
from django.http import HttpRequest
from django.shortcuts import render


class ThrottledLoginBackend(AxesStandaloneBackend):
    """django-axes' check on every login form (site and admin), with the same lockout.

    A call without a request (`Client.login` in tests, a management command) is not a login
    form and is left to the next backend instead of being refused.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


class PermissionBackend(ModelBackend):
    """Django's model backend, reading a user's own and group permissions in one query.

    Every page checks permissions (the view, its buttons, the navigation); Django's backend
    reads the user's and the groups' permissions in two queries per request.
    """

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            permissions = Permission.objects.all()
            if not user_obj.is_superuser:
                permissions = permissions.filter(Q(user=user_obj) | Q(group__user=user_obj))
            user_obj._perm_cache = {
                f"{app_label}.{codename}"
                for app_label, codename in permissions.values_list(
                    "content_type__app_label", "codename"
                ).order_by()
            }
        return user_obj._perm_cache


def client_ip(request: HttpRequest) -> str:
    """Return the client address logins are counted by.

    Behind `TRUSTED_PROXY_COUNT` proxies, the address the outermost trusted proxy saw (counted
    from the right of X-Forwarded-For, which a client can only prepend to); otherwise the peer
    address. Counting the proxy's own address would lock every user out at once.
    """
    count = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if count > 0:
        hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        hops = [h for h in hops if h]
        if len(hops) >= count:
            return hops[-count]
    return request.META.get("REMOTE_ADDR", "")


def lockout_response(request: HttpRequest, original_response=None, credentials=None):
    """The page a locked-out login gets: 429, saying why and for how long, in the user's
    language (site and admin login alike)."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(request, "registration/locked_out.html", {"cooloff_minutes": minutes}, status=429)
