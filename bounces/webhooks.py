"""ESP tracking webhooks (django-anymail) wired with their authentication always on.

anymail verifies each ESP's basic auth or signature; on top of it, these views
- refuse every post while no secret is configured (anymail would only warn and accept),
- for Mailgun, refuse a signature older than `MAILGUN_MAX_AGE` or whose token was used before
  (the HMAC covers only timestamp and token, so a captured post could otherwise be replayed),
- for Amazon SES, accept only the configured SNS topics when BOUNCE_SES_TOPIC_ARNS is set (the
  SNS signature is not verified: basic auth over HTTPS is the protection, see the README).
The request runs in one transaction: the used token and the stored events commit together, so
a post that fails (HTTP 500, retried by the ESP) leaves nothing behind.
"""

from __future__ import annotations

import json
import logging
import time

from anymail.exceptions import AnymailConfigurationError, AnymailWebhookValidationFailure
from anymail.signals import tracking
from anymail.webhooks.amazon_ses import AmazonSESTrackingWebhookView
from anymail.webhooks.mailgun import MailgunTrackingWebhookView
from anymail.webhooks.postmark import PostmarkTrackingWebhookView
from anymail.webhooks.sendgrid import SendGridTrackingWebhookView
from django.conf import settings
from django.db import IntegrityError, transaction
from django.dispatch import receiver
from django.http import HttpResponse
from django.urls import path

from .ingestion.esp import esp_slug, is_bounce_event
from .ingestion.store import inbound_store_event
from .models import UsedWebhookToken

logger = logging.getLogger(__name__)

MAILGUN_MAX_AGE = 15 * 60  # seconds; Mailgun retries for hours, but each retry is re-signed


class _Secured:
    """Mixin: refuse when unconfigured, and run validation + storage in one transaction."""

    requires_basic_auth = True

    def post(self, request, *args, **kwargs):
        if getattr(self, "_unconfigured", False):
            logger.error("%s webhook refused: no signing key configured", self.esp_name)
            return HttpResponse("webhook secret not configured", status=403)
        if self.requires_basic_auth and not self.basic_auth and not self._has_signature_key():
            logger.error("%s webhook refused: no secret configured", self.esp_name)
            return HttpResponse("webhook secret not configured", status=403)
        try:
            with transaction.atomic():
                return super().post(request, *args, **kwargs)
        except AnymailWebhookValidationFailure as exc:
            logger.warning("%s webhook refused: %s", self.esp_name, exc)
            status = 401 if "auth" in str(exc).lower() else 400
            response = HttpResponse("refused", status=status)
            if status == 401:
                response["WWW-Authenticate"] = 'Basic realm="BounceCRM webhooks"'
            return response

    def _has_signature_key(self) -> bool:
        return False


class SESWebhookView(_Secured, AmazonSESTrackingWebhookView):
    def validate_request(self, request):
        allowed = getattr(settings, "BOUNCE_SES_TOPIC_ARNS", [])
        if allowed:
            topic = self._parse_sns_message(request).get("TopicArn")
            if topic not in allowed:
                raise AnymailWebhookValidationFailure(f"SNS topic {topic!r} is not accepted")


class SendGridWebhookView(_Secured, SendGridTrackingWebhookView):
    def _has_signature_key(self) -> bool:
        return bool(getattr(self, "webhook_verification_key", None))


class PostmarkWebhookView(_Secured, PostmarkTrackingWebhookView):
    pass


class MailgunWebhookView(_Secured, MailgunTrackingWebhookView):
    requires_basic_auth = False  # the signing key is required by anymail itself

    def __init__(self, **kwargs):
        try:
            super().__init__(**kwargs)
        except AnymailConfigurationError:
            # No MAILGUN_WEBHOOK_SIGNING_KEY: refuse every post (see _Secured.post), never 500.
            self._unconfigured = True

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


def _jsonable(value):
    if hasattr(value, "lists"):  # a QueryDict (Mailgun's legacy form posts)
        return {key: values if len(values) > 1 else values[0] for key, values in value.lists()}
    return json.loads(json.dumps(value, default=str))


@receiver(tracking, dispatch_uid="bouncecrm-store-tracking-event")
def store_tracking_event(sender, event, esp_name, **kwargs) -> None:
    """Store a bounce-like tracking event in the inbox; processing is queued after commit."""
    if not is_bounce_event(event.event_type, event.esp_event):
        return
    esp = esp_slug(esp_name)
    payload = {
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
    inbound_store_event(esp=esp, event=payload)


urlpatterns = [
    path("amazon_ses/tracking/", SESWebhookView.as_view(), name="webhook-amazon-ses"),
    path("sendgrid/tracking/", SendGridWebhookView.as_view(), name="webhook-sendgrid"),
    path("mailgun/tracking/", MailgunWebhookView.as_view(), name="webhook-mailgun"),
    path("postmark/tracking/", PostmarkWebhookView.as_view(), name="webhook-postmark"),
]
