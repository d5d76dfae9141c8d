"""SNS message signatures on the SES webhook, with a locally generated key and certificate
served over HTTP from loopback (the URL pattern setting admits only that host here)."""

from __future__ import annotations

import base64
import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from django.urls import reverse

from bounces.ingestion import sns
from bounces.models import Bounce, InboundMessage

pytestmark = pytest.mark.django_db

PORT = 27310
BASE = f"http://127.0.0.1:{PORT}"
SECRET = "anymail:wh-secret-123"
AUTH = {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(SECRET.encode()).decode()}
PAYLOADS = Path(__file__).parent.parent / "bounces" / "ingestion" / "payloads"


def _key_and_cert():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.test.local")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return key, cert.public_bytes(serialization.Encoding.PEM)


@pytest.fixture(scope="module")
def signer():
    key, pem = _key_and_cert()
    requests: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            requests.append(self.path)
            body = pem if self.path.endswith(".pem") else b"<ConfirmSubscriptionResponse/>"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield key, requests
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def sns_settings(settings):
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET}
    settings.BOUNCE_SNS_VERIFY = True
    settings.BOUNCE_SNS_URL_PATTERN = rf"^http://127\.0\.0\.1:{PORT}/"
    sns._cache.clear()


def _sign(key, message: dict, version: str = "1") -> dict:
    message = {**message, "SignatureVersion": version, "SigningCertURL": f"{BASE}/cert.pem"}
    algorithm = hashes.SHA1() if version == "1" else hashes.SHA256()  # noqa: S303 - SNS v1
    signature = key.sign(sns.string_to_sign(message), padding.PKCS1v15(), algorithm)
    message["Signature"] = base64.b64encode(signature).decode()
    return message


def _post(client, message: dict):
    return client.generic(
        "POST",
        reverse("bounces:webhook-amazon-ses"),
        json.dumps(message).encode(),
        content_type="text/plain",
        HTTP_X_AMZ_SNS_MESSAGE_TYPE=message["Type"],
        HTTP_X_AMZ_SNS_MESSAGE_ID=message["MessageId"],
        **AUTH,
    )


def _notification() -> dict:
    payload = json.loads((PAYLOADS / "ses_bounce.json").read_text())
    for key in ("Signature", "SignatureVersion", "SigningCertURL", "UnsubscribeURL"):
        payload.pop(key, None)
    return payload


@pytest.mark.parametrize("version", ["1", "2"])
def test_a_signed_notification_is_stored_and_the_certificate_fetched_once(
    client, signer, version, django_capture_on_commit_callbacks
):
    key, requests = signer
    requests.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert _post(client, _sign(key, _notification(), version)).status_code == 200
    second = {**_notification(), "MessageId": "another-id"}
    assert _post(client, _sign(key, second, version)).status_code == 200
    assert Bounce.objects.get().recipient == "ses.user@example.com"
    assert requests == ["/cert.pem"]  # cached for the second post


def test_a_tampered_notification_is_refused_and_nothing_stored(client, signer):
    key, _requests = signer
    message = _sign(key, _notification())
    message["Message"] = message["Message"].replace("ses.user@example.com", "victim@example.com")
    response = _post(client, message)
    assert response.status_code == 400
    assert not InboundMessage.objects.exists()


def test_an_unsigned_notification_is_refused(client, signer):
    response = _post(client, _notification())
    assert response.status_code == 400
    assert not InboundMessage.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "https://attacker.example/cert.pem",
        f"{BASE}.attacker.example/cert.pem",
        f"http://127.0.0.1:{PORT}@attacker.example/cert.pem",
        f"{BASE}/cert.txt",
    ],
)
def test_a_certificate_url_off_the_sns_host_is_never_fetched(client, signer, url):
    key, requests = signer
    requests.clear()
    message = _sign(key, _notification())
    message["SigningCertURL"] = url
    assert _post(client, message).status_code == 400
    assert requests == []


def test_the_default_pattern_admits_only_sns_hosts(settings):
    settings.BOUNCE_SNS_URL_PATTERN = ""
    assert sns.sns_url_ok("https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-1.pem")
    assert sns.sns_url_ok("https://sns.cn-north-1.amazonaws.com.cn/x.pem")
    for bad in (
        "http://sns.eu-west-1.amazonaws.com/x.pem",
        "https://sns.eu-west-1.amazonaws.com.evil.example/x.pem",
        "https://sns.eu-west-1.amazonaws.com@evil.example/x.pem",
        "https://evil.example/sns.eu-west-1.amazonaws.com/x.pem",
    ):
        assert not sns.sns_url_ok(bad), bad


def test_a_signed_subscription_confirmation_is_confirmed(client, signer, caplog):
    key, requests = signer
    requests.clear()
    message = _sign(
        key,
        {
            "Type": "SubscriptionConfirmation",
            "MessageId": "sub-2",
            "Token": "tok-2",
            "TopicArn": "arn:aws:sns:us-east-1:123456789012:ses-crm-events",
            "Message": "You have chosen to subscribe to the topic.",
            "SubscribeURL": f"{BASE}/?Action=ConfirmSubscription&Token=tok-2",
            "Timestamp": "2026-01-01T00:00:00.000Z",
        },
    )
    caplog.set_level("INFO")
    assert _post(client, message).status_code == 200
    assert "/?Action=ConfirmSubscription&Token=tok-2" in requests
    assert "confirmed" in caplog.text
    assert not InboundMessage.objects.exists()
