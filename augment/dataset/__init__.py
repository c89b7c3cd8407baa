"""The release: formats, export, split, card, file validation, manifest, report and the output lock."""
