"""Facts every app shares, stated once: categories, addresses, bounce rates (plain Python)."""
