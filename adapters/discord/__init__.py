"""Herald on Discord: app commands, the walkthrough thread, broadcast, receipts."""
