"""Generators turn seeds into samples; all share the interface in base.py."""
