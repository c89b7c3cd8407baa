"""Held-out probes: questions that test the model trained on the dataset, each with the answer it expects."""
