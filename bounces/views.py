"""The raw-message endpoint: relays forward a bounce over HTTP; it is stored, then processed."""

from __future__ import annotations

import logging

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .ingestion.store import (
    OVERSIZE_HEAD_BYTES,
    inbound_store_oversized,
    inbound_store_raw,
    max_message_bytes,
)
from .models import Channel, InboundSource

logger = logging.getLogger(__name__)
READ_CHUNK = 64 * 1024
# Stands in for an unknown source: its hash matches no token.
DUMMY_SOURCE = InboundSource(token_hash="0" * 64)


def _bearer(request: HttpRequest) -> str:
    scheme, _sep, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _body_stream(request: HttpRequest):
    """Return what to read the body from.

    A chunked post (`Transfer-Encoding: chunked`, no Content-Length) has a length of 0 to
    Django, whose stream then reads nothing; the WSGI server (gunicorn) decodes the chunks
    itself, so its input is read directly, still capped below.
    """
    chunked = "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()
    if chunked and not request.META.get("CONTENT_LENGTH") and "wsgi.input" in request.META:
        return request.META["wsgi.input"]
    return request


def _read_capped(request: HttpRequest, limit: int) -> tuple[bytes, int]:
    """Read the body up to `limit` + 1 bytes from the stream (never DATA_UPLOAD_MAX_MEMORY_SIZE);
    return (data, bytes seen) where bytes seen > limit means the body was too large."""
    stream = _body_stream(request)
    chunks: list[bytes] = []
    seen = 0
    while seen <= limit:
        chunk = stream.read(min(READ_CHUNK, limit + 1 - seen))
        if not chunk:
            break
        chunks.append(chunk)
        seen += len(chunk)
    return b"".join(chunks), seen


@csrf_exempt
@login_not_required
@require_POST
def inbound_raw(request: HttpRequest, source: str) -> JsonResponse:
    """Accept one raw RFC 5322 message as the request body (any content type).

    Authorization: Bearer <the source's token>. 202 with the inbox id on acceptance (also for a
    duplicate), 401 for a bad token or a source that does not exist or is disabled (alike, so
    the answer does not tell which sources exist), 413 over the size limit (the smaller of the
    source's own and BOUNCE_MAX_MESSAGE_BYTES; the head is quarantined so admins see it), 400
    for an empty body. A chunked body is read as it comes.
    """
    src = InboundSource.objects.filter(slug=source, enabled=True).first()
    token = _bearer(request)
    # An unknown source hashes and compares the token as a known one does: same answer, same work.
    if not (src or DUMMY_SOURCE).check_token(token) or src is None:
        logger.warning("raw bounce post to %r refused: unknown source or bad token", source[:50])
        response = JsonResponse({"error": "invalid or missing token"}, status=401)
        response["WWW-Authenticate"] = 'Bearer realm="BounceCRM"'
        return response
    limit = min(src.max_bytes, max_message_bytes())
    declared = request.META.get("CONTENT_LENGTH") or "0"
    declared_size = int(declared) if declared.isdigit() else 0
    data, seen = _read_capped(request, limit)
    if declared_size > limit or seen > limit:
        size = max(declared_size, seen)
        stored = inbound_store_oversized(
            head=data[:OVERSIZE_HEAD_BYTES],
            size=size,
            limit=limit,
            channel=Channel.HTTP,
            source=src.slug,
        )
        return JsonResponse(
            {"error": f"message too large: limit {limit} bytes", "id": stored.id},
            status=413,
        )
    if not data.strip():
        return JsonResponse({"error": "empty body: post the raw message"}, status=400)
    stored = inbound_store_raw(raw=data, channel=Channel.HTTP, source=src.slug, limit=limit)
    InboundSource.objects.filter(pk=src.pk).update(last_used_at=timezone.now())
    return JsonResponse({"id": stored.id, "duplicate": not stored.created}, status=202)
