"""CartPole, the classic cart-pole balancing task, written out in torch and batched over episodes.

Equations of motion from Barto, Sutton & Anderson (1983), "Neuronlike adaptive elements that can
solve difficult learning control problems", with the constants, Euler step, termination rule
(|x| > 2.4 or |theta| > 12 degrees) and 200-step limit of OpenAI Gym's CartPole-v0. A reward of 1
per step taken, so an episode's return is its length; "solved" means an average return >= 195.
"""

from __future__ import annotations

import math

import torch

GRAVITY, CART_MASS, POLE_MASS = 9.8, 1.0, 0.1
TOTAL_MASS = CART_MASS + POLE_MASS
HALF_POLE = 0.5  # half the pole's length (m)
POLE_MOMENT = POLE_MASS * HALF_POLE
FORCE = 10.0  # N, pushed left (action 0) or right (action 1)
TAU = 0.02  # s per step
X_LIMIT, THETA_LIMIT = 2.4, 12 * 2 * math.pi / 360
MAX_STEPS = 200


def reset(episodes: int, generator: torch.Generator) -> torch.Tensor:
    """(episodes, 4) states [x, x_dot, theta, theta_dot], each uniform in [-0.05, 0.05]."""
    return torch.rand(episodes, 4, generator=generator) * 0.1 - 0.05


def step(state: torch.Tensor, action: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """One Euler step of every episode: (next state (E, 4), done (E,) bool)."""
    x, x_dot, theta, theta_dot = state.unbind(-1)
    force = torch.where(action == 1, FORCE, -FORCE)
    cos, sin = torch.cos(theta), torch.sin(theta)
    temp = (force + POLE_MOMENT * theta_dot**2 * sin) / TOTAL_MASS
    theta_acc = (GRAVITY * sin - cos * temp) / (HALF_POLE * (4.0 / 3.0 - POLE_MASS * cos**2 / TOTAL_MASS))
    x_acc = temp - POLE_MOMENT * theta_acc * cos / TOTAL_MASS
    state = torch.stack(
        [x + TAU * x_dot, x_dot + TAU * x_acc, theta + TAU * theta_dot, theta_dot + TAU * theta_acc], dim=-1
    )
    done = (state[:, 0].abs() > X_LIMIT) | (state[:, 2].abs() > THETA_LIMIT)
    return state, done


@torch.no_grad()
def play(choose, episodes: int, generator: torch.Generator) -> dict[str, torch.Tensor]:
    """Run `episodes` episodes at once; `choose(states (E, 4), generator) -> actions (E,)`.

    Returns time-major tensors padded past each episode's end: states (T, E, 4), actions (T, E),
    rewards (T, E) (1 for every step taken, 0 after the end) and alive (T, E) bool."""
    state = reset(episodes, generator)
    alive = torch.ones(episodes, dtype=torch.bool)
    states, actions, alives = [], [], []
    for _ in range(MAX_STEPS):
        action = choose(state, generator)
        states.append(state)
        actions.append(action)
        alives.append(alive)
        state, done = step(state, action)
        alive = alive & ~done
        if not alive.any():
            break
    alive = torch.stack(alives)
    return {"states": torch.stack(states), "actions": torch.stack(actions), "rewards": alive.float(), "alive": alive}
