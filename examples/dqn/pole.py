"""A vectorised CartPole-v1 in numpy, with gym's auto-reset convention.

Dynamics: Barto, Sutton & Anderson (1983), semi-implicit-free Euler with tau = 0.02 s, the
constants of gym's CartPole; an episode ends when |x| > 2.4, |theta| > 12 degrees (a true
terminal, done = 1) or after 500 steps (a time limit: truncated, not terminal, so a
bootstrapped target still looks past it). Reward 1 per step, so a return is a length.
"""

from __future__ import annotations

import numpy as np

G, M_CART, M_POLE, L_HALF, PUSH, DT = 9.8, 1.0, 0.1, 0.5, 10.0, 0.02
M_TOTAL = M_CART + M_POLE
X_MAX, THETA_MAX = 2.4, np.deg2rad(12.0)
LIMIT = 500


class Poles:
    """`n` independent carts stepped together; `step` resets the finished ones itself."""

    def __init__(self, n: int, rng: np.random.Generator):
        self.rng = rng
        self.state = rng.uniform(-0.05, 0.05, (n, 4)).astype(np.float32)  # x, x', theta, theta'
        self.steps = np.zeros(n, dtype=np.int64)

    def _physics(self, push: np.ndarray) -> np.ndarray:
        x, v, th, w = self.state.T
        cos, sin = np.cos(th), np.sin(th)
        lean = (push + M_POLE * L_HALF * w**2 * sin) / M_TOTAL
        w_dot = (G * sin - cos * lean) / (L_HALF * (4 / 3 - M_POLE * cos**2 / M_TOTAL))
        v_dot = lean - M_POLE * L_HALF * w_dot * cos / M_TOTAL
        return np.stack([x + DT * v, v + DT * v_dot, th + DT * w, w + DT * w_dot], axis=1).astype(np.float32)

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Actions (n,) in {0, 1} -> (next states (n, 4), rewards (n,), terminal (n,), finished (n,)).
        Next states are the true successors; finished carts restart afterwards."""
        nxt = self._physics(np.where(actions == 1, PUSH, -PUSH))
        self.steps += 1
        terminal = (np.abs(nxt[:, 0]) > X_MAX) | (np.abs(nxt[:, 2]) > THETA_MAX)
        finished = terminal | (self.steps >= LIMIT)
        self.state = nxt.copy()
        self.state[finished] = self.rng.uniform(-0.05, 0.05, (int(finished.sum()), 4))
        self.steps[finished] = 0
        return nxt, np.ones(len(nxt), dtype=np.float32), terminal.astype(np.float32), finished


def episode_returns(choose, episodes: int, rng: np.random.Generator) -> np.ndarray:
    """Undiscounted return of `episodes` episodes played to their end by `choose(states) -> actions`."""
    poles = Poles(episodes, rng)
    returns = np.zeros(episodes)
    running = np.ones(episodes, dtype=bool)
    for _ in range(LIMIT):
        _, rewards, _, finished = poles.step(choose(poles.state))
        returns += rewards * running
        running &= ~finished
        if not running.any():
            break
    return returns
