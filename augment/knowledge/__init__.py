"""What the project knows and reads as data: seeds, facts, places, intents, prompts."""
