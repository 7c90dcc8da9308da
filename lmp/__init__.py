"""Language-model programs: LLM backends, cache, transcripts, LMP and hierarchical function generation.

Knows nothing of robots or sandboxes: executors and API descriptions are injected.
"""

from lmp.cache import ResponseCache, default_cache_path
from lmp.client import LLMClient
from lmp.fgen import FgenError, FunctionGenerator
from lmp.library import FunctionLibrary, GeneratedFunction
from lmp.lmp import LMP, Failure, Generation, LLMUnavailable, LMPConfig, LMPError
from lmp.program import Attempt, NestedLMPError, Program, Run, Solution
from lmp.retry import RetryPolicy, TransientLLMError
from lmp.transcript import TranscriptWriter, read_transcript
from lmp.types import Backend, Completion, LLMError, Request

__all__ = [
    "LMP",
    "Attempt",
    "Backend",
    "Completion",
    "Failure",
    "FgenError",
    "FunctionGenerator",
    "FunctionLibrary",
    "GeneratedFunction",
    "Generation",
    "LLMClient",
    "LLMError",
    "LLMUnavailable",
    "LMPConfig",
    "LMPError",
    "NestedLMPError",
    "Program",
    "Request",
    "ResponseCache",
    "RetryPolicy",
    "Run",
    "Solution",
    "TranscriptWriter",
    "TransientLLMError",
    "default_cache_path",
    "read_transcript",
]
