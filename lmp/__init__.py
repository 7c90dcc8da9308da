"""Language-model programs: LLM backends, cache, transcripts, LMP and hierarchical function generation.

Knows nothing of robots or sandboxes: executors and API descriptions are injected.
"""

from lmp.cache import ResponseCache, default_cache_path
from lmp.client import LLMClient
from lmp.retry import RetryPolicy, TransientLLMError
from lmp.transcript import TranscriptWriter, read_transcript
from lmp.types import Backend, Completion, LLMError, Request

__all__ = [
    "Backend",
    "Completion",
    "LLMClient",
    "LLMError",
    "Request",
    "ResponseCache",
    "RetryPolicy",
    "TranscriptWriter",
    "TransientLLMError",
    "default_cache_path",
    "read_transcript",
]
