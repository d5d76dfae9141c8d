"""Admin for blocks, unblocks, bounces, sent emails, mailings and the policy."""
