"""The tabletop benchmark: every task x seed on the simulated tabletop, policies from reference programs or
an LLM stack, success from the task checkers.

Parts: tasks (`robot_api.tasks`), generation (a *policy source*: `reference_policy`, or the LLM stack in
`cap.commands.bench_tabletop_llm`), scoring (`TabletopSession` runs the policy in the sandbox and asks the
task's checker) and the report (`summarize`, the pinned `cap bench tabletop --json` shape).
"""

from cap.evals.tabletop.session import (
    POLICY_MODULES,
    Policy,
    PolicySource,
    TabletopSession,
    reference_policy,
    reference_program,
    run_episodes,
    summarize,
)

__all__ = [
    "POLICY_MODULES",
    "Policy",
    "PolicySource",
    "TabletopSession",
    "reference_policy",
    "reference_program",
    "run_episodes",
    "summarize",
]
