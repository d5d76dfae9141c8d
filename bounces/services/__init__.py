"""Services of the bounces app: every write goes through one of these plain functions."""
