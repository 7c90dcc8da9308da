"""control end to end: real gymnasium environments, controllers (scripted answers, not model output) run in
the sandbox each step, success from the environment; bad controllers fail for the right reason."""

from __future__ import annotations

import json

import pytest

from cap.cli import main
from cap.evals.control.bench import Control
from cap.evals.control.score import EnvDriver, as_action, run_episode
from cap.evals.control.tasks import TASKS
from lmp import LLMClient
from lmp.backends.scripted import ScriptedBackend

PD = "def cartpole_controller(x, x_dot, theta, theta_dot):\n    return 1 if 10 * theta + 1.5 * theta_dot + 0.1 * x + 0.3 * x_dot > 0 else 0\n"
PUMP = "def mountain_car_controller(position, velocity):\n    return 2 if velocity >= 0 else 0\n"


def answers(body):
    content = body["messages"][-1]["content"]
    asked = [line for line in content.splitlines() if line.startswith("# define function:")][-1]
    return "```python\n" + (PD if "cartpole_controller" in asked else PUMP) + "```"


@pytest.fixture(scope="module")
def driver():
    return EnvDriver()


@pytest.fixture(scope="module")
def sandbox(driver):
    from sandbox import Sandbox

    with Sandbox(api={"env_step": driver.step}, profile="policy", timeout=5.0) as sb:
        yield sb


def test_good_controllers_succeed_through_the_cli(tmp_path, openai_server, capsys):
    openai_server.responder = answers
    out = tmp_path / "run"
    args = ["bench", "control", "--model", "m", "--base-url", openai_server.base_url, "--out", str(out),
            "--seeds", "2", "--json"]  # fmt: skip
    assert main(args) == 0
    summary = json.loads(capsys.readouterr().out)
    for condition in ("hint", "no_hint"):
        entry = summary["conditions"][condition]
        assert entry["correct"] == entry["trials"] == 4
    records = [json.loads(line) for line in (out / "records.jsonl").read_text().splitlines()]
    assert {r["steps"] for r in records if r["group"] == "cartpole"} == {500}
    assert all(r["steps"] < 200 for r in records if r["group"] == "mountain_car")
    # one controller per task and condition; the hint only in the "hint" condition
    contents = [b["messages"][-1]["content"] for b in openai_server.requests]
    assert len(contents) == 4
    with_hint = [c for c in contents if "build up momentum" in c or "pole upright" in c]
    assert len(with_hint) == 2


def test_a_controller_that_does_nothing_useful_fails(sandbox, driver):
    result = run_episode(
        TASKS["cartpole"],
        "def cartpole_controller(x, x_dot, theta, theta_dot):\n    return 0\n",
        0,
        sandbox,
        driver,
    )
    assert result.status == "ok" and not result.success and result.steps < 100
    idle = "def mountain_car_controller(position, velocity):\n    return 1\n"
    result = run_episode(TASKS["mountain_car"], idle, 0, sandbox, driver)
    assert result.status == "ok" and not result.success and result.steps == 200


def test_bad_actions_and_errors_end_the_episode(sandbox, driver):
    bad = "def cartpole_controller(x, x_dot, theta, theta_dot):\n    return 7\n"
    result = run_episode(TASKS["cartpole"], bad, 0, sandbox, driver)
    assert result.status == "bad_action" and not result.success and result.steps == 0
    raising = "def cartpole_controller(x, x_dot, theta, theta_dot):\n    return 1 / 0\n"
    result = run_episode(TASKS["cartpole"], raising, 0, sandbox, driver)
    assert result.status == "error" and "ZeroDivisionError" in result.error
    escaping = "def cartpole_controller(x, x_dot, theta, theta_dot):\n    import os\n    return 1\n"
    assert run_episode(TASKS["cartpole"], escaping, 0, sandbox, driver).status == "error"


def test_code_that_steps_the_environment_itself_gains_nothing(sandbox, driver):
    # it takes 1000 real steps with action 1 on its first call: the pole falls and the host saw every step
    greedy = (
        "def cartpole_controller(x, x_dot, theta, theta_dot):\n"
        "    for i in range(1000):\n"
        "        env_step(1)\n"
        "    return 1\n"
    )
    result = run_episode(TASKS["cartpole"], greedy, 0, sandbox, driver)
    assert not result.success and result.steps < 500
    # a program that skips the episode altogether is not a success either
    result = run_episode(
        TASKS["cartpole"],
        "def cartpole_controller(x, x_dot, theta, theta_dot):\n    return 1\nwhile True:\n    pass\n",
        0,
        sandbox,
        driver,
    )
    assert result.status == "error" and "timeout" in result.error and not result.success


def test_as_action_accepts_only_actions():
    assert [as_action(v, 2) for v in (0, 1, True, 1.0)] == [0, 1, 1, 1]
    assert [as_action(v, 2) for v in (2, -1, 0.5, "1", None, [1])] == [None] * 6


def test_no_definition_is_a_result_not_a_crash():
    client = LLMClient(ScriptedBackend(lambda request: "```python\ndef something_else():\n    return 0\n```"))
    with Control(client, seeds=1, tasks=("cartpole",)) as bench:
        record = bench.attempt("hint", bench.items()[0])
    assert record["status"] == "no_code" and not record["correct"]


def test_command_conditions_match_the_benchmark():
    from cap.commands import bench_control

    assert Control.conditions == bench_control.CONDITIONS
