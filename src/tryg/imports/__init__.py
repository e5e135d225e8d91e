"""Imports: every file that enters the database, validated first and written in one transaction."""
