"""Language-model programs: LLM backends, cache, transcripts, LMP and hierarchical function generation.

Knows nothing of robots or sandboxes: executors and API descriptions are injected.
"""

from lmp.types import Backend, Completion, LLMError, Request

__all__ = ["Backend", "Completion", "LLMError", "Request"]
