"""Shared storage layer: one schema, SQLite by default, PostgreSQL in production."""
