"""Demo data: contacts, leads, mailings, sent emails, bounces and the blocks they caused.

`demo_seed` is a plain function (the `seed_demo` command is its thin wrapper). Everything is
drawn from one `random.Random(seed)`, so a seed gives the same data every time. Records are
written with PostgreSQL's COPY (about 10× faster than INSERTs at a million rows) and with
batched `bulk_create` elsewhere; the smaller tables always use `bulk_create`.

Blocks are derived from the bounces, as the ingestion would derive them: each blocked address
has its bounces (with the sent email each answers), the latest bounce is the block's cause, and
its count is the number of bounces. Some blocks are already lifted, with their audit rows. They
are written, with the records' block columns, by `bounces.services.seeding`.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.db.models import F, Max, OuterRef, Subquery
from django.utils import timezone

from bounces.categories import BlockCategory, BlockType
from bounces.models import Block, Bounce, BouncePolicy, Channel, Mailing, SentEmail, Unblock
from bounces.services.seeding import blocks_from_bounces, blocks_seed
from core.addresses import address_domain
from reports import rollups

from .models import Contact, EmailField, Lead
from .search import search_text_of

BATCH = 5_000
MAILING_SIZE_MAX = 2_000
DEMO_PASSWORD = "demo"  # noqa: S105 - the documented password of the demo users
SENDING_DOMAIN = "mail.bouncecrm.example"
# Bounce rates of the demo mailings: some under the 5 % alert threshold, some over it.
MAILING_RATES = (0.008, 0.025, 0.04, 0.065, 0.09, 0.14)
# One-to-one emails delivered for each one that bounced (about 3.5% bounced), with a ceiling so a
# seed with a huge --bounces does not write tens of millions of sent emails.
DELIVERED_PER_BOUNCE = 27
DELIVERED_MAX = 500_000

FIRST_NAMES = (
    "Wei",
    "Fang",
    "Jing",
    "Lei",
    "Min",
    "Xiaoming",
    "Yan",
    "Hui",
    "Jun",
    "Li",
    "Ming",
    "Tao",
    "Anna",
    "Ben",
    "Carla",
    "David",
    "Elena",
    "Farid",
    "Grace",
    "Hiro",
    "Ines",
    "Jonas",
    "Kofi",
    "Laura",
    "Marco",
    "Nadia",
    "Omar",
    "Priya",
    "Quentin",
    "Rosa",
    "Sven",
    "Tomás",
    "Uma",
    "Viktor",
    "Wanjiru",
    "Yusuf",
    "Zoe",
    "Aiko",
    "Bruno",
    "Chloé",
    "Dmitri",
    "Emma",
    "Felix",
    "Hana",
    "Ivan",
    "Julia",
    "Kenji",
    "Lucas",
    "Maya",
    "Nikolai",
    "Olivia",
    "Pablo",
    "Sofia",
)
LAST_NAMES = (
    "Wang",
    "Li",
    "Zhang",
    "Liu",
    "Chen",
    "Yang",
    "Huang",
    "Zhao",
    "Wu",
    "Zhou",
    "Xu",
    "Sun",
    "Smith",
    "Johnson",
    "Müller",
    "García",
    "Rossi",
    "Dubois",
    "Kowalski",
    "Tanaka",
    "Sato",
    "Kim",
    "Park",
    "Nguyen",
    "Singh",
    "Patel",
    "Okafor",
    "Mensah",
    "Silva",
    "Santos",
    "Novak",
    "Andersson",
    "Jensen",
    "Schmidt",
    "Fischer",
    "Weber",
    "Moreau",
    "Bianchi",
    "Romano",
    "Ivanova",
    "Petrov",
    "Haddad",
    "Khan",
    "Ali",
    "Cohen",
    "Murphy",
    "O'Brien",
    "Walsh",
)
COMPANY_STEMS = (
    "Northwind",
    "Bluefin",
    "Redwood",
    "Harbor",
    "Summit",
    "Silverline",
    "Pioneer",
    "Lotus",
    "Jade",
    "Evergreen",
    "Brightpath",
    "Crescent",
    "Golden Bridge",
    "Ironbark",
    "Kestrel",
    "Lakeside",
    "Meridian",
    "Nimbus",
    "Orchid",
    "Polaris",
    "Quartz",
    "Riverbend",
    "Sunrise",
    "Tidewater",
    "Unity",
    "Vantage",
    "Willow",
    "Zenith",
    "Huaxia",
    "Longmen",
    "Taishan",
)
COMPANY_TRADES = (
    "Logistics",
    "Trading",
    "Software",
    "Foods",
    "Consulting",
    "Manufacturing",
    "Health",
    "Energy",
    "Media",
    "Capital",
    "Textiles",
    "Robotics",
    "Analytics",
    "Travel",
    "Components",
)
LEGAL_FORMS = ("Ltd", "Inc.", "GmbH", "Co., Ltd.", "LLC", "S.A.", "plc", "")
TLDS = (".com", ".com", ".com", ".cn", ".com.cn", ".de", ".co.uk", ".io", ".net", ".fr")
FREEMAIL = ("gmail.com", "outlook.com", "yahoo.com", "qq.com", "163.com", "icloud.com")
LEAD_SOURCES = ("Web form", "Trade show", "Referral", "Cold call", "Webinar", "Partner")
SUBJECTS = (
    "Following up on our call",
    "Your quote for {company}",
    "Meeting next week?",
    "Invoice and delivery dates",
    "Product catalogue {year}",
    "Thank you for visiting our stand",
)
MAILING_NAMES = (
    "Spring product launch",
    "Customer newsletter",
    "Trade show invitation",
    "Year-end offers",
    "Webinar: automation in practice",
    "Re-engagement campaign",
)

# Per category: weight among bounces, then realistic (status, reply code, diagnostic) samples.
# Diagnostics say "{addr}" / "{domain}" where the recipient goes.
DIAGNOSTICS: dict[tuple[str, str], tuple[int, list[tuple[str, str, str]]]] = {
    ("permanent", "bad_mailbox"): (
        30,
        [
            ("5.1.1", "550", "smtp; 550 5.1.1 <{addr}>: Recipient address rejected: User unknown"),
            (
                "5.1.1",
                "550",
                "smtp; 550-5.1.1 The email account that you tried to reach does not "
                "exist. Please try double-checking the recipient's email address",
            ),
            (
                "5.2.1",
                "550",
                "smtp; 550 5.2.1 The email account that you tried to reach is disabled",
            ),
        ],
    ),
    ("permanent", "bad_domain"): (
        8,
        [
            ("5.1.2", "", "DNS Error: Domain name not found: {domain}"),
            (
                "5.4.4",
                "",
                "Host or domain name not found. Name service error for name={domain} "
                "type=MX: Host not found",
            ),
        ],
    ),
    ("permanent", "sender_rejected"): (
        3,
        [
            (
                "5.7.1",
                "554",
                "smtp; 554 5.7.1 <sales@" + SENDING_DOMAIN + ">: Sender address "
                "rejected: Access denied",
            ),
        ],
    ),
    ("permanent", "policy_related"): (
        4,
        [
            (
                "5.7.26",
                "550",
                "smtp; 550 5.7.26 This message does not pass authentication checks "
                "(SPF and DKIM both do not pass)",
            ),
            ("5.7.1", "550", "smtp; 550 5.7.1 Message rejected due to local policy"),
        ],
    ),
    ("permanent", "possible_spam"): (
        3,
        [
            ("5.7.1", "554", "smtp; 554 5.7.1 Message rejected as spam by Content Filtering"),
        ],
    ),
    ("permanent", "relay_denied"): (
        1,
        [
            ("5.7.1", "554", "smtp; 554 5.7.1 <{addr}>: Relay access denied"),
        ],
    ),
    ("permanent", "routing_error"): (
        1,
        [
            ("5.4.6", "554", "smtp; 554 5.4.6 Routing loop detected -- too many hops"),
        ],
    ),
    ("permanent", "protocol_error"): (
        1,
        [
            ("5.5.2", "500", "smtp; 500 5.5.2 Error: bad syntax in command"),
        ],
    ),
    ("permanent", "other"): (
        2,
        [
            ("5.0.0", "550", "smtp; 550 Requested action not taken: mailbox unavailable"),
        ],
    ),
    ("temporary", "mailbox_full"): (
        14,
        [
            (
                "4.2.2",
                "452",
                "smtp; 452 4.2.2 The email account that you tried to reach is over quota",
            ),
            ("5.2.2", "552", "smtp; 552 5.2.2 Mailbox full: {addr}"),
        ],
    ),
    ("temporary", "auto_reply"): (
        10,
        [
            ("", "", "Out of office: I am away until {date} with limited access to email."),
            (
                "",
                "",
                "Automatic reply: I'm on annual leave; for urgent matters contact my colleague.",
            ),
        ],
    ),
    ("temporary", "domain_error"): (
        5,
        [
            ("4.4.3", "", "Temporary DNS failure looking up MX for {domain}: SERVFAIL"),
        ],
    ),
    ("temporary", "network_error"): (
        6,
        [
            ("4.4.7", "", "Delivery expired: message too old, connection to mx.{domain} timed out"),
            ("4.4.1", "421", "smtp; 421 4.4.1 Connection timed out"),
        ],
    ),
    ("temporary", "authentication_failure"): (
        4,
        [
            (
                "4.7.1",
                "451",
                "smtp; 451 4.7.1 Please try again later: SPF check returned "
                "temperror for " + SENDING_DOMAIN,
            ),
        ],
    ),
    ("temporary", "content_related"): (
        4,
        [
            ("", "", "Feedback-Type: abuse (the recipient marked the message as spam)"),
            ("4.7.0", "450", "smtp; 450 4.7.0 Message content rejected, UBE"),
        ],
    ),
    ("temporary", "other"): (
        4,
        [
            ("4.0.0", "450", "smtp; 450 Requested mail action not taken: try again later"),
        ],
    ),
}
CHANNELS = (
    (Channel.IMAP, ""),
    (Channel.IMAP, ""),
    (Channel.WEBHOOK, "amazon_ses"),
    (Channel.WEBHOOK, "sendgrid"),
    (Channel.PIPE, ""),
    (Channel.HTTP, ""),
)


@dataclass
class DemoResult:
    contacts: int = 0
    leads: int = 0
    mailings: int = 0
    sent_emails: int = 0
    bounces: int = 0
    blocks: int = 0
    active_blocks: int = 0
    unblocks: int = 0
    users: list[str] = field(default_factory=list)
    rollups: str = ""

    def __str__(self) -> str:
        return (
            f"Seeded {self.contacts} contacts, {self.leads} leads, {self.mailings} mailings, "
            f"{self.sent_emails} sent emails, {self.bounces} bounces, {self.blocks} blocks "
            f"({self.active_blocks} active, {self.unblocks} lifted); users: "
            f"{', '.join(self.users)} (password {DEMO_PASSWORD!r}).{self.rollups}"
        )


def database_is_empty() -> bool:
    """Return whether no records, blocks or bounces exist (users and groups do not count)."""
    return not (
        Contact.objects.exists()
        or Lead.objects.exists()
        or Block.objects.exists()
        or Bounce.objects.exists()
        or SentEmail.objects.exists()
    )


def demo_seed(
    *,
    contacts: int = 200,
    leads: int = 100,
    bounces: int = 300,
    seed: int | None = None,
    now: datetime | None = None,
    progress: Callable[[str], None] | None = None,
) -> DemoResult:
    """Fill the database with demo data; return what was made.

    Adds to whatever is there (the command refuses a non-empty database unless forced);
    addresses, Message-IDs and VERP tokens carry a run number so a second run never collides.
    """
    rng = random.Random(seed)
    now = now or timezone.now()
    say = progress or (lambda message: None)
    result = DemoResult()
    run = (SentEmail.objects.aggregate(m=Max("pk"))["m"] or 0) + (
        Contact.objects.aggregate(m=Max("pk"))["m"] or 0
    )
    with transaction.atomic():
        admin, sales = _users(result)
        gen = _RecordGen(rng, now, owners=[sales.pk, sales.pk, admin.pk, None], run=run)
        say(f"contacts: {contacts}")
        pks = {"contact": _insert_records(Contact, gen, contacts, "contact")}
        say(f"leads: {leads}")
        pks["lead"] = _insert_records(Lead, gen, leads, "lead")
        result.contacts, result.leads = len(pks["contact"]), len(pks["lead"])
        say("mailings, sent emails, bounces and blocks")
        _sending(rng, now, run, result, pks, bounces, sales, admin)
        _make_coherent()
    _rebuild_rollups(result)
    return result


def _make_coherent() -> None:
    """Set-based clean-up after the random sends (sending, issue 9):

    - an email "delivered" to an address while it was blocked could not have been sent: the CRM
      suppresses it, so it becomes "suppressed" with the reason;
    - a record's "last emailed" is the newest email that actually went to it (none: never).
    """
    from django.db.models import Exists, Q
    from django.db.models.functions import Lower

    from bounces.models import Block

    blocked_then = Block.objects.filter(
        address=Lower(OuterRef("to_address")), first_bounce_at__lt=OuterRef("sent_at")
    ).filter(Q(lifted_at__isnull=True) | Q(lifted_at__gt=OuterRef("sent_at")))
    SentEmail.objects.filter(status=SentEmail.Status.DELIVERED).filter(Exists(blocked_then)).update(
        status=SentEmail.Status.SUPPRESSED,
        status_reason="Not sent: the address was blocked at the time.",
    )
    for model, lookup in ((Contact, "contact"), (Lead, "lead")):
        newest = (
            SentEmail.objects.filter(**{lookup: OuterRef("pk")})
            .exclude(status__in=SentEmail.UNSENT)
            .order_by("-sent_at")
            .values("sent_at")[:1]
        )
        model.objects.update(last_emailed_at=Subquery(newest))


# --- users --------------------------------------------------------------------------------------
def _users(result: DemoResult):
    User = get_user_model()
    admin, _ = User.objects.get_or_create(username="admin", defaults={"email": "admin@example.com"})
    admin.is_staff = admin.is_superuser = admin.is_active = True
    admin.first_name, admin.last_name = "Ada", "Admin"
    admin.set_password(DEMO_PASSWORD)
    admin.save()
    admin.groups.add(Group.objects.get(name="Admins"))
    sales, _ = User.objects.get_or_create(username="sales", defaults={"email": "sales@example.com"})
    sales.is_staff = sales.is_superuser = False
    sales.is_active = True
    sales.first_name, sales.last_name = "Sam", "Sales"
    sales.set_password(DEMO_PASSWORD)
    sales.save()
    sales.groups.add(Group.objects.get(name="Sales staff"))
    result.users = ["admin", "sales"]
    return admin, sales


# --- records ------------------------------------------------------------------------------------
RECORD_COLUMNS = (
    "first_name",
    "last_name",
    "company",
    "phone",
    "owner_id",
    "email",
    "backup_email",
    "last_emailed_at",
    "created_at",
    "updated_at",
)
LEAD_COLUMNS = ("status", "source")


class _RecordGen:
    def __init__(self, rng: random.Random, now: datetime, owners: list, run: int) -> None:
        self.rng, self.now, self.owners, self.run = rng, now, owners, run
        self.companies = [self._company() for _ in range(max(50, len(COMPANY_STEMS) * 6))]
        self.serial = 0

    def _company(self) -> tuple[str, str]:
        rng = self.rng
        stem, trade = rng.choice(COMPANY_STEMS), rng.choice(COMPANY_TRADES)
        legal = rng.choice(LEGAL_FORMS)
        name = f"{stem} {trade} {legal}".strip()
        slug = "".join(ch for ch in f"{stem}{trade}".lower() if ch.isalnum())
        return name, f"{slug}{rng.choice(TLDS)}"

    def _local(self, first: str, last: str) -> str:
        first = _ascii(first)
        last = _ascii(last)
        pattern = self.rng.random()
        if pattern < 0.5:
            local = f"{first}.{last}"
        elif pattern < 0.7:
            local = f"{first[0]}.{last}"
        elif pattern < 0.85:
            local = f"{first}{last[0]}"
        else:
            local = f"{last}.{first}"
        # The serial keeps every generated address distinct (a block is per address).
        self.serial += 1
        return f"{local}{self.run + self.serial}"

    def row(self, record_type: str) -> tuple[Any, ...]:
        rng = self.rng
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        company, domain = rng.choice(self.companies)
        local = self._local(first, last)
        email = f"{local}@{domain}" if rng.random() < 0.97 else ""
        backup = f"{local}@{rng.choice(FREEMAIL)}" if rng.random() < 0.35 else ""
        created = self.now - timedelta(days=rng.random() * 900)
        r = rng.random()
        emailed = None if r < 0.3 else created + (self.now - created) * rng.random()
        owner = rng.choice(self.owners)
        phone = (
            f"+{rng.choice((1, 44, 49, 86, 86, 33))} {rng.randint(100, 999)} "
            f"{rng.randint(1000, 9999)} {rng.randint(100, 9999)}"
        )
        values: tuple[Any, ...] = (
            first,
            last,
            company,
            phone,
            owner,
            email,
            backup,
            emailed,
            created,
            created,
        )
        if record_type == "lead":
            status = rng.choice(("new", "new", "contacted", "qualified", "lost"))
            values += (status, rng.choice(LEAD_SOURCES))
        return values


def _ascii(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in plain.lower() if ch.isalnum()) or "x"


@dataclass(frozen=True)
class _Rec:
    record_type: str
    pk: int
    email: str
    backup: str
    company: str


def _insert_records(model, gen: _RecordGen, count: int, record_type: str) -> list[int]:
    """Insert `count` records; return their primary keys (rows are not kept: a million of them
    would cost hundreds of MiB)."""
    columns = RECORD_COLUMNS + (LEAD_COLUMNS if record_type == "lead" else ())
    before = model.objects.aggregate(m=Max("pk"))["m"] or 0
    if connection.vendor == "postgresql":
        table = model._meta.db_table
        # COPY bypasses the ORM, so the search text (records.search) is computed here.
        copied = (*columns, "search_text")
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(
                f"COPY {table} ({', '.join(copied)}) FROM STDIN"  # noqa: S608 - our own names
            ) as copy,
        ):
            for _ in range(count):
                row = gen.row(record_type)
                values = dict(zip(RECORD_COLUMNS, row, strict=False))
                copy.write_row(
                    (
                        *row,
                        search_text_of(
                            first_name=values["first_name"],
                            last_name=values["last_name"],
                            company=values["company"],
                            email=values["email"],
                            backup_email=values["backup_email"],
                            phone=values["phone"],
                        ),
                    )
                )
    else:
        for start in range(0, count, BATCH):
            chunk = [gen.row(record_type) for _ in range(min(BATCH, count - start))]
            model.objects.bulk_create(
                [model(**dict(zip(columns, row, strict=True))) for row in chunk]
            )
    return list(model.objects.filter(pk__gt=before).order_by("pk").values_list("pk", flat=True))


def _pool(rng: random.Random, pks: dict[str, list[int]], size: int) -> list[_Rec]:
    """Return up to `size` distinct random records that have an address, in a seeded order."""
    everyone = [(record_type, pk) for record_type, type_pks in pks.items() for pk in type_pks]
    picked = rng.sample(everyone, min(len(everyone), size))
    found: dict[tuple[str, int], _Rec] = {}
    for record_type, model in (("contact", Contact), ("lead", Lead)):
        wanted = [pk for k, pk in picked if k == record_type]
        for start in range(0, len(wanted), 1000):
            rows = model.objects.filter(pk__in=wanted[start : start + 1000]).values_list(
                "pk", "email", "backup_email", "company"
            )
            for pk, email, backup, company in rows:
                if email or backup:
                    found[(record_type, pk)] = _Rec(record_type, pk, email, backup, company)
    return [found[key] for key in picked if key in found]


# --- sending and bouncing ---------------------------------------------------------------------
_CATEGORIES = list(DIAGNOSTICS)
_WEIGHTS = [DIAGNOSTICS[key][0] for key in _CATEGORIES]


def _sending(rng, now, run, result, pks: dict[str, list[int]], bounce_budget: int, sales, admin):
    # Mailings get about half the bounce budget (capped: a big seed is about many records and
    # bounces, not hundreds of thousands of newsletter rows); one-to-one emails the rest.
    per_mailing = min(MAILING_SIZE_MAX, max(20, round((bounce_budget / 2) / sum(MAILING_RATES))))
    reachable = _pool(rng, pks, max(per_mailing, bounce_budget * 2) + 20)
    if not reachable:
        return
    per_mailing = min(per_mailing, len(reachable))
    sends: list[tuple] = []  # (record, field, mailing_index | None, bounced, sent_at, subject)
    mailings = []
    for index, (name, rate) in enumerate(zip(MAILING_NAMES, MAILING_RATES, strict=True)):
        # Every 40 days, the latest ten days ago: the report's default 30 days holds one.
        sent_at = now - timedelta(
            days=10 + 40 * (len(MAILING_RATES) - 1 - index), hours=rng.random()
        )
        recipients = rng.sample(reachable, per_mailing)
        bounced = max(1, round(per_mailing * rate)) if rate > 0.05 else round(per_mailing * rate)
        mailings.append(
            Mailing(
                name=name,
                subject=f"{name} — {sent_at:%B %Y}",
                from_address=f"news@{SENDING_DOMAIN}",
                created_by=admin,
                sent_at=sent_at,
                recipients_sent=per_mailing,
                recipients_bounced=bounced,
            )
        )
        for position, record in enumerate(recipients):
            field_ = EmailField.PRIMARY if record.email else EmailField.BACKUP
            sends.append((record, field_, index, position < bounced, sent_at, name))
    Mailing.objects.bulk_create(mailings)
    result.mailings = len(mailings)
    mailing_bounces = sum(m.recipients_bounced for m in mailings)

    # One-to-one emails: every remaining bounce answers one, and many more were delivered, so
    # the salesperson's own sending stays under the 5% threshold as a healthy sender's would.
    one_to_one_bounces = max(0, bounce_budget - mailing_bounces)
    delivered = min(DELIVERED_PER_BOUNCE * one_to_one_bounces, DELIVERED_MAX)
    for i in range(one_to_one_bounces + delivered):
        record = rng.choice(reachable)
        field_ = (
            EmailField.BACKUP
            if (record.backup and (not record.email or rng.random() < 0.3))
            else EmailField.PRIMARY
        )
        subject = rng.choice(SUBJECTS).format(company=record.company, year=now.year)
        sent_at = now - timedelta(days=rng.random() * 400)
        sends.append((record, field_, None, i < one_to_one_bounces, sent_at, subject))

    # An address keeps one category across its bounces (a dead mailbox stays dead).
    category_of: dict[str, tuple[str, str]] = {}
    sent_objs, bounce_specs = [], []
    for n, (record, field_, mailing_index, bounced, sent_at, subject) in enumerate(sends):
        address = record.email if field_ == EmailField.PRIMARY else record.backup
        serial = run + n
        sent = SentEmail(
            contact_id=record.pk if record.record_type == "contact" else None,
            lead_id=record.pk if record.record_type == "lead" else None,
            mailing=mailings[mailing_index] if mailing_index is not None else None,
            field=field_,
            to_address=address,
            from_address=f"news@{SENDING_DOMAIN}"
            if mailing_index is not None
            else f"{sales.username}@{SENDING_DOMAIN}",
            subject=subject,
            message_id=f"<demo.{serial}.{rng.getrandbits(40):010x}@{SENDING_DOMAIN}>",
            verp_token=f"d{serial:x}x{rng.getrandbits(64):016x}",
            status=SentEmail.Status.BOUNCED if bounced else SentEmail.Status.DELIVERED,
            sent_at=sent_at,
            bounced_at=min(now, sent_at + timedelta(minutes=rng.randint(1, 60 * 30)))
            if bounced
            else None,
        )
        sent_objs.append(sent)
        if bounced:
            key = address.lower()
            # A few addresses bounce again: they reuse the category drawn the first time.
            if key not in category_of:
                category_of[key] = rng.choices(_CATEGORIES, _WEIGHTS)[0]
            bounce_specs.append((sent, key, category_of[key]))
    SentEmail.objects.bulk_create(sent_objs, batch_size=BATCH)
    result.sent_emails = len(sent_objs)

    bounce_objs = []
    for n, (sent, key, (type_, category)) in enumerate(bounce_specs):
        status, reply, diagnostic = rng.choice(DIAGNOSTICS[(type_, category)][1])
        domain = address_domain(key)
        received = sent.bounced_at
        assert received is not None  # only bounced emails have a bounce spec
        channel, esp = rng.choice(CHANNELS)
        bounce_objs.append(
            Bounce(
                dedupe_key=f"demo:{run}:{n}",
                channel=channel,
                esp=esp,
                recipient=key,
                status=status,
                reply_code=reply,
                diagnostic=diagnostic.format(
                    addr=key, domain=domain, date=f"{received + timedelta(days=9):%d %B}"
                ),
                explanation=str(BlockCategory.get(type_, category).definition),
                type=type_,
                category=category,
                kind="autoreply"
                if category == "auto_reply"
                else ("arf" if category == "content_related" and not status else "dsn"),
                sender_domain=SENDING_DOMAIN,
                recipient_domain=domain,
                original_message_id=sent.message_id,
                sent_email=sent,
                received_at=received,
            )
        )
    Bounce.objects.bulk_create(bounce_objs, batch_size=BATCH)
    Bounce.objects.filter(dedupe_key__startswith=f"demo:{run}:").update(created_at=F("received_at"))
    result.bounces = len(bounce_objs)
    _blocks(rng, now, result, bounce_objs, sales, admin)


def _blocks(rng, now, result, bounces: list[Bounce], sales, admin) -> None:
    blocks = blocks_from_bounces(bounces, policy=BouncePolicy.current())
    # About one block in ten has been lifted already: history for the reports and the admin.
    lifted = [b for b in blocks if rng.random() < 0.1]
    for block in lifted:
        block.lifted_at = block.last_bounce_at + (now - block.last_bounce_at) * rng.random()

    def unblock(block: Block) -> Unblock:
        permanent = block.type == BlockType.PERMANENT
        return Unblock(
            block=block,
            address=block.address,
            block_type=block.type,
            category=block.category,
            actor=admin if permanent else sales,
            source=Unblock.Source.ADMIN if permanent else Unblock.Source.RECORD,
            confirmed=True,
            reason="Customer confirmed a new mailbox by phone." if permanent else "",
        )

    unblocks = blocks_seed(blocks=blocks, unblock=unblock)
    if not blocks:
        return
    result.blocks = len(blocks)
    result.unblocks = len(unblocks)
    result.active_blocks = len(blocks) - len(unblocks)


def _rebuild_rollups(result: DemoResult) -> None:
    rollups.rebuild()
    result.rollups = " Report roll-ups rebuilt."
