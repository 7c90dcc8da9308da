"""The pinned command surface: every subcommand is registered and explains itself."""

import subprocess
import sys

import pytest

from cap.cli import build_parser, main

PINNED = ["tasks", "exec", "run", "repl", "bench", "cache", "doctor"]


def test_help_lists_every_pinned_subcommand(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for name in PINNED:
        assert name in out


@pytest.mark.parametrize(
    "argv",
    [
        ["bench", "humaneval"],
        ["bench", "evaluate"],
        ["bench", "tabletop"],
        ["cache", "stats"],
        ["cache", "clear"],
    ],
)
def test_nested_subcommands_have_help(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main([*argv, "--help"])
    assert exc.value.code == 0
    assert "usage: cap" in capsys.readouterr().out


def test_version_and_module_entry_point():
    out = subprocess.run(
        [sys.executable, "-m", "cap", "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout.startswith("cap ")


def test_no_command_prints_help_and_fails(capsys):
    assert main([]) == 2
    assert "commands" in capsys.readouterr().err


def test_parser_builds():
    assert build_parser().prog == "cap"
