"""Build the travel-assistant fine-tuning dataset: seeds -> generate -> validate -> dedup -> select -> export."""

__version__ = "0.1.0"
