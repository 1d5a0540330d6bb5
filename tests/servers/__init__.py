"""Real servers on 127.0.0.1 for adapter tests: SMTP (aiosmtpd), webhook receivers (aiohttp)."""
