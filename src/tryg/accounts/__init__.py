"""Accounts: organisations, users with roles, and the audit log."""
