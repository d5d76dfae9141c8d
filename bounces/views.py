"""The raw-message endpoint: relays forward a bounce over HTTP; it is stored, then processed."""

from __future__ import annotations

import logging

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .ingestion.store import OVERSIZE_HEAD_BYTES, inbound_store_oversized, inbound_store_raw
from .models import InboundSource

logger = logging.getLogger(__name__)
READ_CHUNK = 64 * 1024


def _bearer(request: HttpRequest) -> str:
    scheme, _sep, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _read_capped(request: HttpRequest, limit: int) -> tuple[bytes, int]:
    """Read the body up to `limit` + 1 bytes from the stream (never DATA_UPLOAD_MAX_MEMORY_SIZE);
    return (data, bytes seen) where bytes seen > limit means the body was too large."""
    chunks: list[bytes] = []
    seen = 0
    while seen <= limit:
        chunk = request.read(min(READ_CHUNK, limit + 1 - seen))
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
    duplicate), 401 for a bad token, 413 over the source's size limit (the head is quarantined so
    admins see it), 400 for an empty body.
    """
    src = get_object_or_404(InboundSource, slug=source, enabled=True)
    if not src.check_token(_bearer(request)):
        logger.warning("raw bounce post to %s refused: bad token", source)
        response = JsonResponse({"error": "invalid or missing token"}, status=401)
        response["WWW-Authenticate"] = 'Bearer realm="BounceCRM"'
        return response
    declared = request.META.get("CONTENT_LENGTH") or "0"
    declared_size = int(declared) if declared.isdigit() else 0
    data, seen = _read_capped(request, src.max_bytes)
    if declared_size > src.max_bytes or seen > src.max_bytes:
        size = max(declared_size, seen)
        stored = inbound_store_oversized(
            head=data[:OVERSIZE_HEAD_BYTES],
            size=size,
            limit=src.max_bytes,
            channel="http",
            source=src.slug,
        )
        return JsonResponse(
            {"error": f"message too large: limit {src.max_bytes} bytes", "id": stored.id},
            status=413,
        )
    if not data.strip():
        return JsonResponse({"error": "empty body: post the raw message"}, status=400)
    stored = inbound_store_raw(raw=data, channel="http", source=src.slug, limit=src.max_bytes)
    InboundSource.objects.filter(pk=src.pk).update(last_used_at=timezone.now())
    return JsonResponse({"id": stored.id, "duplicate": not stored.created}, status=202)
