"""LLM backends: OpenAI-compatible HTTP (chat, completions), replay of transcripts, scripted answers for tests."""
