"""Helpers shared by the report tests."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from bounces.models import Bounce, SentEmail
from tests.factories import BounceFactory

TZ = timezone.get_default_timezone()


def at(day: dt.date, hour: int = 12) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=TZ)


def bounce_for(sent: SentEmail | None, *, day: dt.date, **kw) -> Bounce:
    """A blocking bounce (permanent bad_mailbox unless told), correlated to `sent` if given."""
    fields = {"received_at": at(day, 13), "sent_email": sent}
    if sent is not None:
        fields["recipient"] = sent.to_address
        fields["recipient_domain"] = sent.to_address.rpartition("@")[2]
    fields.update(kw)
    return BounceFactory(**fields)
