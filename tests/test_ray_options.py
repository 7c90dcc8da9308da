"""`--ray` as the command line sees it, without a cluster: typed options, clear errors that cost no wait."""

from __future__ import annotations

import argparse
import sys

import pytest

from cap.errors import CapError
from cap.evals.common.executor import RayOptions, add_ray_arguments, ray_options


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_ray_arguments(parser)
    return parser.parse_args(argv)


def test_ray_options_from_the_command_line():
    assert ray_options(parse()) is None
    assert ray_options(parse("--ray")) == RayOptions(address=None)
    assert ray_options(parse("--ray", "10.0.0.5:6379", "--ray-workers", "4")) == RayOptions(
        "10.0.0.5:6379", 4
    )
    with pytest.raises(CapError, match="--ray-workers needs --ray"):
        ray_options(parse("--ray-workers", "2"))
    with pytest.raises(CapError, match="at least 1"):
        ray_options(parse("--ray", "--ray-workers", "0"))


def test_a_missing_ray_package_is_a_clear_error(monkeypatch):
    from cap.evals.common import ray_pool

    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    with pytest.raises(CapError, match="needs the ray package") as info:
        ray_pool.import_ray()
    assert "cap[ray]" in (info.value.hint or "")


def test_an_address_nobody_listens_at_fails_at_once(capsys):
    pytest.importorskip("ray")
    from cap.cli import main

    code = main(["bench", "tabletop", "--reference", "--tasks", "pick-place", "--seeds", "1",
                 "--ray", "127.0.0.1:1"])  # fmt: skip
    err = capsys.readouterr().err
    assert code != 0 and "no Ray cluster answers at 127.0.0.1:1" in err
