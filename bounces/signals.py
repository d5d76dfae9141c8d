"""Hooks that let apps ranked above bounces follow what it records, without bounces importing them.

Plain `django.dispatch.Signal`s, sent synchronously inside the transaction that made the change,
so a receiver's writes commit or roll back with it. `reports.apps.ReportsConfig.ready` connects
the report's roll-ups and rate check; with no receiver connected, sending one costs nothing.
"""

from __future__ import annotations

from django.dispatch import Signal

# Sent with `bounces`, the Bounce rows an ingestion batch has just inserted (with primary keys).
bounces_recorded = Signal()

# Sent with `sent_emails`, the SentEmail rows a mail server has just accepted (status "sent").
emails_sent = Signal()

# Sent with `mailing_ids`, the mailings just paused because their bounce rate passed the threshold.
mailings_autopaused = Signal()
