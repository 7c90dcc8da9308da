"""Print the README's result tables (markdown) from the committed results/ directories.

    .venv/bin/python benchmarks/results_table.py

Tabletop: success per instruction family x {seen, unseen attributes}, families grouped by seen/unseen
instructions, one column per recorded configuration. HumanEval: pass@1 and helpers per problem per mode.
"""

from __future__ import annotations

import json
from pathlib import Path

RESULTS = Path(__file__).resolve().parents[1] / "results"


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


def tabletop() -> str:
    from robot_api.tasks import TASKS

    configs = load("tabletop")
    if not configs:
        return "(no tabletop results yet)"
    family_of = {t.name: t.family for t in TASKS.values()}
    split_of = {t.name: "seen" if t.seen else "unseen" for t in TASKS.values()}
    instructions = {t.family: t.instructions for t in TASKS.values()}
    names = list(configs)
    header = "| family | instructions | " + " | ".join(f"{n}: seen attrs | {n}: unseen attrs" for n in names)
    rows = [header + " |", "|---|---|" + "---|---|" * len(names)]
    cells: dict[tuple[str, str], dict[str, str]] = {}
    for name, (_, _, records) in configs.items():
        for r in records:
            if r["status"] == "infra_error":
                continue
            key = (family_of[r["task"]], split_of[r["task"]])
            ok = bool(r["task_success"])
            prev = cells.setdefault(key, {}).get(name, "0/0")
            a, b = map(int, prev.split("/"))
            cells[key][name] = f"{a + ok}/{b + 1}"
    families = sorted(
        {f for f, _ in cells}, key=lambda f: (["seen", "unseen", "extra"].index(instructions[f]), f)
    )
    for family in families:
        row = [family, instructions[family]]
        for n in names:
            row += [cells.get((family, split), {}).get(n, "-") for split in ("seen", "unseen")]
        rows.append("| " + " | ".join(row) + " |")
    totals = []
    for group in ("seen", "unseen", "extra"):
        line = [f"**{group}-instruction families**", ""]
        for n in names:
            a = b = 0
            for (family, _), per in cells.items():
                if instructions[family] == group and n in per:
                    x, y = map(int, per[n].split("/"))
                    a, b = a + x, b + y
            line += [f"{a}/{b} = {100 * a / b:.0f} %" if b else "-", ""]
        totals.append("| " + " | ".join(line) + " |")
    timing = ["| seconds per episode (mean) | |"]
    tokens = ["| LLM calls per episode (mean) | |"]
    repaired = ["| successes that needed a repair round | |"]
    for n in names:
        records = [r for r in configs[n][2] if r["status"] != "infra_error"]
        timing[0] += f" {sum(r['seconds'] for r in records) / max(len(records), 1):.1f} | |"
        tokens[0] += f" {sum(r['llm_calls'] for r in records) / max(len(records), 1):.1f} | |"
        fixed = [
            r for r in records if r["task_success"] and any(a.get("kind") == "fix" for a in r["attempts"])
        ]
        repaired[0] += f" {len(fixed)} of {sum(1 for r in records if r['task_success'])} | |"
    return "\n".join(rows + totals + timing + tokens + repaired)


def humaneval() -> str:
    configs = load("humaneval")
    if not configs:
        return "(no HumanEval results yet)"
    rows = ["| mode | problems | pass@1 | helpers generated per problem |", "|---|---|---|---|"]
    for _, (run, summary, _) in configs.items():
        mode = run["mode"]
        result = summary.get(mode, {})
        helpers = result.get("helpers_per_problem", "-")
        rows.append(f"| {mode} | first {run.get('limit') or 164} | {result.get('pass@1')} | {helpers} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(tabletop())
    print()
    print(humaneval())
