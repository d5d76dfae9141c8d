"""Bounce ingestion: every channel stores first, then one idempotent path processes.

- `store`: channels commit what arrived to the inbox (`InboundMessage`, deduplicated) and queue
  `bounces.tasks.process_inbound` after the commit.
- `process`: batches of pending rows → bounces (once per dedupe key) → blocks → sent emails
  marked bounced → mailing counts → report roll-ups, one transaction per batch.
- `evidence` (raw messages, via the classifier) and `esp` (ESP events) say what a row means;
  `correlate` finds the sent email (VERP token, Message-ID, recipient and time).
- `imap` polls bounce mailboxes; `sweep` re-queues rows left pending; `bench` measures it all.
"""
