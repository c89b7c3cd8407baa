"""The Gemini path: settings, the SDK's replies and errors, the client session, Batch mode, planning, cache, limits."""
