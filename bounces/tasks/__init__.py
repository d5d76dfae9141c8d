"""Celery tasks of the bounces app, one module per topic; each is a thin caller of a service."""

from .ingestion import *  # noqa: F403
from .jobs import *  # noqa: F403
from .review import *  # noqa: F403
from .sending import *  # noqa: F403
