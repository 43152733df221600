"""Helpers shared by tests/ and bench/ (not shipped in the wheel)."""
