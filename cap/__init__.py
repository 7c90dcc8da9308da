"""cap: Code as Policies. The composition root: CLI, REPL, evaluations and configuration."""

__version__ = "0.1.0"
