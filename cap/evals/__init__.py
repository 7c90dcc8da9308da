"""Evaluations wired from the packages below: HumanEval-style code generation and the tabletop benchmark."""
