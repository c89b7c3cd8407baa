"""Prompt files, installed as package data so the console script finds them anywhere."""
