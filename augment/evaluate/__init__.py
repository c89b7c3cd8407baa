"""Evaluate a model on the held-out probes through any OpenAI-compatible chat endpoint, with the project's checks."""
