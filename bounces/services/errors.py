"""Domain errors of the block services: views turn them into messages, never into 500s."""

from __future__ import annotations

from django.utils.translation import gettext as _


class UnblockError(Exception):
    """An unblock that must not happen; `str()` is a message for the user."""

    def __init__(self, subject) -> None:
        self.subject = subject
        super().__init__(self.message())

    @property
    def address(self) -> str:
        return getattr(self.subject, "address", self.subject)

    def message(self) -> str:  # pragma: no cover - every subclass overrides
        raise NotImplementedError


class NotBlocked(UnblockError):
    def message(self) -> str:
        return _("%(address)s is not blocked.") % {"address": self.address}


class PermanentBlockNeedsAdmin(UnblockError):
    def message(self) -> str:
        return _(
            "%(address)s is blocked permanently. Only an admin can lift a permanent block, "
            "with a written reason."
        ) % {"address": self.address}


class UnblockNotAllowed(UnblockError):
    def message(self) -> str:
        return _("You are not allowed to lift the block of %(address)s.") % {
            "address": self.address
        }


class ConfirmationRequired(UnblockError):
    def message(self) -> str:
        return _(
            "Confirm that the cause of the bounce is resolved before unblocking %(address)s."
        ) % {"address": self.address}


class ReasonRequired(UnblockError):
    def message(self) -> str:
        return _("Write the reason for lifting the permanent block of %(address)s.") % {
            "address": self.address
        }


class NoAddress(NotBlocked):
    """The record's field holds no address at all (so there is nothing to unblock)."""

    def message(self) -> str:
        return _("The %(field)s is empty: there is no address to unblock.") % {
            "field": self.subject
        }
