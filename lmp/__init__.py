"""Language-model programs: LLM backends, cache, transcripts, LMP and hierarchical function generation.

Knows nothing of robots or sandboxes: executors and API descriptions are injected.
"""

from lmp.cache import ResponseCache
from lmp.client import LLMClient
from lmp.retry import RetryPolicy
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
    "read_transcript",
]
