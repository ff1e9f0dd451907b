"""Stackelberg matrix games with both sides learning (PettingZoo).

| | |
|---|---|
| Creation | ``from stratgym.multiagent import matrix_v0``; ``matrix_v0.env(game=None, rounds=1)`` (AEC), ``matrix_v0.parallel_env(...)`` |
| Actions | principal (leader): Box ``[-1, 1]^m``, onto the simplex: its mixed strategy ``x``; agent (follower): Discrete ``n``, the column |
| Observations | principal: Box ``[0, 1]^(rounds + 1)``, the round (one-hot); agent: Box ``[0, 1]^(m + K)``, the committed ``x`` (zeros before the commitment) and its type (one-hot) |
| Players | ``principal_0``, ``agent_0`` |
| Reference solver | ``stratgym.baselines.matrix.solve(game)`` (one LP per column / DOBSS): the strong Stackelberg value |
| Known optimum | default ``security_game()``: ``279/265 = 1.053`` (best Nash equilibrium 0.75, uniform commitment 1/3, best pure commitment 0) |

## Description

A Stackelberg matrix game (:mod:`stratgym.games.matrix`; Conitzer and Sandholm, EC 2006; Bayesian: Paruchuri et al.,
AAMAS 2008) played by two learners. Each round a follower type ``k`` is drawn from ``type_prior``; the leader
commits to a mixed strategy ``x`` over its ``m`` rows, and the follower picks a column ``j``.

``env()`` (AEC) plays each round in the Stackelberg order: the leader commits, then the follower, who sees ``x`` and
its type, answers. The Stackelberg value (the follower best-responds to ``x``, ties to the leader) is the reference
solver's. ``parallel_env()`` plays both moves at once: the follower sees only its type, so the game is the
simultaneous one, whose outcomes are Nash equilibria (on ``security_game()`` the best one gives the leader 0.75).

After each round both players' ``info`` reveals ``agent_payoffs`` ``(n,)``, ``x . B^k[:, j]`` for every column
``j``: the full-information feedback a no-regret follower (:mod:`stratgym.agents.followers`) learns from. Such a
follower's context is its type only (:meth:`MatrixRounds.follower_context`): it learns from the leader's play,
without seeing the commitment, the repeated-game setting of the no-regret-follower literature.

## Rewards

Expected payoffs over the leader's own row: leader ``x . A^k[:, j]``, follower ``x . B^k[:, j]``.

## Episode End

Both players terminate after ``rounds`` rounds (independent type draws). No truncation.

## Arguments

```python
>>> import numpy as np
>>> from stratgym.multiagent import matrix_v0
>>> from stratgym.games.matrix import conitzer_sandholm
>>> env = matrix_v0.env(game=conitzer_sandholm())
>>> env.reset(seed=0)
>>> env.step(np.zeros(2, dtype=np.float32))  # the leader commits to x = (1/2, 1/2)
>>> env.step(1)  # the follower plays column 1
>>> env.rewards["principal_0"], env.terminations["agent_0"]
(3.5, True)

```

| Parameter | Type | Default | Description |
|---|---|---|---|
| ``game`` | ``MatrixGame`` or ``None`` | ``None`` (``security_game()``) | the game instance |
| ``rounds`` | int >= 1 | 1 | rounds per episode |
| ``render_mode`` | ``"ansi"`` or ``None`` | ``None`` | a text line per round |

``info`` of a round: ``strategy`` ``(m,)``, ``type``, ``column``, ``principal_utility``, ``agent_utility``,
``agent_payoffs`` ``(n,)``.

## Version History

* v0: Initial version.
"""

from __future__ import annotations

import numpy as np
from gymnasium import spaces

from stratgym.envs.matrix import follower_observation
from stratgym.envs.spaces import simplex_action, simplex_box
from stratgym.games.matrix import MatrixGame, column_values, security_game
from stratgym.games.validation import as_positive_int, check_instance
from stratgym.multiagent.base import AGENT, PRINCIPAL, RoundGame, SequentialEnv, SimultaneousEnv

NAME = "matrix_v0"


class MatrixRounds(RoundGame):
    """The rounds of a :class:`~stratgym.games.matrix.MatrixGame` (see the module docstring)."""

    def __init__(self, game: MatrixGame | None = None, rounds: int = 1):
        self.game = security_game() if game is None else check_instance(game, MatrixGame, "game")
        self.rounds = as_positive_int(rounds, "rounds")
        m, n, K = self.game.n_leader_actions, self.game.n_follower_actions, self.game.n_types
        self.observation_spaces = {PRINCIPAL: spaces.Box(0.0, 1.0, (self.rounds + 1,), np.float32),
                                   AGENT: spaces.Box(0.0, 1.0, (m + K,), np.float32)}
        self.action_spaces = {PRINCIPAL: simplex_box(m), AGENT: spaces.Discrete(n)}
        #: Contexts of a full-information follower (:meth:`follower_context`): its types.
        self.n_follower_contexts = K
        self._round, self._type, self._strategy, self._last = 0, 0, None, {}

    def start(self, rng: np.random.Generator) -> None:
        self._round, self._strategy, self._last = 0, None, {}
        self._type = self._draw_type(rng)

    def _draw_type(self, rng: np.random.Generator) -> int:
        return int(rng.choice(self.game.n_types, p=self.game.type_prior)) if self.game.n_types > 1 else 0

    def observe(self, player: str) -> np.ndarray:
        if player == PRINCIPAL:
            obs = np.zeros(self.observation_spaces[PRINCIPAL].shape, dtype=np.float32)
            obs[self._round] = 1.0
            return obs
        strategy = np.zeros(self.game.n_leader_actions) if self._strategy is None else self._strategy
        return follower_observation(self.game, strategy, self._type)

    def follower_context(self, observation: np.ndarray) -> int:
        """A full-information follower's context in ``observation``: its type."""
        return int(np.argmax(observation[self.game.n_leader_actions:]))

    def principal_moves(self, action, rng: np.random.Generator) -> None:
        self._strategy = simplex_action(self.action_spaces[PRINCIPAL], action, name="principal action")

    def agent_moves(self, action, rng: np.random.Generator) -> tuple[float, float, dict]:
        column = self.check_agent_action(action)
        follower, leader = column_values(self.game, self._strategy)  # (K, n) each
        k = self._type
        principal, agent = float(leader[k, column]), float(follower[k, column])
        self._last = {"strategy": self._strategy, "type": k, "column": column, "principal_utility": principal,
                      "agent_utility": agent, "agent_payoffs": follower[k].copy()}
        self._round += 1
        self._strategy, self._type = None, self._draw_type(rng)
        return principal, agent, self._last

    def describe(self) -> str:
        if not self._last:
            return f"type {self._type}"
        return ", ".join(f"{key} {np.array2string(np.asarray(value), precision=3)}" for key, value in self._last.items()
                         if key != "agent_payoffs")


def env(game: MatrixGame | None = None, rounds: int = 1, render_mode: str | None = None) -> SequentialEnv:
    """The AEC env: each round the leader commits, then the follower (who sees ``x``) picks a column."""
    shell = SequentialEnv(MatrixRounds(game, rounds), render_mode)
    shell.metadata = dict(shell.metadata, name=NAME)
    return shell


def parallel_env(game: MatrixGame | None = None, rounds: int = 1, render_mode: str | None = None) -> SimultaneousEnv:
    """The parallel env: each round both move at once (the follower sees only its type)."""
    shell = SimultaneousEnv(MatrixRounds(game, rounds), render_mode)
    shell.metadata = dict(shell.metadata, name=NAME)
    return shell


def outcome(game: MatrixGame, strategy, columns) -> dict[str, float]:
    """Exact expected payoffs per round of a leader committed to ``strategy`` ``(m,)`` against a follower playing
    column ``columns[k]`` as type ``k`` (``(K,)``).

    Returns ``principal_value``, ``agent_value``, ``agent_best_value`` (every type best-responding to ``strategy``)
    and ``agent_regret`` (``agent_best_value - agent_value``, ``>= 0``).
    """
    strategy = np.asarray(strategy, dtype=np.float64)
    columns = np.asarray(columns, dtype=np.int64)
    if columns.shape != (game.n_types,) or columns.min() < 0 or columns.max() >= game.n_follower_actions:
        raise ValueError(f"columns must be {game.n_types} columns in 0..{game.n_follower_actions - 1}, got {columns}")
    follower, leader = column_values(game, strategy)
    types = np.arange(game.n_types)
    agent = float(game.type_prior @ follower[types, columns])
    best = float(game.type_prior @ follower.max(axis=1))
    return {"principal_value": float(game.type_prior @ leader[types, columns]), "agent_value": agent,
            "agent_best_value": best, "agent_regret": best - agent}
