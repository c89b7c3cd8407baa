"""Checking samples: gates (form, language, facts, fidelity), near-duplicate removal, selection."""
