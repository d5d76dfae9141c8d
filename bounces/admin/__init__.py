"""Django admin of the bounces app, one module per topic."""

from . import blocks, ingestion, sending  # noqa: F401
