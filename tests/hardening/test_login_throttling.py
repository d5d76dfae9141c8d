"""Wrong passwords are throttled per account and per client address, on the site and admin
login, with a clear page (429)."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

LOGINS = {"site": "/accounts/login/", "admin": "/admin/login/"}


@pytest.fixture(autouse=True)
def limit(settings):
    settings.AXES_FAILURE_LIMIT = 5
    return 5


def _try(client, where: str, username: str, password: str, ip: str = "10.0.0.1"):
    return client.post(LOGINS[where], {"username": username, "password": password}, REMOTE_ADDR=ip)


@pytest.mark.parametrize("where", list(LOGINS))
def test_an_account_is_locked_after_the_limit_even_with_the_right_password(
    where, sales_user, limit
):
    client = Client()
    answers = [
        # Each attempt from another address: the account itself is what gets locked.
        _try(client, where, "sally", "wrong", ip=f"10.0.1.{n}").status_code
        for n in range(limit)
    ]
    assert answers == [200] * (limit - 1) + [429]  # the limit-th failure locks
    locked = _try(client, where, "sally", "pw-sales-123", ip="10.0.2.1")
    assert locked.status_code == 429
    assert "Too many failed logins" in locked.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("where", list(LOGINS))
def test_one_address_trying_many_accounts_is_locked(where, admin_user, limit):
    client = Client()
    for n in range(limit):
        _try(client, where, f"guess{n}", "wrong", ip="10.9.9.9")
    assert _try(client, where, "ada", "pw-admin-123", ip="10.9.9.9").status_code == 429
    # Another address is not affected.
    assert _try(Client(), where, "ada", "pw-admin-123", ip="10.8.8.8").status_code == 302


def test_below_the_limit_a_right_password_logs_in_and_resets_the_count(sales_user, limit):
    client = Client()
    for _ in range(limit - 1):
        _try(client, "site", "sally", "wrong")
    assert _try(client, "site", "sally", "pw-sales-123").status_code == 302
    other = Client()
    for _ in range(limit - 1):
        _try(other, "site", "sally", "wrong")
    assert _try(other, "site", "sally", "pw-sales-123").status_code == 302


def test_behind_a_trusted_proxy_the_forwarded_address_is_counted(settings, sales_user, limit):
    settings.TRUSTED_PROXY_COUNT = 1
    client = Client()
    for n in range(limit):
        client.post(
            LOGINS["site"],
            {"username": f"x{n}", "password": "wrong"},
            REMOTE_ADDR="127.0.0.1",
            HTTP_X_FORWARDED_FOR="203.0.113.7",
        )
    blocked = client.post(
        LOGINS["site"],
        {"username": "sally", "password": "pw-sales-123"},
        REMOTE_ADDR="127.0.0.1",
        HTTP_X_FORWARDED_FOR="203.0.113.7",
    )
    assert blocked.status_code == 429
    fine = client.post(
        LOGINS["site"],
        {"username": "sally", "password": "pw-sales-123"},
        REMOTE_ADDR="127.0.0.1",
        HTTP_X_FORWARDED_FOR="198.51.100.2",
    )
    assert fine.status_code == 302
