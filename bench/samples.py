"""Realistic bounce messages for tests and the benchmark, from templates of real DSN shapes.

The shapes follow what Postfix, Exim, Sendmail, Gmail, Microsoft 365 and qmail send, an RFC 3834
auto-reply and an RFC 5965 complaint. Each message gets its own recipient, ids and date, so no
two generated messages share bytes (and dedupe keys).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime

from bounces.verp import verp_make


@dataclass(frozen=True)
class Sample:
    raw: bytes
    recipient: str
    token: str | None
    message_id: str
    shape: str


# (status, diagnostic) pairs real servers send.
FAILURES = [
    (
        "5.1.1",
        "550 5.1.1 <{rcpt}>: Recipient address rejected: User unknown in virtual mailbox table",
    ),
    ("5.1.1", "550-5.1.1 The email account that you tried to reach does not exist."),
    ("5.2.2", "552 5.2.2 Mailbox full: quota exceeded"),
    ("4.2.2", "452 4.2.2 The email account that you tried to reach is over quota."),
    ("5.7.1", "550 5.7.1 Message rejected as spam by Content Filtering."),
    (
        "5.7.26",
        "550 5.7.26 Unauthenticated email from example.com is not accepted due to domain's "
        "DMARC policy.",
    ),
    ("4.4.1", "connect to mx.{domain}[192.0.2.1]:25: Connection timed out"),
    (
        "5.4.4",
        "Host or domain name not found. Name service error for name={domain} type=A: "
        "Host not found",
    ),
    ("5.1.0", "550 5.1.0 Sender rejected: <bounces@crm.example.com> blocked by recipient"),
    (
        "5.0.0",
        "554 5.0.0 Service unavailable; Client host [192.0.2.9] blocked using zen.spamhaus.org",
    ),
]

_POSTFIX = """\
Return-Path: <>
X-Original-To: {return_path}
Delivered-To: {return_path}
Received: by mx1.crm.example.com (Postfix) id {qid}; {date}
Date: {date}
From: MAILER-DAEMON@mx1.crm.example.com (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: {return_path}
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
	boundary="{qid}.{n}/mx1.crm.example.com"
Message-Id: <{n}.{qid}@mx1.crm.example.com>

This is a MIME-encapsulated message.

--{qid}.{n}/mx1.crm.example.com
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx1.crm.example.com.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

                   The mail system

<{rcpt}>: host mx.{domain}[192.0.2.25] said: {diagnostic}

--{qid}.{n}/mx1.crm.example.com
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx1.crm.example.com
X-Postfix-Queue-ID: {qid}
X-Postfix-Sender: rfc822; {return_path}
Arrival-Date: {date}

Final-Recipient: rfc822; {rcpt}
Original-Recipient: rfc822;{rcpt}
Action: failed
Status: {status}
Remote-MTA: dns; mx.{domain}
Diagnostic-Code: smtp; {diagnostic}

--{qid}.{n}/mx1.crm.example.com
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers

Return-Path: <{return_path}>
Received: from app1.crm.example.com (app1 [10.0.0.5]) by mx1.crm.example.com (Postfix)
	with ESMTPS id {qid}; {date}
From: Sales Team <sales@crm.example.com>
To: {rcpt}
Subject: Your quote #{n}
Message-ID: <{message_id}>
Date: {date}

--{qid}.{n}/mx1.crm.example.com--
"""

_EXIM = """\
Return-path: <>
Envelope-to: {return_path}
Delivery-date: {date}
Received: from mail by relay.crm.example.com with local (Exim 4.96)
	id {qid}-000{n}-AB for {return_path}; {date}
X-Failed-Recipients: {rcpt}
Auto-Submitted: auto-replied
From: Mail Delivery System <Mailer-Daemon@relay.crm.example.com>
To: {return_path}
Subject: Mail delivery failed: returning message to sender
Message-Id: <E{qid}-{n}@relay.crm.example.com>
Date: {date}

This message was created automatically by mail delivery software.

A message that you sent could not be delivered to one or more of its
recipients. This is a permanent error. The following address(es) failed:

  {rcpt}
    host mx.{domain} [192.0.2.30]
    SMTP error from remote mail server after RCPT TO:<{rcpt}>:
    {diagnostic}

------ This is a copy of the message, including all the headers. ------

Return-path: <{return_path}>
Received: from app1.crm.example.com ([10.0.0.5]) by relay.crm.example.com with esmtps
	id {qid}-0001 for {rcpt}; {date}
Message-ID: <{message_id}>
From: Sales Team <sales@crm.example.com>
To: {rcpt}
Subject: Following up on our call
Date: {date}

Hello, following up on our call last week.
"""

_GMAIL = """\
Delivered-To: {return_path}
Return-Path: <>
Received: by 2002:a05:6a10:{n} with SMTP id abc{n}; {date}
From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>
To: {return_path}
Auto-Submitted: auto-replied
Subject: Delivery Status Notification (Failure)
Message-ID: <{n}.{qid}@mx.google.com>
Date: {date}
MIME-Version: 1.0
Content-Type: multipart/report; boundary="000000000000{qid}"; report-type=delivery-status

--000000000000{qid}
Content-Type: multipart/related; boundary="000000000000{qid}rel"

--000000000000{qid}rel
Content-Type: text/plain; charset="UTF-8"

** Message not delivered **

There was a problem delivering your message to {rcpt}. See the technical details below.

The response from the remote server was:
{diagnostic}

--000000000000{qid}rel--

--000000000000{qid}
Content-Type: message/delivery-status

Reporting-MTA: dns; googlemail.com
Received-From-MTA: dns; sales@crm.example.com
Arrival-Date: {date}
X-Original-Message-ID: <{message_id}>

Final-Recipient: rfc822; {rcpt}
Action: failed
Status: {status}
Remote-MTA: dns; mx.{domain}. (192.0.2.40, the server for the domain {domain}.)
Diagnostic-Code: smtp; {diagnostic}
Last-Attempt-Date: {date}

--000000000000{qid}
Content-Type: message/rfc822

Return-Path: <{return_path}>
From: Sales Team <sales@crm.example.com>
To: {rcpt}
Subject: Meeting next week
Message-ID: <{message_id}>
Date: {date}

Can we meet next week?

--000000000000{qid}--
"""

_AUTOREPLY = """\
Return-Path: <>
Delivered-To: {return_path}
From: {rcpt}
To: {return_path}
Subject: Automatic reply: Your quote #{n}
Auto-Submitted: auto-replied
X-Autoreply: yes
Precedence: auto_reply
Message-ID: <auto.{n}.{qid}@{domain}>
In-Reply-To: <{message_id}>
Date: {date}
Content-Type: text/plain; charset=utf-8

I am out of the office until next Monday with limited access to email.
For urgent matters please contact my colleague.
"""

TEMPLATES = {"postfix": _POSTFIX, "exim": _EXIM, "gmail": _GMAIL, "autoreply": _AUTOREPLY}
DOMAINS = ["example.com", "example.org", "example.net", "corp.example", "mail.example.jp"]


def sample(
    n: int,
    *,
    shape: str | None = None,
    token: str | None = "auto",  # noqa: S107 - a VERP token, not a password
    rcpt: str | None = None,
    rng: random.Random | None = None,
    failure: int | None = None,
) -> Sample:
    """Return the n-th synthetic bounce (deterministic for a given n and shape)."""
    rng = rng or random.Random(n)
    shape = shape or rng.choice(["postfix", "postfix", "exim", "gmail", "autoreply"])
    domain = DOMAINS[n % len(DOMAINS)]
    rcpt = rcpt or f"person{n}@{domain}"
    if token == "auto":  # noqa: S105
        token = f"tok{n:010d}x"  # noqa: S105
    return_path = verp_make(token) if token else "sales@crm.example.com"
    status, diagnostic = FAILURES[failure if failure is not None else rng.randrange(len(FAILURES))]
    message_id = f"{n}.{rng.randrange(10**9)}@app1.crm.example.com"
    date = format_datetime(datetime.now(UTC).replace(microsecond=0))
    text = TEMPLATES[shape].format(
        return_path=return_path,
        rcpt=rcpt,
        domain=rcpt.rpartition("@")[2],
        status=status,
        diagnostic=diagnostic.format(rcpt=rcpt, domain=rcpt.rpartition("@")[2]),
        qid=f"{rng.randrange(16**10):010X}",
        n=n,
        date=date,
        message_id=message_id,
    )
    return Sample(text.replace("\n", "\r\n").encode(), rcpt, token, message_id, shape)
