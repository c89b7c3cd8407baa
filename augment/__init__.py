"""Build the travel-assistant fine-tuning dataset: seeds -> generate -> check -> dedup -> select -> ground -> export."""

__version__ = "0.1.0"
