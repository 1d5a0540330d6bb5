"""Herald's storage: the ledger on SQLite or PostgreSQL, and an in-memory twin."""
