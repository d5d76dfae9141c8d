#!/usr/bin/env python3
"""Provoke real delivery failures in Debian's Postfix and keep the DSNs it writes.

    sudo python3 tests/bounces/classifier/corpus2/make_mta_dsns.py [--out DIR] [--keep]

Run as root on a machine with the ``postfix`` package installed (the system instance is never
used or touched).  The script re-executes itself inside private Linux namespaces
(``unshare --net --mount``): a network of its own (only a loopback interface, so nothing leaves
the machine and no port can collide with another process) and a private /etc/resolv.conf that
points at a tiny DNS server of this script.  In there it runs, from throwaway config, queue and
mail folders under a temporary directory:

* ``A`` (``mx-a.crm.test``, 127.0.0.1:27025): our outgoing relay.  Messages are submitted to it
  by SMTP with the envelope sender ``bounces+<token>@crm.test`` and ``NOTIFY=SUCCESS,FAILURE,
  DELAY``; it delivers mail for ``crm.test`` (the DSNs) into a maildir, which is what we keep.
* ``B`` (``mx.remote.test``, 127.0.0.2:27027): the recipients' server, with a virtual mailbox
  table (``known``, ``full``), a 20 kB message size limit, a 25 kB mailbox size limit
  (``full`` is already over it), a greylisting-style 450 for ``grey@``, and no relaying for
  127.0.0.1.
* a DNS server (127.0.0.1:53 inside the namespace): ``remote.test`` MX -> 127.0.0.2,
  ``nullmx.test`` has a null MX (RFC 7505), ``servfail.test`` answers SERVFAIL, everything
  else NXDOMAIN.
* a black hole on 127.0.0.3:27029 that accepts connections and never speaks, and nothing at all
  on 127.0.0.4:27031 (connection refused).

Queue lifetimes are cut to seconds so deferred mail expires while the script waits (about two
minutes).  Each case's DSNs are written to ``--out`` (default: ``corpus/`` beside this file) as
``postfix-<case>[-<n>].eml``; the labels (``labels.jsonl`` beside it) are written by hand after
reading each DSN, not by this script.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import smtplib
import socket
import socketserver
import struct
import subprocess
import sys
import tempfile
import threading
import time
from email.message import EmailMessage
from pathlib import Path

HERE = Path(__file__).resolve().parent
A_ADDR, A_PORT = "127.0.0.1", 27025
B_ADDR, B_PORT = "127.0.0.2", 27027
HOLE_ADDR, HOLE_PORT = "127.0.0.3", 27029
REFUSED_ADDR, REFUSED_PORT = "127.0.0.4", 27031

# case -> (recipients, extra body bytes); each case is one message.
CASES: dict[str, tuple[list[str], int]] = {
    "unknown-user": (["nobody-here@remote.test"], 0),
    "unknown-users-two": (["ghost1@remote.test", "ghost2@remote.test", "known@remote.test"], 0),
    "mailbox-full": (["full@remote.test"], 0),
    "relay-denied": (["someone@elsewhere.test"], 0),
    "too-large": (["known@remote.test"], 40_000),
    "greylisted-expired": (["grey@remote.test"], 0),
    "nxdomain": (["user@nxdomain.test"], 0),
    "nullmx": (["user@nullmx.test"], 0),
    "dns-servfail-expired": (["user@servfail.test"], 0),
    "timeout-expired": (["user@timeout.test"], 0),
    "refused-expired": (["user@refused.test"], 0),
    "delivered": (["known@remote.test"], 0),
}

MASTER_CF = """\
{listen} inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""

COMMON_MAIN = """\
compatibility_level = 3.6
queue_directory = {root}/queue
data_directory = {root}/data
mail_owner = postfix
setgid_group = postdrop
inet_protocols = ipv4
maillog_file = {root}/maillog
maillog_file_prefixes = {root}
alias_maps =
alias_database =
local_recipient_maps =
mydestination =
biff = no
smtputf8_enable = no
queue_run_delay = 3s
minimal_backoff_time = 3s
maximal_backoff_time = 6s
maximal_queue_lifetime = 25s
bounce_queue_lifetime = 25s
delay_warning_time = 8s
smtp_connect_timeout = 3s
smtp_helo_timeout = 3s
smtpd_banner = $myhostname ESMTP
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
virtual_mailbox_base = {root}/mail
"""

A_MAIN = """\
myhostname = mx-a.crm.test
mydomain = crm.test
myorigin = crm.test
inet_interfaces = {a}
mynetworks = {a}/32
smtp_bind_address = {a}
virtual_mailbox_domains = crm.test
virtual_mailbox_maps = static:dsn/
transport_maps = texthash:{root}/transport
"""

B_MAIN = """\
myhostname = mx.remote.test
mydomain = remote.test
inet_interfaces = {b}
mynetworks = {b}/32
smtp_bind_address = {b}
virtual_mailbox_domains = remote.test
virtual_mailbox_maps = texthash:{root}/mailboxes
virtual_mailbox_limit = 25000
message_size_limit = 20000
smtpd_relay_restrictions = reject_unauth_destination
smtpd_recipient_restrictions = check_recipient_access texthash:{root}/access
transport_maps = texthash:{root}/transport
"""


# ----------------------------------------------------------------------------- DNS
def _name(data: bytes, at: int) -> tuple[str, int]:
    labels = []
    while data[at]:
        n = data[at]
        labels.append(data[at + 1 : at + 1 + n].decode("ascii", "replace"))
        at += 1 + n
    return ".".join(labels).lower(), at + 1


def _encode(name: str) -> bytes:
    out = b""
    for label in filter(None, name.split(".")):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


ZONE_A = {"mx.remote.test": B_ADDR, "mx.crm.test": A_ADDR}
ZONE_MX = {
    "remote.test": (10, "mx.remote.test"),
    "crm.test": (10, "mx.crm.test"),
    "nullmx.test": (0, ""),
}


class DnsHandler(socketserver.BaseRequestHandler):
    """Answer A and MX questions from the zone above; SERVFAIL or NXDOMAIN otherwise."""

    def handle(self) -> None:
        data, sock = self.request
        qid, _flags, qd = struct.unpack("!HHH", data[:6])
        name, end = _name(data, 12)
        qtype = struct.unpack("!H", data[end : end + 2])[0]
        question = data[12 : end + 4]
        answers: list[bytes] = []
        known = name in ZONE_A or name in ZONE_MX
        rcode = 0 if known else (2 if name.endswith("servfail.test") else 3)
        if qtype == 1 and name in ZONE_A:
            rdata = socket.inet_aton(ZONE_A[name])
            answers.append(b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + rdata)
        elif qtype == 15 and name in ZONE_MX:
            pref, host = ZONE_MX[name]
            rdata = struct.pack("!H", pref) + _encode(host)
            answers.append(b"\xc0\x0c" + struct.pack("!HHIH", 15, 1, 60, len(rdata)) + rdata)
        flags = 0x8580 | rcode  # response, authoritative, recursion desired/available
        head = struct.pack("!HHHHHH", qid, flags, 1, len(answers), 0, 0)
        sock.sendto(head + question + b"".join(answers), self.client_address)


class BlackHole(socketserver.BaseRequestHandler):
    """Accept a connection and say nothing until the client gives up."""

    def handle(self) -> None:
        self.request.settimeout(60)
        try:
            while self.request.recv(1024):
                pass
        except OSError:
            pass


# ----------------------------------------------------------------------------- Postfix
def _instance(root: Path, main_extra: str, listen: str, files: dict[str, str]) -> Path:
    conf = root / "conf"
    for sub in ("conf", "queue", "data", "mail"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    shutil.chown(root / "data", "postfix")
    shutil.chown(root / "mail", 65534, 65534)
    fmt = {"root": root, "a": A_ADDR, "b": B_ADDR}
    (conf / "main.cf").write_text(COMMON_MAIN.format(**fmt) + main_extra.format(**fmt))
    (conf / "master.cf").write_text(MASTER_CF.format(listen=listen))
    for name, text in files.items():
        (root / name).write_text(text)
    subprocess.run(["postfix", "-c", str(conf), "start"], check=True)
    return conf


def _message(case: str, recipients: list[str], extra: int) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Sales <sales@crm.test>"
    msg["To"] = ", ".join(recipients)
    msg["Subject"] = f"Quarterly update ({case})"
    msg["Message-ID"] = f"<{case}.{int(time.time())}@crm.test>"
    body = "Hello,\n\nour quarterly update is attached below.\n\nBest regards,\nSales\n"
    msg.set_content(body + ("x" * 75 + "\n") * (extra // 76))
    return msg


def _inside(out: Path, keep: bool) -> int:
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    for extra in (B_ADDR, HOLE_ADDR, REFUSED_ADDR):
        # Postfix listens only on addresses an interface holds.
        subprocess.run(["ip", "addr", "add", f"{extra}/32", "dev", "lo"], check=True)
    tmp = Path(tempfile.mkdtemp(prefix="mta-dsns-"))
    tmp.chmod(0o755)  # Postfix's daemons run as the postfix user and must reach their folders
    resolv = tmp / "resolv.conf"
    resolv.write_text("nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")
    subprocess.run(["mount", "--bind", str(resolv), "/etc/resolv.conf"], check=True)
    servers = [
        socketserver.ThreadingUDPServer(("127.0.0.1", 53), DnsHandler),
        socketserver.ThreadingTCPServer((HOLE_ADDR, HOLE_PORT), BlackHole),
    ]
    for server in servers:
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
    transport_a = (
        f"remote.test smtp:remote.test:{B_PORT}\n"
        f"nullmx.test smtp:nullmx.test:{B_PORT}\n"
        f"nxdomain.test smtp:nxdomain.test:{B_PORT}\n"
        f"servfail.test smtp:servfail.test:{B_PORT}\n"
        f"elsewhere.test smtp:[{B_ADDR}]:{B_PORT}\n"
        f"timeout.test smtp:[{HOLE_ADDR}]:{HOLE_PORT}\n"
        f"refused.test smtp:[{REFUSED_ADDR}]:{REFUSED_PORT}\n"
    )
    a_root, b_root = tmp / "a", tmp / "b"
    confs: list[Path] = []
    try:
        confs.append(_instance(a_root, A_MAIN, f"{A_ADDR}:{A_PORT}", {"transport": transport_a}))
        # The "full" mailbox is already over the 25 kB limit.
        (b_root / "mail").mkdir(parents=True, exist_ok=True)
        (b_root / "mail" / "full").write_text("From x\n" + "y" * 30000 + "\n")
        shutil.chown(b_root / "mail" / "full", 65534, 65534)
        confs.append(
            _instance(
                b_root,
                B_MAIN,
                f"{B_ADDR}:{B_PORT}",
                {
                    "mailboxes": "known@remote.test known\nfull@remote.test full\n"
                    "grey@remote.test grey\n",
                    "access": "grey@remote.test 450 4.7.1 Greylisted, please try again later\n",
                    "transport": f"crm.test smtp:[{A_ADDR}]:{A_PORT}\n",
                },
            )
        )
        time.sleep(2)
        for case, (recipients, extra) in CASES.items():
            with smtplib.SMTP(A_ADDR, A_PORT, timeout=30) as smtp:
                smtp.ehlo("client.crm.test")
                smtp.send_message(
                    _message(case, recipients, extra),
                    from_addr=f"bounces+{case}@crm.test",
                    to_addrs=recipients,
                    mail_options=["RET=HDRS", f"ENVID={case}"],
                    rcpt_options=["NOTIFY=SUCCESS,FAILURE,DELAY"],
                )
        time.sleep(100)  # deferred mail expires after 25 s of retries; DSNs then travel
        maildir = a_root / "mail" / "dsn" / "new"
        out.mkdir(parents=True, exist_ok=True)
        counts: dict[str, int] = {}
        for path in sorted(maildir.iterdir(), key=lambda p: p.stat().st_mtime):
            raw = path.read_bytes()
            text = raw.decode("latin-1")
            case = next((c for c in CASES if f"bounces+{c}@" in text), "x")
            # Name each DSN by its case and its kind: a delay warning, a success, a failure.
            kind = re.search(r"^Action: *(\w+)", text, re.M | re.I)
            name = f"postfix-{case}-{kind.group(1).lower() if kind else 'report'}"
            counts[name] = counts.get(name, 0) + 1
            if counts[name] > 1:
                name += f"-{counts[name]}"
            (out / f"{name}.eml").write_bytes(raw)
            print(f"{name}.eml")
    finally:
        for conf in confs:
            subprocess.run(["postfix", "-c", str(conf), "stop"], check=False)
        for server in servers:
            server.shutdown()
        if keep:
            print("kept", tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "corpus", help="where DSNs go")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folders")
    parser.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        parser.error("run as root (Postfix and the namespaces need it)")
    if not args.inside:
        cmd = [
            "unshare",
            "--net",
            "--mount",
            "--propagation",
            "private",
            sys.executable,
            __file__,
            "--inside",
            "--out",
            str(args.out.resolve()),
        ]
        if args.keep:
            cmd.append("--keep")
        return subprocess.run(cmd, check=False).returncode
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    return _inside(args.out, args.keep)


if __name__ == "__main__":
    raise SystemExit(main())
