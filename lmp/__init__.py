"""Language-model programs: LLM backends, cache, transcripts, LMP and hierarchical function generation.

Knows nothing of robots or sandboxes: executors and API descriptions are injected.
"""

from lmp.cache import ResponseCache, default_cache_path
from lmp.client import LLMClient
from lmp.fgen import FgenError, FunctionGenerator
from lmp.library import FunctionLibrary, GeneratedFunction
from lmp.lmp import LMP, Generation, LMPConfig, LMPError
from lmp.program import NestedLMPError, Program, Run
from lmp.retry import RetryPolicy, TransientLLMError
from lmp.transcript import TranscriptWriter, read_transcript
from lmp.types import Backend, Completion, LLMError, Request

__all__ = [
    "LMP",
    "Backend",
    "Completion",
    "FgenError",
    "FunctionGenerator",
    "FunctionLibrary",
    "GeneratedFunction",
    "Generation",
    "LLMClient",
    "LLMError",
    "LMPConfig",
    "LMPError",
    "NestedLMPError",
    "Program",
    "Request",
    "ResponseCache",
    "RetryPolicy",
    "Run",
    "TranscriptWriter",
    "TransientLLMError",
    "default_cache_path",
    "read_transcript",
]
