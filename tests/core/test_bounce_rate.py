"""The bounce rate has one definition; the SQL condition the admin and the auto-pause use is it."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bounces.models import Mailing
from bounces.rates import rate_above_threshold
from core.rates import bounce_rate, is_above_threshold
from tests.factories import MailingFactory


def test_rate_is_a_percentage_with_two_decimals_rounded_half_to_even():
    assert bounce_rate(9, 100) == Decimal("9.00")
    assert bounce_rate(1, 3) == Decimal("33.33")
    assert bounce_rate(0, 0) == bounce_rate(5, 0) == Decimal("0.00")
    assert bounce_rate(1, 20000) == Decimal("0.00")  # 0.005 rounds to the even 0.00
    assert bounce_rate(3, 20000) == Decimal("0.02")  # 0.015 rounds to the even 0.02


def test_above_means_the_shown_rate_is_above():
    assert is_above_threshold(9, 100, Decimal("5.00"))
    assert not is_above_threshold(5, 100, Decimal("5.00"))
    assert not is_above_threshold(1001, 20000, Decimal("5.00"))  # 5.005 shows as 5.00
    assert is_above_threshold(1003, 20000, Decimal("5.01"))  # 5.015 shows as 5.02
    assert not is_above_threshold(0, 0, Decimal("0"))


@pytest.mark.django_db
def test_sql_condition_equals_the_python_definition():
    # Around 5 % and at the exact half-hundredths where rounding decides.
    counts = [(0, 0), (1, 0), (0, 10), (5, 100), (6, 100), (9, 100), (1, 20000), (3, 20000)]
    counts += [(1001, 20000), (1002, 20000), (1003, 20000), (50, 999), (100, 1999)]
    for n, (bounced, sent) in enumerate(counts):
        MailingFactory(name=str(n), recipients_bounced=bounced, recipients_sent=sent)
    for threshold in ["0", "0.00", "0.01", "4.99", "5.00", "5.01", "5.02", "100"]:
        limit = Decimal(threshold)
        above = set(Mailing.objects.filter(rate_above_threshold(limit)).values_list("name"))
        expected = {(str(n),) for n, (b, s) in enumerate(counts) if is_above_threshold(b, s, limit)}
        assert above == expected, threshold
