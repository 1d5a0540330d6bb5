"""Timers: APScheduler runs Herald's periodic sweeps."""
