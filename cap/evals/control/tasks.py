"""Reactive-control tasks: gymnasium classic-control environments, a controller signature and a hint each.

The controller is a function of the observation's components returning a discrete action; the hint is what
the paper's prompt gives the model (what the numbers mean, what the actions do, what a working law looks like).
Success is the environment's own: CartPole-v1 kept up for all 500 steps; MountainCar-v0 at the flag before the
200-step limit. Items are (task, seed) episodes; the controller is generated once per task and condition.
"""

from __future__ import annotations

from dataclasses import dataclass

SEEDS = 5


@dataclass(frozen=True)
class ControlTask:
    env_id: str
    signature: str  # "action = name(obs components...)"
    observation: tuple[str, ...]  # the controller's argument names, in the environment's observation order
    actions: int
    hint: str
    success: str  # "survive": never terminated before the step limit; "reach": terminated (goal) before it
    max_steps: int

    @property
    def function(self) -> str:
        return self.signature.split("=", 1)[1].strip().split("(", 1)[0]


TASKS: dict[str, ControlTask] = {
    "cartpole": ControlTask(
        env_id="CartPole-v1",
        signature="action = cartpole_controller(x, x_dot, theta, theta_dot)",
        observation=("x", "x_dot", "theta", "theta_dot"),
        actions=2,
        hint=(
            "# A cart-pole: x is the cart position (m), x_dot its velocity, theta the pole angle from upright "
            "(rad, positive when the pole leans right), theta_dot its rate.\n"
            "# action 1 pushes the cart right, 0 pushes it left. Keep the pole upright for 500 steps: push "
            "towards the side the pole falls to, e.g. with a PD law on theta and theta_dot (plus a little on x)."
        ),
        success="survive",
        max_steps=500,
    ),
    "mountain_car": ControlTask(
        env_id="MountainCar-v0",
        signature="action = mountain_car_controller(position, velocity)",
        observation=("position", "velocity"),
        actions=3,
        hint=(
            "# A car in a valley: position in [-1.2, 0.6] (m), velocity in [-0.07, 0.07].\n"
            "# action 0 accelerates left, 1 does not accelerate, 2 accelerates right. Reach position 0.5 on the "
            "right hill within 200 steps; the engine is too weak to drive straight up, so build up momentum."
        ),
        success="reach",
        max_steps=200,
    ),
}


@dataclass(frozen=True)
class Episode:
    task: str
    seed: int

    @property
    def id(self) -> str:
        return f"{self.task}/seed{self.seed}"

    @property
    def group(self) -> str:
        return self.task


def episodes(tasks: tuple[str, ...] = tuple(TASKS), seeds: int = SEEDS) -> list[Episode]:
    return [Episode(t, s) for t in tasks for s in range(seeds)]
