"""factory_boy factories shared by every test package.

Addresses are unique per sequence number (Faker names alone collide), and a block's address is
stored in its key form (lower-cased), as the services store it. Like the services, creating a
block or a record sets the records' block columns (`bounces.services.record_blocks`).
"""

from __future__ import annotations

from datetime import timedelta

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone
from factory.django import DjangoModelFactory

from bounces.categories import BlockType, Category
from bounces.models import Block, Bounce, Channel, Mailing, SentEmail
from bounces.services.record_blocks import record_refresh_blocks, records_sync_blocks
from records.addresses import address_key
from records.models import Contact, Lead


class UserFactory(DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    password = factory.django.Password("pw-test-123")

    @factory.post_generation
    def groups(self, create, extracted, **kwargs):
        """`UserFactory(groups=["Sales staff"])` adds the user to existing groups by name."""
        if not create or not extracted:
            return
        from django.contrib.auth.models import Group

        self.groups.add(*Group.objects.filter(name__in=extracted))


class _RecordFactory(DjangoModelFactory):
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    company = factory.Faker("company")
    phone = factory.Faker("numerify", text="+1 555-###-####")
    email = factory.Sequence(lambda n: f"person{n}@example.com")
    backup_email = ""

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        record = super()._create(model_class, *args, **kwargs)
        record_refresh_blocks(record=record)
        return record


class ContactFactory(_RecordFactory):
    class Meta:
        model = Contact


class LeadFactory(_RecordFactory):
    class Meta:
        model = Lead

    email = factory.Sequence(lambda n: f"lead{n}@example.org")
    source = "web"


class BlockFactory(DjangoModelFactory):
    """An active temporary `mailbox_full` block unless told otherwise."""

    class Meta:
        model = Block

    address = factory.Sequence(lambda n: f"blocked{n}@example.com")
    type = BlockType.TEMPORARY
    category = Category["MAILBOX_FULL"]
    status = "4.2.2"
    reply_code = "452"
    diagnostic = "452 4.2.2 Mailbox full"
    first_bounce_at = factory.LazyFunction(timezone.now)
    last_bounce_at = factory.LazyAttribute(lambda o: o.first_bounce_at)
    bounce_count = 1
    review_due_at = factory.LazyAttribute(lambda o: o.first_bounce_at + timedelta(days=182))
    lifted_at = None

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        kwargs["address"] = address_key(kwargs["address"])
        block = super()._create(model_class, *args, **kwargs)
        records_sync_blocks(addresses=[block.address])
        return block

    class Params:
        permanent = factory.Trait(
            type=BlockType.PERMANENT,
            category=Category["BAD_MAILBOX"],
            status="5.1.1",
            reply_code="550",
            diagnostic="550 5.1.1 User unknown",
        )


class BounceFactory(DjangoModelFactory):
    class Meta:
        model = Bounce

    dedupe_key = factory.Sequence(lambda n: f"test-bounce-{n}")
    channel = Channel.MANUAL
    recipient = factory.Sequence(lambda n: f"bounced{n}@example.com")
    status = "5.1.1"
    reply_code = "550"
    diagnostic = "smtp; 550 5.1.1 <user@example.com>: Recipient address rejected: User unknown"
    type = BlockType.PERMANENT
    category = Category["BAD_MAILBOX"]
    kind = "dsn"
    recipient_domain = factory.LazyAttribute(lambda o: o.recipient.rpartition("@")[2])
    received_at = factory.LazyFunction(timezone.now)


class MailingFactory(DjangoModelFactory):
    class Meta:
        model = Mailing

    name = factory.Sequence(lambda n: f"Newsletter {n}")
    subject = factory.Faker("sentence", nb_words=5)
    from_address = "news@bouncecrm.local"
    sent_at = factory.LazyFunction(timezone.now)
    recipients_sent = 100
    recipients_bounced = 2


class SentEmailFactory(DjangoModelFactory):
    """A sent email to a contact's primary address (pass `lead=…, contact=None` for a lead)."""

    class Meta:
        model = SentEmail

    contact = factory.SubFactory(ContactFactory)
    lead = None
    field = "primary"
    to_address = factory.LazyAttribute(
        lambda o: (o.contact or o.lead).email if (o.contact or o.lead) else "x@example.com"
    )
    from_address = "sales@bouncecrm.local"
    subject = factory.Faker("sentence", nb_words=4)
    message_id = factory.Sequence(lambda n: f"<test-{n}@bouncecrm.local>")
    verp_token = factory.Sequence(lambda n: f"tok{n:08d}")
    sent_at = factory.LazyFunction(timezone.now)
