"""Print the README's result tables (markdown) from the committed results/ directories.

    .venv/bin/python benchmarks/results_table.py

Tabletop, in the paper's shape: success per instruction family x {seen, unseen attributes}, families grouped
by seen/unseen instructions, one pair of columns per recorded configuration; then the totals per group with
and without execution feedback. "First program" is derived from the same episodes: the episode succeeded
with the model's first programs (no repair round of the policy, of a helper or of a nested LMP's answer),
which is exactly what `--repair 0` would have scored, because generation is greedy and a first program that
fails its dry run would have failed without repair.
HumanEval: pass@1 and helpers generated per problem per recorded run.
"""

from __future__ import annotations

import json
from pathlib import Path

RESULTS = Path(__file__).resolve().parents[1] / "results"
GROUPS = ("seen", "unseen", "extra")


def load(benchmark: str) -> dict[str, tuple[dict, dict, list[dict]]]:
    found = {}
    for d in sorted((RESULTS / benchmark).glob("*")):
        if (d / "summary.json").exists():
            run = json.loads((d / "run.json").read_text())
            summary = json.loads((d / "summary.json").read_text())
            records = []
            if (d / "episodes.jsonl").exists():
                records = [
                    json.loads(x) for x in (d / "episodes.jsonl").read_text().splitlines() if x.strip()
                ]
            found[d.name] = (run, summary, records)
    return found


def repaired(attempts: list[dict]) -> bool:
    """Whether any repair round ran: of the policy, of a helper, or of a nested LMP's answer (`nested`)."""
    return any(
        str(a.get("kind", "")).startswith("fix")
        or any(repaired(n.get("attempts") or []) for n in a.get("nested") or [])
        for a in attempts
    )


def first_program_succeeded(record: dict) -> bool:
    return bool(record["task_success"]) and not repaired(record["attempts"])


def without_repair(run: dict) -> str:
    """What an episode that needed no repair round ran: the greedy first program, or the program best-of-K
    chose among its samples."""
    if (run.get("samples") or 1) > 1:
        return f"{run.get('select', 'first')} of {run['samples']}, no repair"
    return "first program"


def _frac(a: int, b: int) -> str:
    return f"{a}/{b} = {100 * a / b:.0f} %" if b else "-"


def tabletop() -> str:
    from robot_api.tasks import TASKS

    configs = load("tabletop")
    if not configs:
        return "(no tabletop results yet)"
    family_of = {t.name: t.family for t in TASKS.values()}
    split_of = {t.name: "seen" if t.seen else "unseen" for t in TASKS.values()}
    instructions = {t.family: t.instructions for t in TASKS.values()}
    names = list(configs)
    # (family, attribute split) -> config -> [successes, first-program successes, episodes]
    cells: dict[tuple[str, str], dict[str, list[int]]] = {}
    for name, (_, _, records) in configs.items():
        for r in records:
            if r["status"] == "infra_error":
                continue
            cell = cells.setdefault((family_of[r["task"]], split_of[r["task"]]), {}).setdefault(
                name, [0, 0, 0]
            )
            cell[0] += bool(r["task_success"])
            cell[1] += first_program_succeeded(r)
            cell[2] += 1
    header = "| family | instructions | " + " | ".join(f"{n}: seen attrs | {n}: unseen attrs" for n in names)
    rows = [header + " |", "|---|---|" + "---|---|" * len(names)]
    families = sorted({f for f, _ in cells}, key=lambda f: (GROUPS.index(instructions[f]), f))
    for family in families:
        row = [family, instructions[family]]
        for n in names:
            for split in ("seen", "unseen"):
                c = cells.get((family, split), {}).get(n)
                row.append(f"{c[0]}/{c[2]}" if c else "-")
        rows.append("| " + " | ".join(row) + " |")

    totals = [
        "",
        "| instructions | attributes | "
        + " | ".join(f"{n}: {without_repair(configs[n][0])} | {n}" for n in names)
        + " |",
    ]
    totals.append("|---|---|" + "---|---|" * len(names))
    for group in GROUPS:
        for split in ("seen", "unseen"):
            line = [f"{group}", split]
            for n in names:
                got = [
                    cells[k][n]
                    for k in cells
                    if instructions[k[0]] == group and k[1] == split and n in cells[k]
                ]
                ok, first, total = (sum(c[i] for c in got) for i in range(3))
                line += [_frac(first, total), _frac(ok, total)]
            totals.append("| " + " | ".join(line) + " |")
    costs = ["", "| per episode (mean) | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for label, value in (
        ("seconds", lambda r: r["seconds"]),
        ("model calls", lambda r: r["llm_calls"]),
        ("prompt tokens (cached prefix included)", lambda r: (r.get("llm_tokens") or {}).get("prompt", 0)),
        ("completion tokens", lambda r: (r.get("llm_tokens") or {}).get("completion", 0)),
    ):
        line = [label]
        for n in names:
            records = [r for r in configs[n][2] if r["status"] != "infra_error"]
            line.append(f"{sum(value(r) for r in records) / max(len(records), 1):.1f}")
        costs.append("| " + " | ".join(line) + " |")
    return "\n".join(rows + totals + costs)


def humaneval() -> str:
    configs = load("humaneval")
    if not configs:
        return "(no HumanEval results yet)"
    rows = [
        "| run | mode | api | problems | pass@1 | helpers generated per problem |",
        "|---|---|---|---|---|---|",
    ]
    for name, (run, summary, _) in configs.items():
        mode = run["mode"]
        result = summary.get(mode, {})
        helpers = result.get("helpers_per_problem")
        helpers = f"{helpers:.2f}" if isinstance(helpers, int | float) else "-"
        problems = f"first {run['limit']}" if run.get("limit") else "all 164"
        api = run.get("api", "chat")
        passed = result.get("pass@1")
        shown = f"{100 * passed:.1f} %" if isinstance(passed, int | float) else "-"
        rows.append(f"| {name} | {mode} | {api} | {problems} | {shown} | {helpers} |")
    rows += [
        "| paper, code-davinci-002 | flat | completions | all 164 | 34.9 % | - |",
        "| paper, code-davinci-002 | hierarchical | completions | all 164 | 39.8 % | - |",
        "| Qwen's report, bf16 | flat | - | all 164 | 70.7 % | - |",
    ]
    return "\n".join(rows)


if __name__ == "__main__":
    print(tabletop())
    print()
    print(humaneval())
