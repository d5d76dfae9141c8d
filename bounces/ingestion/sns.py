"""Amazon SNS message signatures: verify that a message posted to the SES webhook came from SNS.

SNS signs each message (SignatureVersion 1: SHA1withRSA, 2: SHA256withRSA) with the key of a
certificate it publishes on an SNS host; the message names that certificate's URL. The URL is
checked against `BOUNCE_SNS_URL_PATTERN` (scheme and host) *before* anything is fetched (so a
forger cannot point us at a certificate of their own), and each certificate is fetched once and
cached.
https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
import threading
import time
import urllib.request

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from django.conf import settings

from .payloads import SnsMessage

logger = logging.getLogger(__name__)

# Only SNS's own hosts serve signing certificates and subscription links (also the China
# partition's). The host must be followed by "/", so "…amazonaws.com.evil.example" or
# "…amazonaws.com@evil.example" never match.
DEFAULT_URL_PATTERN = r"^https://sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/"
CERT_MAX_BYTES = 64 * 1024
CERT_TTL = 24 * 3600  # seconds; SNS rotates its certificates rarely, and names each by URL
FETCH_TIMEOUT = 5

_SIGNED_KEYS = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": (
        "Message",
        "MessageId",
        "SubscribeURL",
        "Timestamp",
        "Token",
        "TopicArn",
        "Type",
    ),
}
_SIGNED_KEYS["UnsubscribeConfirmation"] = _SIGNED_KEYS["SubscriptionConfirmation"]
_HASHES = {"1": hashes.SHA1, "2": hashes.SHA256}

_cache: dict[str, tuple[float, rsa.RSAPublicKey]] = {}
_cache_lock = threading.Lock()


class SignatureInvalid(Exception):
    """The message is not signed by SNS (the text says why, for the log and the 400/401)."""


def sns_url_ok(url: str) -> bool:
    """Return whether `url` is on an SNS host (`BOUNCE_SNS_URL_PATTERN`)."""
    pattern = getattr(settings, "BOUNCE_SNS_URL_PATTERN", "") or DEFAULT_URL_PATTERN
    return bool(re.match(pattern, url)) and not any(c in url for c in "\\ \r\n\t")


def string_to_sign(message: SnsMessage) -> bytes:
    """Return the canonical text SNS signs: "Key\\nvalue\\n" for each signed key present."""
    keys = _SIGNED_KEYS.get(message.get("Type", ""))
    if keys is None:
        raise SignatureInvalid(f"unknown SNS message type {message.get('Type')!r}")
    parts = []
    for key in keys:
        value = message.get(key)
        if value is None:
            if key == "Subject":  # the only optional signed key
                continue
            raise SignatureInvalid(f"SNS message lacks {key}")
        parts.append(f"{key}\n{value}\n")
    return "".join(parts).encode("utf-8")


def _fetch_public_key(url: str) -> rsa.RSAPublicKey:
    with _cache_lock:
        cached = _cache.get(url)
        if cached and cached[0] > time.monotonic():
            return cached[1]
    try:
        # The URL matched the SNS host pattern: never a user-chosen host.
        with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT) as response:  # noqa: S310
            pem = response.read(CERT_MAX_BYTES + 1)
    except OSError as exc:
        raise SignatureInvalid(f"could not fetch the SNS signing certificate: {exc}") from exc
    if len(pem) > CERT_MAX_BYTES:
        raise SignatureInvalid("the SNS signing certificate is too large")
    try:
        key = x509.load_pem_x509_certificate(pem).public_key()
    except ValueError as exc:
        raise SignatureInvalid("the SNS signing certificate cannot be read") from exc
    if not isinstance(key, rsa.RSAPublicKey):
        raise SignatureInvalid("the SNS signing certificate has no RSA key")
    with _cache_lock:
        _cache[url] = (time.monotonic() + CERT_TTL, key)
    return key


def sns_verify(message: SnsMessage) -> None:
    """Raise `SignatureInvalid` unless `message` (a parsed SNS POST body) is signed by SNS."""
    version = str(message.get("SignatureVersion", ""))
    algorithm = _HASHES.get(version)
    if algorithm is None:
        raise SignatureInvalid(f"unsupported SNS SignatureVersion {version!r}")
    url = str(message.get("SigningCertURL") or message.get("SigningCertUrl") or "")
    if not (sns_url_ok(url) and url.split("?", 1)[0].endswith(".pem")):
        raise SignatureInvalid(f"SNS signing certificate URL not on an SNS host: {url[:200]!r}")
    try:
        signature = base64.b64decode(str(message.get("Signature", "")), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SignatureInvalid("SNS signature is not base64") from exc
    text = string_to_sign(message)
    key = _fetch_public_key(url)
    try:
        key.verify(signature, text, padding.PKCS1v15(), algorithm())
    except InvalidSignature as exc:
        raise SignatureInvalid("SNS signature does not match the message") from exc
