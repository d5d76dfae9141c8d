"""Admin for the inbox/quarantine, bounce mailboxes and webhook sources."""
