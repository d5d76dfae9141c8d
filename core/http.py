"""The request type of our views: LoginRequiredMiddleware lets no anonymous request reach them.

A type only: Django builds plain HttpRequests; annotating a view's ``request`` with
``SignedInRequest`` says its ``user`` is a real account (what services take as ``actor``).
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.http import HttpRequest


class SignedInRequest(HttpRequest):
    user: User
