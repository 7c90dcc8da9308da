"""robocodegen: function-writing problems for robot code (the paper's RoboCodeGen experiment, own problems).

Parts: problems (`problems`: 40 signatures in four groups with seeded inputs; `references.py`: the reference
solutions, run in the sandbox), generation (`generate`: flat or hierarchical fgen over the `prompts`), scoring
(`score`: candidate and reference on the same inputs, compared in the sandbox) and the report
(`cap.evals.common.trials.summarize`, per condition and group, beside the paper's numbers in `bench.PAPER`).
"""
