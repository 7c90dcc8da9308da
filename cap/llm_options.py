"""Command-line options shared by every command that talks to a language model."""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lmp import LLMClient


def add_llm_arguments(parser: argparse.ArgumentParser, replay: bool = True, local_api: str = "chat") -> None:
    """The shared model flags. `local_api` is the API the embedded local model is asked through when --api is
    not given (the tabletop LMPs measure best as plain completions of their few-shot programs; see
    results/tuning); an endpoint is asked through chat, which every OpenAI-compatible server offers."""
    parser.set_defaults(local_api=local_api)
    group = parser.add_argument_group("language model")
    group.add_argument(
        "--model",
        help="model name at --base-url, or 'local' / 'local:0.5b' for the embedded local model "
        "(default: $CAP_MODEL, else the local model when no endpoint is set)",
    )
    group.add_argument(
        "--model-path", metavar="GGUF", help="serve your own GGUF file with the embedded llama.cpp runtime"
    )
    group.add_argument(
        "--base-url",
        help="OpenAI-compatible endpoint, e.g. http://localhost:8000/v1 (default: $OPENAI_BASE_URL)",
    )
    group.add_argument(
        "--api",
        choices=["chat", "completions"],
        default=None,
        help=f"which OpenAI API to call (default: {local_api} for the local model, chat for an endpoint)",
    )
    if replay:
        group.add_argument(
            "--replay", metavar="FILE", help="answer from a recorded transcript instead of a live model"
        )
    group.add_argument("--transcript", metavar="FILE", help="append every LLM call to this JSONL file")
    group.add_argument("--no-cache", action="store_true", help="bypass the response cache")
    group.add_argument(
        "--cache-path",
        metavar="FILE",
        help="SQLite response cache (default: $CAP_CACHE or ~/.cache/cap/llm.sqlite)",
    )


def resolve_api(args: argparse.Namespace) -> None:
    """Fill in `args.api` when --api was not given (called once, at the CLI's edge)."""
    if getattr(args, "api", "") is None:
        local = wants_local(args) and not getattr(args, "replay", None)
        args.api = getattr(args, "local_api", "chat") if local else "chat"


def build_client(args: argparse.Namespace) -> LLMClient:
    """An `LLMClient` from the shared flags: replay, or an OpenAI-compatible endpoint, with cache and transcript.

    Every way this can fail on user input (no model, no key, unreadable transcript) is a `CapError` with a
    hint, so the CLI prints a message instead of a traceback.
    """
    from cap.errors import CapError
    from lmp import LLMClient, LLMError, ResponseCache, TranscriptWriter
    from lmp.backends.replay import ReplayBackend

    try:
        if getattr(args, "replay", None):
            backend = ReplayBackend(args.replay)
        elif wants_local(args):
            backend = local_backend(args)
        else:
            if not (args.model or os.environ.get("CAP_MODEL")):
                raise CapError(
                    "no model given for the endpoint "
                    + (args.base_url or os.environ.get("OPENAI_BASE_URL", "")),
                    hint="pass --model NAME (the name the server knows), set CAP_MODEL, "
                    "or drop --base-url to use the embedded local model",
                )
            from lmp.backends.openai_backend import OpenAIBackend  # imports the SDK only when needed

            backend = OpenAIBackend(model=args.model, base_url=args.base_url, api=args.api or "chat")
    except LLMError as exc:
        raise CapError(str(exc)) from None
    cache = None if args.no_cache else ResponseCache(args.cache_path)
    transcript = None
    if args.transcript:
        try:
            transcript = TranscriptWriter(args.transcript)
        except OSError as exc:
            raise CapError(
                f"cannot write transcript {args.transcript}: {exc.strerror or exc}",
                hint="pass a writable file path to --transcript",
            ) from None
    return LLMClient(backend, cache=cache, transcript=transcript)


def wants_local(args: argparse.Namespace) -> bool:
    """`--model local[:SIZE]`, `--model-path FILE`, or nothing configured at all: the embedded local model."""
    model = args.model or os.environ.get("CAP_MODEL")
    if getattr(args, "model_path", None):
        return True
    if model:
        return model == "local" or model.startswith("local:")
    return not (args.base_url or os.environ.get("OPENAI_BASE_URL"))


def local_backend(args: argparse.Namespace):  # -> LocalBackend (imported lazily: it pulls in httpx/openai)
    from cap.errors import CapError
    from lmp.backends.local import LocalBackend, LocalModelMissing
    from lmp.local import catalog

    model = args.model or os.environ.get("CAP_MODEL") or "local"
    size = model.partition(":")[2] or os.environ.get("CAP_LOCAL_SIZE") or catalog.DEFAULT_SIZE
    try:
        return LocalBackend(size=size, model_file=getattr(args, "model_path", None), api=args.api or "chat")
    except KeyError as exc:
        raise CapError(str(exc.args[0]), hint="use --model local or --model local:0.5b") from None
    except LocalModelMissing as exc:
        flag = "" if size == catalog.DEFAULT_SIZE else f" --size {size}"
        raise CapError(
            f"{exc}; no endpoint is configured, so the local model was asked for",
            hint=f"install it with `cap model install{flag}` (about 8 minutes the first time), or pass "
            "--model NAME --base-url URL for an OpenAI-compatible endpoint, or --replay FILE",
        ) from None
