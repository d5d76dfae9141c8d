"""ESP tracking webhooks (django-anymail), authentication always on; their URLs: bounces/urls.py.

anymail verifies each ESP's basic auth or signature; on top of it, these views
- refuse every post while no secret is configured (anymail would only warn and accept),
- refuse a body that is not what the ESP sends (wrong content type, not UTF-8, not JSON, JSON
  nested absurdly deep, the wrong JSON shape) with a 400 and a short reason, storing nothing,
- for Mailgun, refuse a signature older than `MAILGUN_MAX_AGE` or whose token was used before
  (the HMAC covers only timestamp and token, so a captured post could otherwise be replayed),
- for Amazon SES, verify the SNS message signature (`bounces.ingestion.sns`) when
  `BOUNCE_SNS_VERIFY` is on, accept only the configured SNS topics when BOUNCE_SES_TOPIC_ARNS is
  set, and confirm SNS subscriptions (or log why not) instead of failing them.

A batch is taken event by event: an event that cannot be read, or whose text holds a NUL byte or
a lone surrogate, or that names no valid recipient, is kept raw in the quarantine with the
reason, and the others are stored. All of it goes in with a few set-based statements in the
request's one transaction (`inbound_store_events`), so the used token and the stored events
commit together and a 10,000-event batch is answered in about a second.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.request
from collections.abc import Callable
from typing import Any, TypeVar

from anymail.exceptions import (
    AnymailConfigurationError,
    AnymailError,
    AnymailWebhookValidationFailure,
)
from anymail.webhooks.amazon_ses import AmazonSESTrackingWebhookView
from anymail.webhooks.base import AnymailBasicAuthMixin
from anymail.webhooks.mailgun import MailgunTrackingWebhookView
from anymail.webhooks.postmark import PostmarkTrackingWebhookView
from anymail.webhooks.sendgrid import SendGridTrackingWebhookView
from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpResponse, JsonResponse

from .ingestion.esp_events import esp_slug, is_bounce_event
from .ingestion.evidence import recipient_problem, sanitize_json
from .ingestion.payloads import SnsMessage, StoredEvent
from .ingestion.sns import SignatureInvalid, sns_url_ok, sns_verify
from .ingestion.store import Rejected, inbound_store_events
from .models import UsedWebhookToken

logger = logging.getLogger(__name__)

MAILGUN_MAX_AGE = 15 * 60  # seconds; Mailgun retries for hours, but each retry is re-signed
READ_CHUNK = 64 * 1024


class BadWebhook(Exception):
    """The post is not a webhook body we can read: 400 (or `status`) with the short reason."""

    def __init__(self, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


def _read_body(request) -> bytes:
    """Read the body up to BOUNCE_WEBHOOK_MAX_BYTES (not Django's 2.5 MB form limit)."""
    if hasattr(request, "_body"):
        return request._body
    limit = settings.BOUNCE_WEBHOOK_MAX_BYTES
    declared = request.META.get("CONTENT_LENGTH") or ""
    if declared.isdigit() and int(declared) > limit:
        raise BadWebhook(f"body too large: limit {limit} bytes", status=413)
    chunks, seen = [], 0
    while True:
        chunk = request.read(READ_CHUNK)
        if not chunk:
            break
        seen += len(chunk)
        if seen > limit:
            raise BadWebhook(f"body too large: limit {limit} bytes", status=413)
        chunks.append(chunk)
    request._body = b"".join(chunks)  # anymail and request.POST read it from here
    return request._body


_Shape = TypeVar("_Shape", dict[str, Any], list[Any])


def _json_body(request, *, content_types: tuple[str, ...], shape: type[_Shape]) -> _Shape:
    """Return the parsed JSON body, or raise `BadWebhook` saying what is wrong with it."""
    if request.content_type not in content_types:
        raise BadWebhook(f"expected Content-Type {' or '.join(content_types)}")
    body = _read_body(request)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadWebhook("body is not UTF-8") from exc
    try:
        data = json.loads(text)
    except RecursionError as exc:
        raise BadWebhook("JSON nested too deeply") from exc
    except ValueError as exc:
        raise BadWebhook("body is not valid JSON") from exc
    if not isinstance(data, shape):
        expected = "an array" if shape is list else "an object"
        raise BadWebhook(f"expected a JSON body that is {expected}")
    return data


def _jsonable(value):
    if hasattr(value, "lists"):  # a QueryDict (Mailgun's legacy form posts)
        return {key: values if len(values) > 1 else values[0] for key, values in value.lists()}
    if isinstance(value, dict | list) and _plain_json(value):
        return value  # parsed from the request's JSON: already storable as it is
    return json.loads(json.dumps(value, default=str))


def _plain_json(value) -> bool:
    """Return whether `value` holds only JSON types (one shallow-to-deep walk, no copy)."""
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain_json(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_plain_json(v) for v in value)
    return value is None or isinstance(value, str | int | float | bool)


def _raw(esp_event) -> bytes:
    """The event as it came (JSON; lone surrogates kept as they were, escaped)."""
    if hasattr(esp_event, "POST"):  # a Mailgun legacy form post
        esp_event = esp_event.POST
    return json.dumps(_jsonable(esp_event), ensure_ascii=True).encode("ascii")


def event_payload(event, esp: str) -> StoredEvent:
    """Return the stored shape of one anymail tracking event (see `evidence_from_event`)."""
    return {
        "esp": esp,
        "event_type": event.event_type,
        "event_id": event.event_id,
        "recipient": event.recipient,
        "message_id": event.message_id,
        "timestamp": event.timestamp.isoformat() if event.timestamp else None,
        "description": event.description,
        "mta_response": event.mta_response,
        "reject_reason": event.reject_reason,
        "metadata": _jsonable(event.metadata or {}),
        "esp_event": _jsonable(event.esp_event),
    }


class _Secured:
    """Mixin: refuse when unconfigured or unreadable; store a batch event by event, set-based."""

    requires_basic_auth = True
    # Provided by the anymail view that follows this mixin in the bases.
    esp_name: str
    basic_auth: list[str]
    run_validators: Callable[[Any], None]
    esp_to_anymail_event: Callable[[Any], Any]

    def post(self, request, *args, **kwargs):
        if getattr(self, "_unconfigured", False):
            logger.error("%s webhook refused: no signing key configured", self.esp_name)
            return HttpResponse("webhook secret not configured", status=403)
        if self.requires_basic_auth and not self.basic_auth and not self._has_signature_key():
            logger.error("%s webhook refused: no secret configured", self.esp_name)
            return HttpResponse("webhook secret not configured", status=403)
        try:
            # Basic auth first: a stranger learns nothing about what we would accept.
            AnymailBasicAuthMixin.validate_request(self, request)
            esp_events = self.esp_events(request)
            with transaction.atomic():
                self.run_validators(request)
                counts = self.store(request, esp_events)
        except BadWebhook as exc:
            logger.warning("%s webhook refused: %s", self.esp_name, exc.reason)
            return HttpResponse(exc.reason, status=exc.status, content_type="text/plain")
        except AnymailWebhookValidationFailure as exc:
            logger.warning("%s webhook refused: %s", self.esp_name, exc)
            status = 401 if "auth" in str(exc).lower() else 400
            response = HttpResponse("refused", status=status)
            if status == 401:
                response["WWW-Authenticate"] = 'Basic realm="BounceCRM webhooks"'
            return response
        except AnymailError as exc:  # e.g. an SNS message type anymail does not know
            logger.warning("%s webhook refused: %s", self.esp_name, exc)
            return HttpResponse("not a webhook message", status=400, content_type="text/plain")
        return JsonResponse(counts)

    def _has_signature_key(self) -> bool:
        return False

    # --- per ESP -----------------------------------------------------------------------------
    def esp_events(self, request) -> list:
        """Return the ESP's raw events in the body (raise `BadWebhook` for a bad body)."""
        raise NotImplementedError

    def to_anymail(self, esp_event) -> list:
        """Return anymail's tracking events for one raw ESP event."""
        return [self.esp_to_anymail_event(esp_event)]

    # --- storing -----------------------------------------------------------------------------
    def store(self, request, esp_events: list) -> dict:
        esp = esp_slug(self.esp_name)
        good: list[StoredEvent] = []
        rejected: list[Rejected] = []
        for esp_event in esp_events:
            try:
                events = self.to_anymail(esp_event)
            except Exception as exc:  # noqa: BLE001 - one unreadable event must not sink the batch
                logger.warning("%s event could not be read: %r", self.esp_name, exc)
                reason = f"The {self.esp_name} event could not be read ({type(exc).__name__})."
                rejected.append(Rejected(raw=_raw(esp_event), reason=reason))
                continue
            for event in events:
                if not is_bounce_event(event.event_type, event.esp_event):
                    continue
                # NUL bytes and lone surrogates: PostgreSQL refuses them, so they go.
                payload, problems = sanitize_json(event_payload(event, esp))
                problem = recipient_problem(payload["recipient"])
                if problems or problem:
                    reason = "; ".join([*problems, *([problem] if problem else [])])
                    rejected.append(Rejected(raw=_raw(esp_event), reason=reason, payload=payload))
                else:
                    good.append(payload)
        return inbound_store_events(esp=esp, events=good, rejected=rejected)


class SESWebhookView(_Secured, AmazonSESTrackingWebhookView):
    def esp_events(self, request) -> list:
        # SNS posts text/plain; a relay or a test may say application/json.
        message = _json_body(request, content_types=("text/plain", "application/json"), shape=dict)
        request._sns_message = message  # anymail's validators read it from here
        return [message]

    def validate_request(self, request):
        message = request._sns_message
        if getattr(settings, "BOUNCE_SNS_VERIFY", False):
            try:
                sns_verify(message)
            except SignatureInvalid as exc:
                raise AnymailWebhookValidationFailure(f"SNS signature: {exc}") from exc
        allowed = getattr(settings, "BOUNCE_SES_TOPIC_ARNS", [])
        if allowed:
            topic = message.get("TopicArn")
            if topic not in allowed:
                raise AnymailWebhookValidationFailure(f"SNS topic {topic!r} is not accepted")

    def to_anymail(self, sns_message: SnsMessage) -> list:
        message_type = sns_message.get("Type")
        if message_type == "SubscriptionConfirmation":
            self.confirm_subscription(sns_message)
            return []
        if message_type != "Notification":
            return []  # UnsubscribeConfirmation: nothing to store
        text = sns_message.get("Message")
        if text == "Successfully validated SNS topic for Amazon SES event publishing.":
            return []
        if not isinstance(text, str):
            raise TypeError("the SNS Notification has no Message text")
        ses_event = json.loads(text)
        if not isinstance(ses_event, dict):
            raise ValueError("the SNS Message is not a JSON object")
        return self.esp_to_anymail_events(ses_event, sns_message)

    def confirm_subscription(self, message: SnsMessage) -> None:
        """Confirm an SNS subscription by loading its SubscribeURL, or log why not.

        Only with basic auth (the topic knows our secret) and a URL on an SNS host; with
        signature verification on, the message is signed by SNS by now.
        """
        topic, url = message.get("TopicArn"), str(message.get("SubscribeURL") or "")
        if not sns_url_ok(url):
            logger.error(
                "SNS subscription to %s NOT confirmed: SubscribeURL %r is not on an SNS host; "
                "confirm it in the SNS console if it is yours",
                topic,
                url[:200],
            )
            return
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - SNS host only
                response.read(64 * 1024)
        except OSError as exc:
            logger.error(
                "SNS subscription to %s NOT confirmed (%s); SNS sends the confirmation again, "
                "or confirm it in the SNS console",
                topic,
                exc,
            )
            return
        logger.info("SNS subscription to %s confirmed", topic)


class SendGridWebhookView(_Secured, SendGridTrackingWebhookView):
    def _has_signature_key(self) -> bool:
        return bool(getattr(self, "webhook_verification_key", None))

    def esp_events(self, request) -> list:
        return _json_body(request, content_types=("application/json",), shape=list)

    def to_anymail(self, esp_event) -> list:
        if not isinstance(esp_event, dict):
            raise TypeError("the event is not a JSON object")
        return [self.esp_to_anymail_event(esp_event)]


class PostmarkWebhookView(_Secured, PostmarkTrackingWebhookView):
    def esp_events(self, request) -> list:
        return [_json_body(request, content_types=("application/json",), shape=dict)]


class MailgunWebhookView(_Secured, MailgunTrackingWebhookView):
    requires_basic_auth = False  # the signing key is required by anymail itself

    def __init__(self, **kwargs):
        try:
            super().__init__(**kwargs)
        except AnymailConfigurationError:
            # No MAILGUN_WEBHOOK_SIGNING_KEY: refuse every post (see _Secured.post), never 500.
            self._unconfigured = True

    def esp_events(self, request) -> list:
        if request.content_type == "application/json":
            return [_json_body(request, content_types=("application/json",), shape=dict)]
        if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            _read_body(request)
            return [request]  # legacy form post: mapped from request.POST
        raise BadWebhook("expected Content-Type application/json")

    def to_anymail(self, esp_event) -> list:
        if hasattr(esp_event, "POST"):
            return [self.mailgun_legacy_to_anymail_event(esp_event.POST)]
        return [self.esp_to_anymail_event(esp_event)]

    def validate_request(self, request):
        # Runs after anymail checked the HMAC (collect_all_methods calls the base class first).
        try:
            if request.content_type == "application/json":
                block = json.loads(request.body.decode("utf-8"))["signature"]
                token, timestamp = block["token"], block["timestamp"]
            else:
                token, timestamp = request.POST["token"], request.POST["timestamp"]
            age = abs(time.time() - float(timestamp))
        except (KeyError, ValueError, TypeError) as exc:
            raise AnymailWebhookValidationFailure("Mailgun signature block malformed") from exc
        if age > MAILGUN_MAX_AGE:
            raise AnymailWebhookValidationFailure("Mailgun signature timestamp too old")
        try:
            with transaction.atomic():
                UsedWebhookToken.objects.create(esp="mailgun", token=str(token)[:200])
        except IntegrityError as exc:
            raise AnymailWebhookValidationFailure("Mailgun signature token replayed") from exc
