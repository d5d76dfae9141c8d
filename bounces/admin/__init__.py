"""Django admin of the bounces app, one module per topic."""

from . import blocks, ingestion  # noqa: F401
