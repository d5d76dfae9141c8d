"""RFC 5965 Abuse Reporting Format (spam complaint) reports."""

from __future__ import annotations

from .mime import addresses, normalise_address


def complained_recipients(
    report: list[dict[str, str]], enclosed_to: list[str], raw_report: str
) -> list[str]:
    """Return the addresses a complaint is about: Original-Rcpt-To, else the enclosed To."""
    found: list[str] = []
    for line in raw_report.splitlines():
        name, colon, value = line.partition(":")
        if colon and name.strip().lower() in ("original-rcpt-to", "removal-recipient"):
            found.extend(addresses(value))
    if not found:
        for group in report:
            named = group.get("original-rcpt-to") or group.get("removal-recipient")
            if named:
                found.extend(addresses(named))
    if not found:
        found = list(enclosed_to)
    out: list[str] = []
    for addr in found:
        norm = normalise_address(addr)
        if norm and norm not in out:
            out.append(norm)
    return out


def feedback_type(report: list[dict[str, str]]) -> str:
    """Return the report's Feedback-Type (e.g. "abuse"), or "abuse" when missing."""
    for group in report:
        if group.get("feedback-type"):
            return group["feedback-type"].strip().lower()
    return "abuse"
