"""Ingestion tasks (see bounces.ingestion)."""

__all__: list[str] = []
