"""Fixtures of the sales UI tests: a small set of contacts with every kind of block."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from records.models import Contact
from tests.factories import BlockFactory, ContactFactory


@dataclass
class Blocked:
    temp_primary: Contact  # primary temporarily blocked (mailbox_full)
    perm_primary: Contact  # primary permanently blocked (bad_mailbox)
    temp_backup: Contact  # backup temporarily blocked (auto_reply), primary clean
    both_temp: Contact  # both addresses temporarily blocked
    clean: Contact  # nothing blocked


@pytest.fixture
def blocked(db) -> Blocked:
    temp_primary = ContactFactory(last_name="Alpha", email="alpha@example.com")
    perm_primary = ContactFactory(last_name="Bravo", email="bravo@example.com")
    temp_backup = ContactFactory(
        last_name="Charlie", email="charlie@example.com", backup_email="charlie@backup.example"
    )
    both_temp = ContactFactory(
        last_name="Delta", email="delta@example.com", backup_email="delta@backup.example"
    )
    clean = ContactFactory(last_name="Echo", email="echo@example.com", company="Echo Works")
    BlockFactory(address="alpha@example.com")
    BlockFactory(address="bravo@example.com", permanent=True)
    BlockFactory(address="charlie@backup.example", category="auto_reply")
    BlockFactory(address="delta@example.com", category="network_error")
    BlockFactory(address="delta@backup.example", category="auto_reply")
    return Blocked(temp_primary, perm_primary, temp_backup, both_temp, clean)
