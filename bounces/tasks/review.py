"""The periodic block review task (see bounces.services.review)."""

__all__: list[str] = []
