"""Runs untrusted Python: validation, restricted namespace, isolated warm workers. Knows nothing of LLMs or robots."""
