"""Daily roll-ups behind the bounce report, and the bounce-rate alerts.

The roll-ups are derived data: `reports.rollups` keeps them up to date as bounces and sent emails
are recorded, and rebuilds them from the raw rows on demand. Absent values are stored as "" (and
mailing 0), never NULL, so the unique constraint over the dimensions identifies one row per
combination on every database (NULLs never conflict in a unique index).

Three tables instead of one wide one keep each small at any volume: the recipient domain has a
long tail (every company domain), so it lives in its own table with only type and category
beside it; the sender/mailing table never multiplies by it.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

BOUNCE_DIMENSIONS = (
    "day",
    "type",
    "category",
    "channel",
    "sender_address",
    "sender_domain",
    "mailing_id",
)
DOMAIN_DIMENSIONS = ("day", "recipient_domain", "type", "category")
MONTH_DIMENSIONS = ("month", "recipient_domain", "type", "category")
MONTH_BOUNCE_DIMENSIONS = ("month", *BOUNCE_DIMENSIONS[1:])
SENT_DIMENSIONS = (
    "day",
    "sender_address",
    "sender_domain",
    "mailing_id",
    "type",
    "category",
    "channel",
)
MONTH_SENT_DIMENSIONS = ("month", *SENT_DIMENSIONS[1:])
# Filter group first: a period reads one group's rows of a range of months.
TOP_DOMAIN_DIMENSIONS = ("type", "category", "month", "rank")


class BounceCounts(models.Model):
    """The dimensions and count of the bounce roll-ups, per day or per month."""

    type = models.CharField(_("block type"), max_length=10)
    category = models.CharField(_("category"), max_length=30)
    channel = models.CharField(_("channel"), max_length=10)
    sender_address = models.CharField(_("sender address"), max_length=254)
    sender_domain = models.CharField(_("sender domain"), max_length=253)
    mailing_id = models.BigIntegerField(_("mailing"), default=0)
    count = models.BigIntegerField(_("bounces"), default=0)

    class Meta:
        abstract = True


class DomainCounts(models.Model):
    """The dimensions and count of the recipient-domain roll-ups, per day or per month."""

    recipient_domain = models.CharField(_("recipient domain"), max_length=253)
    type = models.CharField(_("block type"), max_length=10)
    category = models.CharField(_("category"), max_length=30)
    count = models.BigIntegerField(_("bounces"), default=0)

    class Meta:
        abstract = True


class SentCounts(models.Model):
    """The dimensions and counts of the sent roll-ups, per day or per month."""

    sender_address = models.CharField(_("sender address"), max_length=254)
    sender_domain = models.CharField(_("sender domain"), max_length=253)
    mailing_id = models.BigIntegerField(_("mailing"), default=0)
    type = models.CharField(_("block type"), max_length=10, default="")
    category = models.CharField(_("category"), max_length=30, default="")
    channel = models.CharField(_("channel"), max_length=10, default="")
    sent = models.BigIntegerField(_("sent"), default=0)
    bounced = models.BigIntegerField(_("bounced"), default=0)

    class Meta:
        abstract = True


class DailyBounceRollup(BounceCounts):
    """Blocking bounces received per day, by type, category, channel, sender and mailing.

    `sender_address` is the correlated sent email's From (lower-cased), "" when the bounce could
    not be matched to a sent email; `sender_domain` is that address' domain, else the bounce's
    own sender domain. `mailing_id` is 0 for bounces of no mailing (kept without a foreign key:
    a deleted mailing must not delete history).
    """

    day = models.DateField(_("day"))

    class Meta:
        verbose_name = _("daily bounce roll-up")
        verbose_name_plural = _("daily bounce roll-ups")
        constraints = [
            # The upsert's conflict target; also serves every report query, which filters on
            # the day range first.
            models.UniqueConstraint(fields=BOUNCE_DIMENSIONS, name="rollup_bounce_dims"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.type}:{self.category} {self.count}"


class DailyDomainRollup(DomainCounts):
    """Blocking bounces received per day by recipient domain, type and category."""

    day = models.DateField(_("day"))

    class Meta:
        verbose_name = _("daily recipient-domain roll-up")
        verbose_name_plural = _("daily recipient-domain roll-ups")
        constraints = [
            # Upsert conflict target and the report's day-range scan for top domains.
            models.UniqueConstraint(fields=DOMAIN_DIMENSIONS, name="rollup_domain_dims"),
        ]
        indexes = [
            # The report filtered by one recipient domain: that domain's days.
            models.Index(fields=["recipient_domain", "day"], name="rollup_domain_by_name"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.recipient_domain} {self.count}"


class MonthlyDomainRollup(DomainCounts):
    """`DailyDomainRollup` summed per calendar month (`month` is the month's first day).

    The recipient-domain tail is long (every company domain), so the daily table grows to
    millions of rows over a year; the top-domains query reads whole months here and only the
    days at the period's edges from the daily table.
    """

    month = models.DateField(_("month"))

    class Meta:
        verbose_name = _("monthly recipient-domain roll-up")
        verbose_name_plural = _("monthly recipient-domain roll-ups")
        constraints = [
            # Upsert conflict target and the month-range scan for top domains.
            models.UniqueConstraint(fields=MONTH_DIMENSIONS, name="rollup_month_dims"),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.recipient_domain} {self.count}"


class DailySentRollup(SentCounts):
    """Sent emails per day sent, by sender and mailing, and how many of them bounced.

    Rows with an empty type carry `sent`; rows with a type carry `bounced`: the sent emails of
    that day whose first blocking bounce had that type, category and channel. Each sent email
    counts as bounced once (bounced recipients / recipients sent, as DESIGN defines the rate),
    so summing `bounced` over categories gives the bounced total.
    """

    day = models.DateField(_("day"))

    class Meta:
        verbose_name = _("daily sent roll-up")
        verbose_name_plural = _("daily sent roll-ups")
        constraints = [
            # Upsert conflict target and the report's day-range scan.
            models.UniqueConstraint(fields=SENT_DIMENSIONS, name="rollup_sent_dims"),
        ]
        indexes = [
            # Alerts: the rate of every mailing over all time (group by mailing).
            models.Index(fields=["mailing_id", "day"], name="rollup_sent_mailing"),
            # Alerts: the rate of every sender over the last N days.
            models.Index(fields=["sender_address", "day"], name="rollup_sent_sender"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.sender_address or self.sender_domain} {self.sent}/{self.bounced}"


class MonthlyBounceRollup(BounceCounts):
    """`DailyBounceRollup` summed per calendar month (`month` is the month's first day).

    A 12-month report reads whole months here and only the days at the period's edges from the
    daily table: tens of rows per month instead of hundreds per day.
    """

    month = models.DateField(_("month"))

    class Meta:
        verbose_name = _("monthly bounce roll-up")
        verbose_name_plural = _("monthly bounce roll-ups")
        constraints = [
            models.UniqueConstraint(
                fields=MONTH_BOUNCE_DIMENSIONS, name="rollup_month_bounce_dims"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.type}:{self.category} {self.count}"


class MonthlySentRollup(SentCounts):
    """`DailySentRollup` summed per calendar month of sending (`month` is its first day)."""

    month = models.DateField(_("month"))

    class Meta:
        verbose_name = _("monthly sent roll-up")
        verbose_name_plural = _("monthly sent roll-ups")
        constraints = [
            models.UniqueConstraint(fields=MONTH_SENT_DIMENSIONS, name="rollup_month_sent_dims"),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.sender_address or self.sender_domain} {self.sent}"


class ClosedMonthTopDomain(models.Model):
    """The top recipient domains of one closed month, materialised (closed months are final).

    One group per month and bounce filter: all bounces (type and category ""), one type
    (category ""), or one category. Each group holds its `TOP_DOMAINS_KEPT` biggest domains
    (rank 1…) and a remainder row (rank 0, domain "") counting every other domain, so the
    group's total stays exact and no unlisted domain can exceed the smallest listed count.
    Written by `rollups.close_months`; a late bounce for a closed month deletes its groups.
    """

    month = models.DateField(_("month"))
    type = models.CharField(_("block type"), max_length=10, blank=True)
    category = models.CharField(_("category"), max_length=30, blank=True)
    rank = models.PositiveIntegerField(_("rank"))
    recipient_domain = models.CharField(_("recipient domain"), max_length=253, blank=True)
    count = models.BigIntegerField(_("bounces"), default=0)

    class Meta:
        verbose_name = _("closed-month top domain")
        verbose_name_plural = _("closed-month top domains")
        constraints = [
            models.UniqueConstraint(fields=TOP_DOMAIN_DIMENSIONS, name="rollup_top_domain_dims"),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} #{self.rank} {self.recipient_domain} {self.count}"


class RateAlert(models.Model):
    """One crossing of the bounce-rate threshold by a mailing or a sender address.

    Opened when the rate goes above the threshold, emailed to admins once (`notified_at`),
    closed (`cleared_at`) when the rate falls back to or below it; a later crossing opens a new
    row. At most one open alert per subject (database constraint), so concurrent checks cannot
    open two.
    """

    class Kind(models.TextChoices):
        MAILING = "mailing", _("Mailing")
        SENDER = "sender", _("Sender address")

    subject_kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    # The mailing's id, or the sender address (lower-cased).
    subject_key = models.CharField(_("subject"), max_length=254)
    subject_name = models.CharField(_("name"), max_length=254, blank=True)
    crossed_at = models.DateTimeField(_("crossed"))
    rate = models.DecimalField(_("bounce rate (%)"), max_digits=6, decimal_places=2)
    threshold = models.DecimalField(_("threshold (%)"), max_digits=5, decimal_places=2)
    sent = models.BigIntegerField(_("sent"), default=0)
    bounced = models.BigIntegerField(_("bounced"), default=0)
    notified_at = models.DateTimeField(_("admins notified"), null=True, blank=True)
    cleared_at = models.DateTimeField(_("cleared"), null=True, blank=True)

    class Meta:
        verbose_name = _("bounce-rate alert")
        verbose_name_plural = _("bounce-rate alerts")
        ordering = ["-crossed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["subject_kind", "subject_key"],
                condition=models.Q(cleared_at__isnull=True),
                name="ratealert_one_open_per_subject",
            ),
        ]
        indexes = [
            # The staff banner: open alerts, newest first.
            models.Index(
                fields=["-crossed_at"],
                condition=models.Q(cleared_at__isnull=True),
                name="ratealert_open",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_subject_kind_display()} {self.subject_name or self.subject_key}"

    def get_absolute_url(self) -> str:
        """Return the bounce report narrowed to this alert's mailing (all year) or sender (30 days).

        The one link of an alert: the staff banner uses it, the admins' email puts it on SITE_URL.
        """
        if self.subject_kind == self.Kind.MAILING:
            query = {"period": "12m", "mailing": self.subject_key}
        else:
            query = {"period": "30d", "sender": self.subject_key}
        return f"{reverse('reports:bounces')}?{urlencode(query)}"

    @property
    def is_open(self) -> bool:
        return self.cleared_at is None
