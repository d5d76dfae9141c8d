"""Raw messages at the ingestion boundary: one dedupe key whatever the line endings, and
extracted recipients checked for syntax before they become blocks."""

from __future__ import annotations

import pytest

from bench.samples import sample
from bounces.ingestion.process import inbound_process
from bounces.ingestion.store import inbound_store_raw
from bounces.models import Block, Bounce, InboundMessage

pytestmark = pytest.mark.django_db


def test_the_same_dsn_with_crlf_and_with_lf_is_stored_once():
    crlf = sample(41, shape="postfix").raw
    lf = crlf.replace(b"\r\n", b"\n")
    assert crlf != lf
    first = inbound_store_raw(raw=crlf, channel="imap", queue=False)
    second = inbound_store_raw(raw=lf + b"\n", channel="pipe", queue=False)
    assert first.created and not second.created and second.id == first.id
    inbound_process(ids=[first.id])
    assert Bounce.objects.count() == 1


@pytest.mark.parametrize(
    "rcpt", ["<script>alert(1)</script>@example.com", '=HYPERLINK("x")@example.com']
)
@pytest.mark.parametrize("shape", ["postfix", "gmail"])
def test_a_recipient_that_is_not_an_address_never_becomes_a_block(rcpt, shape):
    stored = inbound_store_raw(
        raw=sample(42, shape=shape, rcpt=rcpt, token=None, failure=0).raw,
        channel="http",
        queue=False,
    )
    inbound_process(ids=[stored.id])
    assert not Block.objects.exists()
    bounce = Bounce.objects.get()
    assert bounce.recipient == "" and bounce.type == ""
    assert "not a valid address" in bounce.explanation
    assert InboundMessage.objects.get().state == InboundMessage.State.PROCESSED
