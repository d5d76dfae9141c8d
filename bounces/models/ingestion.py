"""Where bounces come in from: IMAP bounce mailboxes, HTTP sources, and used webhook tokens.

The inbox itself (`InboundMessage`) lives in `bounces.models.bounces`; these models configure and
guard the channels that fill it.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.db import models
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext_lazy as _


def _fernet() -> Fernet:
    """Return the cipher for stored secrets: FIELD_ENCRYPTION_KEY, else derived from SECRET_KEY."""
    key = getattr(settings, "FIELD_ENCRYPTION_KEY", "") or ""
    if key:
        try:
            return Fernet(key.encode())
        except ValueError:
            # Not a Fernet key itself (any passphrase is accepted): derive one from it.
            pass
    material = key or settings.SECRET_KEY
    digest = hashlib.sha256(b"bouncecrm-field-encryption:" + material.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt_secret(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode() if value else ""


def decrypt_secret(value: str) -> str:
    if not value:
        return ""
    try:
        return _fernet().decrypt(value.encode()).decode()
    except InvalidToken as exc:
        raise ValueError("the stored secret cannot be decrypted with the current key") from exc


class BounceMailboxQuerySet(models.QuerySet):
    def failing(self) -> BounceMailboxQuerySet:
        return self.filter(enabled=True, consecutive_failures__gt=0)


class BounceMailbox(models.Model):
    """An IMAP mailbox that receives bounces (the return path's mailbox), polled by Celery beat."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    host = models.CharField(_("IMAP host"), max_length=253)
    port = models.PositiveIntegerField(_("port"), default=993)
    use_tls = models.BooleanField(
        _("use TLS"),
        default=True,
        help_text=_("Implicit TLS (port 993). Turn off only on loopback."),
    )
    username = models.CharField(_("user name"), max_length=254)
    password_encrypted = models.TextField(_("password (encrypted)"), blank=True, editable=False)
    password_env = models.CharField(
        _("password from environment variable"),
        max_length=100,
        blank=True,
        help_text=_(
            "Name of an environment variable holding the password; overrides the stored one."
        ),
    )
    folder = models.CharField(_("folder"), max_length=200, default="INBOX")
    processed_folder = models.CharField(
        _("processed folder"),
        max_length=200,
        blank=True,
        default="Processed",
        help_text=_(
            "Messages are moved here once stored; empty: they get the keyword "
            "$BounceCRMStored instead."
        ),
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    last_polled_at = models.DateTimeField(_("last polled"), null=True, blank=True)
    last_success_at = models.DateTimeField(_("last success"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    consecutive_failures = models.PositiveIntegerField(_("failures in a row"), default=0)

    objects = BounceMailboxQuerySet.as_manager()

    class Meta:
        verbose_name = _("bounce mailbox")
        verbose_name_plural = _("bounce mailboxes")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def set_password(self, raw: str) -> None:
        self.password_encrypted = encrypt_secret(raw)

    def get_password(self) -> str:
        """Return the password: from the named environment variable, else the stored one."""
        if self.password_env:
            return os.environ.get(self.password_env, "")
        return decrypt_secret(self.password_encrypted)


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class InboundSource(models.Model):
    """A relay allowed to post raw bounce messages over HTTP, with its own secret token."""

    name = models.CharField(_("name"), max_length=100)
    slug = models.SlugField(_("slug (in the URL)"), max_length=50, unique=True)
    # Only the SHA-256 of the token is stored; the token itself is shown once, on creation.
    token_hash = models.CharField(_("token hash"), max_length=64, editable=False)
    max_bytes = models.PositiveIntegerField(
        _("size limit (bytes)"), default=10 * 1024 * 1024, help_text=_("Larger posts are refused.")
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta:
        verbose_name = _("HTTP bounce source")
        verbose_name_plural = _("HTTP bounce sources")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def new_token(self) -> str:
        """Set a fresh random token and return it (the only time it can be read)."""
        token = secrets.token_urlsafe(32)
        self.token_hash = _hash_token(token)
        return token

    def check_token(self, token: str) -> bool:
        return bool(self.token_hash) and constant_time_compare(_hash_token(token), self.token_hash)


class UsedWebhookToken(models.Model):
    """A signed webhook token already accepted: a replay of the same signature is refused."""

    esp = models.CharField(_("ESP"), max_length=30)
    token = models.CharField(_("token"), max_length=200)
    seen_at = models.DateTimeField(_("seen"), auto_now_add=True)

    class Meta:
        verbose_name = _("used webhook token")
        verbose_name_plural = _("used webhook tokens")
        constraints = [
            models.UniqueConstraint(fields=["esp", "token"], name="webhook_token_once"),
        ]
        indexes = [
            # Pruning tokens older than the accepted timestamp window.
            models.Index(fields=["seen_at"], name="webhook_token_seen"),
        ]

    def __str__(self) -> str:
        return f"{self.esp} {self.token[:12]}…"
