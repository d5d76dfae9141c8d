"""Sending from the CRM: one-to-one emails and mailings, suppressed by blocks and opt-outs.

- `merge`: the `{{ field }}` placeholders of subjects and bodies (plain Python).
- `recipients`: who a selection would reach, who is suppressed and why, who is risky and why
  (the pre-send check).
- `services`: queue, claim, send, retry, pause, resume, cancel (every write).
- `unsubscribe`: the signed tokens of the one-click unsubscribe links.
"""
