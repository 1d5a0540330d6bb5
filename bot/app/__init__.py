"""The composition root: reads the settings, wires the core to the adapters, runs Herald.

Nothing in bot/domain or bot/service imports it (tests/test_architecture.py checks).
"""
