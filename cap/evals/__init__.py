"""Benchmarks, one subpackage each, all of one shape: items (problems, tasks or questions), generation (a
model, or reference programs, turns an item's public part into code or an answer), scoring (in the sandbox;
the checker's answer never reaches the model) and a report (a JSON summary, a table beside the paper's).

- `tabletop`     the simulated tabletop tasks (instruction families x seeds), reference or model policies
- `humaneval`    HumanEval code generation, flat or hierarchical, scored like openai/human-eval
- `robocodegen`  function-writing problems (NumPy geometry, control, Shapely, an object API), prompt x generation
- `control`      reactive control: a generated controller drives gymnasium classic-control tasks step by step
- `reasoning`    questions over synthetic scenes answered in natural language, chain-of-thought, or code

robocodegen, control and reasoning have the same files: the items (`problems.py`, `tasks.py`,
`questions.py`), `generate.py`, `score.py` and `bench.py` (a `common.trials.TrialBenchmark`: conditions,
the paper's numbers, `attempt`), run by `cap/commands/bench_trials.py`; a sixth benchmark is those four files.
`common` holds what they share: journals and append-only record logs with resume, pass@k, progress bars and
JSON reports, and the trial loop the last three run on.
"""
