"""A private Postfix instance for the end-to-end sending test (Debian's `postfix` package).

Everything lives in a temporary folder: its own config directory (`postfix -c DIR`), queue and
data directories, smtpd on 127.0.0.1:PORT only (never port 25, never the system instance).
- `TEST_DOMAIN` has virtual mailboxes (mbox files under DIR/mail); unknown users are accepted at
  SMTP time and bounced by the delivery agent, so Postfix writes a real DSN;
- every mailbox is limited to `MAILBOX_LIMIT` bytes, and the "full" user's mailbox is created
  over it: delivery to it bounces with 5.2.2 (mailbox full);
- the VERP bounce domain is routed to a pipe transport running `manage.py ingest_bounce` as
  `nobody`, with the test's DATABASE_URL, exactly as the README's production set-up does.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sysconfig
import time
from dataclasses import dataclass
from pathlib import Path

TEST_DOMAIN = "e2e.test"
BOUNCE_DOMAIN = "bounces.e2e.test"
MAILBOX_LIMIT = 51200
POSTFIX = "/usr/sbin/postfix"


@dataclass
class PostfixInstance:
    root: Path
    port: int

    @property
    def config(self) -> Path:
        return self.root / "etc"

    def mailbox(self, user: str) -> Path:
        return self.root / "mail" / user

    def log(self) -> str:
        path = self.root / "postfix.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        subprocess.run(
            [POSTFIX, "-c", str(self.config), "stop"], capture_output=True, check=False, timeout=30
        )


def _master_cf(manage: Path, env: dict[str, str]) -> str:
    # The system interpreter (the pipe runs as nobody, who may not reach a venv under /root),
    # with this environment's packages on its path.
    python = shutil.which("python3.11", path="/usr/bin:/usr/local/bin") or shutil.which("python3")
    args = " ".join(f"{k}={v}" for k, v in env.items())
    return f"""\
127.0.0.1:{{port}} inet n - n - - smtpd
pickup    unix n - n 60 1 pickup
cleanup   unix n - n - 0 cleanup
qmgr      unix n - n 300 1 qmgr
rewrite   unix - - n - - trivial-rewrite
bounce    unix - - n - 0 bounce
defer     unix - - n - 0 bounce
trace     unix - - n - 0 bounce
verify    unix - - n - 1 verify
flush     unix n - n 1000? 0 flush
proxymap  unix - - n - - proxymap
smtp      unix - - n - - smtp
relay     unix - - n - - smtp
showq     unix n - n - - showq
error     unix - - n - - error
retry     unix - - n - - error
discard   unix - - n - - discard
local     unix - n n - - local
virtual   unix - n n - - virtual
anvil     unix - - n - 1 anvil
scache    unix - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
bouncecrm unix - n n - 2 pipe
  flags=DRO user=nobody argv=/usr/bin/env {args} {python} {manage} ingest_bounce --source postfix
"""


def postfix_start(root: Path, *, port: int, database_url: str, project: Path) -> PostfixInstance:
    """Write the private configuration, create the mailboxes and start Postfix."""
    etc, mail = root / "etc", root / "mail"
    root.chmod(0o755)  # Postfix's daemons (user postfix, nobody) must reach their folders
    for folder in (etc, root / "queue", root / "data", mail):
        folder.mkdir(parents=True, exist_ok=True)
    postfix_user = pwd.getpwnam("postfix")
    os.chown(root / "data", postfix_user.pw_uid, postfix_user.pw_gid)
    nobody = pwd.getpwnam("nobody")
    # Virtual mailboxes are written as nobody; "full" starts over the size limit.
    (mail / "alice").write_bytes(b"")
    (mail / "full").write_bytes(b"From old@example.com Thu Jan  1 00:00:00 2026\n" + b"x" * 60000)
    for path in (mail, mail / "alice", mail / "full"):
        os.chown(path, nobody.pw_uid, nobody.pw_gid)
    (etc / "vmailbox").write_text(f"alice@{TEST_DOMAIN} alice\nfull@{TEST_DOMAIN} full\n")
    (etc / "transport").write_text(f"{BOUNCE_DOMAIN} bouncecrm:\n")
    (etc / "main.cf").write_text(
        f"""\
compatibility_level = 3.6
queue_directory = {root}/queue
data_directory = {root}/data
maillog_file = {root}/postfix.log
maillog_file_prefixes = {root}
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = mx.{TEST_DOMAIN}
mydomain = {TEST_DOMAIN}
myorigin = {TEST_DOMAIN}
mydestination =
mynetworks = 127.0.0.0/8
relay_domains = {BOUNCE_DOMAIN}
transport_maps = texthash:{etc}/transport
recipient_delimiter = +
virtual_mailbox_domains = {TEST_DOMAIN}
virtual_mailbox_base = {mail}
virtual_mailbox_maps = texthash:{etc}/vmailbox
virtual_uid_maps = static:{nobody.pw_uid}
virtual_gid_maps = static:{nobody.pw_gid}
virtual_mailbox_limit = {MAILBOX_LIMIT}
message_size_limit = {MAILBOX_LIMIT}
# Accept unknown users at SMTP time: the delivery agent then bounces them with a real DSN.
smtpd_reject_unlisted_recipient = no
smtpd_recipient_restrictions = permit_mynetworks, reject
alias_maps =
alias_database =
local_recipient_maps =
biff = no
disable_dns_lookups = yes
smtp_dns_support_level = disabled
queue_run_delay = 5s
minimal_backoff_time = 5s
maximal_backoff_time = 10s
bounce_queue_lifetime = 0
delay_warning_time = 0
"""
    )
    env = {
        "DATABASE_URL": database_url,
        "BOUNCE_DOMAIN": BOUNCE_DOMAIN,
        "PYTHONPATH": f"{project}:{sysconfig.get_paths()['purelib']}",
        "HOME": "/tmp",
        "DJANGO_DEBUG": "true",
    }
    master = _master_cf(project / "manage.py", env).replace("{port}", str(port))
    (etc / "master.cf").write_text(master)
    instance = PostfixInstance(root=root, port=port)
    started = subprocess.run(
        [POSTFIX, "-c", str(etc), "start"], capture_output=True, text=True, timeout=60
    )
    if started.returncode != 0:
        raise RuntimeError(f"postfix did not start: {started.stdout}{started.stderr}")
    return instance


def wait_for_port(port: int, timeout: float = 20) -> bool:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            time.sleep(0.2)
    return False
