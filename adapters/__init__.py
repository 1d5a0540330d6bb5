"""Herald's adapters: one package per outside system."""
