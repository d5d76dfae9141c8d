"""Fixtures of the ingestion tests: sent emails to bounce, HTTP sources, a real Dovecot server."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from tests.conftest import port_open, require_service

DOVECOT = "/usr/sbin/dovecot"


@pytest.fixture
def make_sent(db):
    """Return a function creating one sent email (to a new contact) in a mailing."""
    from bounces.models import Mailing, SentEmail
    from records.models import Contact

    mailing = Mailing.objects.create(
        name="Spring offer",
        subject="Spring offer",
        from_address="sales@crm.example.com",
        recipients_sent=0,
    )
    counter = {"n": 0}

    def make(to: str, *, token: str | None = None, message_id: str | None = None, ago=None):
        counter["n"] += 1
        n = counter["n"]
        contact = Contact.objects.create(last_name=f"Person {n}", email=to)
        Mailing.objects.filter(pk=mailing.pk).update(recipients_sent=n)
        return SentEmail.objects.create(
            contact=contact,
            mailing=mailing,
            to_address=to,
            from_address="sales@crm.example.com",
            subject="Spring offer",
            message_id=message_id or f"<m{n}.{time.time_ns()}@app1.crm.example.com>",
            verp_token=token or f"tok{time.time_ns()}{n}"[-30:],
            sent_at=timezone.now() - (ago or timedelta(hours=1)),
        )

    make.mailing = mailing
    return make


@pytest.fixture
def http_source(db):
    """Return (source, token) for the raw-message endpoint."""
    from bounces.models import InboundSource

    source = InboundSource(name="Relay", slug="relay", max_bytes=200_000)
    token = source.new_token()
    source.save()
    return source, token


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


DOVECOT_CONF = """\
base_dir = {base}/run
state_dir = {base}/state
log_path = {base}/dovecot.log
info_log_path = {base}/dovecot.log
listen = 127.0.0.1
protocols = imap
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = dovecot
default_internal_group = dovecot
default_login_user = dovecot
mail_location = maildir:{base}/mail/%u
first_valid_uid = 1
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {base}/users
}}
userdb {{
  driver = static
  args = uid=dovecot gid=dovecot home={base}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
"""


@pytest.fixture(scope="session")
def dovecot():
    """A throwaway Dovecot on loopback: yields dict(host, port, user, password, base)."""
    if not os.path.exists(DOVECOT):
        require_service("Dovecot (apt-get install dovecot-imapd)")
    base = Path(tempfile.mkdtemp(prefix="bouncecrm-dovecot-"))
    port = _free_port()
    for sub in ("run", "state", "mail"):
        (base / sub).mkdir()
    (base / "users").write_text("bounces:{PLAIN}imap-secret-1\n")
    (base / "dovecot.conf").write_text(DOVECOT_CONF.format(base=base, port=port))
    # Dovecot refuses uid 0 for mail users: the mail folders belong to the dovecot user.
    shutil.chown(base / "mail", "dovecot", "dovecot")
    os.chmod(base, 0o755)  # noqa: S103 - dovecot's own user must reach its mail folder
    # Dovecot daemonizes; its children inherit stdout/stderr, so never capture them in a pipe.
    with open(base / "start.log", "wb") as out:
        proc = subprocess.run(
            [DOVECOT, "-c", str(base / "dovecot.conf")], stdout=out, stderr=out, timeout=30
        )
    if proc.returncode != 0:
        pytest.fail(f"dovecot did not start: {(base / 'start.log').read_text()}")
    deadline = time.monotonic() + 15
    while not port_open("127.0.0.1", port):
        if time.monotonic() > deadline:
            log = (base / "dovecot.log").read_text() if (base / "dovecot.log").exists() else ""
            pytest.fail(f"dovecot is not listening on {port}: {log[-2000:]}")
        time.sleep(0.1)
    try:
        yield {
            "host": "127.0.0.1",
            "port": port,
            "user": "bounces",
            "password": "imap-secret-1",
            "base": base,
        }
    finally:
        subprocess.run(
            [DOVECOT, "-c", str(base / "dovecot.conf"), "stop"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=30,
        )
        shutil.rmtree(base, ignore_errors=True)
