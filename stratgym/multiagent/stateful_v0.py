"""The stateful principal–agent game with both sides learning (PettingZoo).

| | |
|---|---|
| Creation | ``from stratgym.multiagent import stateful_v0``; ``stateful_v0.env(game=None)`` (AEC), ``stateful_v0.parallel_env(game=None)`` |
| Actions | principal: Box ``[-1, 1]^n`` onto the simplex, this round's rule ``theta_t``; agent: Box ``[-1, 1]^(d + 1)`` onto the simplex, ``B`` times the first ``d`` weights is the effort ``e_t`` |
| Observations | principal: Box ``[0, 1]^(T + 1)``, the round (one-hot); agent: Box ``[0, 1]^(T + 1 + d + n)``, the round, its state, this round's rule (0 until published) |
| Players | ``principal_0``, ``agent_0`` |
| Reference solver | ``stratgym.baselines.stateful.solve(game, "rational")`` (the principal commits to a plan, the agent best-responds to it over the whole horizon) |
| Known optimum | default ``classroom_project(5)``: ``U_P* = 5`` (the uniform plan: 3); ``classroom(T)``: ``T - 1`` |

## Description

Harris, Heidari and Wu, "Stateful Strategic Regression" (NeurIPS 2021), with a learning agent instead of a
best-responding one. Each of the ``T`` rounds the principal publishes a rule ``theta_t`` and the agent, in state
``s_t``, spends its effort ``e_t``; it is scored ``y_t = theta_t . g(W (s_t + e_t))`` and its state moves to
``s_{t+1} = p * s_t + omega * e_t`` (``stratgym.games.stateful``). The principal observes only the round, so its
policy is a plan ``theta_1..theta_T`` (an open-loop commitment, as in the paper); the agent sees this round's
rule, never the later ones, and has to learn them from experience, which is what makes studying for later
rounds a learned belief rather than a given.

``env()`` (AEC) plays each round in the Stackelberg order: the principal, then the agent, who observes
``theta_t``. ``parallel_env()`` plays the same rounds simultaneously: the agent moves without this round's rule
(its observation's rule block is 0), so ``theta_t`` cannot change ``e_t``. The principal's payoff ``lambda . e_t``
does not depend on its own rule, so in that game every plan is a best response and its Nash equilibria are
"the agent best-responds to whatever plan": the Stackelberg optimum is only an equilibrium by accident.

## Rewards

Principal: ``lambda . e_t`` per round (its return is ``U_P``). Agent: the score ``y_t``; with the RL discount
set to the game's ``gamma`` its return is ``U_A``. Both arrive when the agent has moved.

## Episode End

Both players terminate after round ``T``. No truncation.

## Arguments

```python
>>> import numpy as np
>>> from stratgym.multiagent import stateful_v0
>>> env = stateful_v0.env()
>>> env.reset(seed=0)
>>> env.step(np.array([-1, -1, 1], dtype=np.float32))      # the principal grades the project only
>>> env.step(np.array([-1, 1, -1, -1], dtype=np.float32))  # the agent studies
>>> env.rewards
{'principal_0': 1.0, 'agent_0': 0.25}

```

| Parameter | Type | Default | Description |
|---|---|---|---|
| ``game`` | ``StatefulGame`` or ``None`` | ``None`` (``classroom_project()``) | the game instance |
| ``render_mode`` | ``"ansi"`` or ``None`` | ``None`` | a text line per round |

``info`` of a round (both players): ``rule`` ``(n,)``, ``state`` ``s_t`` ``(d,)``, ``effort`` ``(d,)``,
``features`` ``(n,)``, ``score``.

## Version History

* v0: Initial version.
"""

from __future__ import annotations

import numpy as np
from gymnasium import spaces

from stratgym.envs.spaces import simplex_action, simplex_box
from stratgym.envs.stateful import state_bounds
from stratgym.games.validation import check_instance
from stratgym.games.stateful import StatefulGame, best_response, classroom_project, next_state, observe, rollout
from stratgym.multiagent.base import AGENT, PRINCIPAL, RoundGame, SequentialEnv, SimultaneousEnv, play_episode

NAME = "stateful_v0"


class StatefulRounds(RoundGame):
    """The rounds of a :class:`~stratgym.games.stateful.StatefulGame` (see the module docstring)."""

    def __init__(self, game: StatefulGame | None = None):
        self.game = classroom_project() if game is None else check_instance(game, StatefulGame, "game")
        T, n, d = self.game.horizon, self.game.n_features, self.game.n_efforts
        self.rounds = T
        bound = state_bounds(self.game).max(axis=0)
        self._state_scale = np.where(bound > 0, 1.0 / np.where(bound > 0, bound, 1.0), 1.0)
        self.observation_spaces = {
            PRINCIPAL: spaces.Box(0.0, 1.0, (T + 1,), np.float32),
            AGENT: spaces.Box(0.0, 1.0, (T + 1 + d + n,), np.float32)}
        self.action_spaces = {PRINCIPAL: simplex_box(n), AGENT: simplex_box(d + 1)}
        self._round, self._state, self._rule, self._last = 0, self.game.initial_state, None, {}

    def start(self, rng: np.random.Generator) -> None:
        self._round, self._state, self._rule, self._last = 0, self.game.initial_state, None, {}

    def observe(self, player: str) -> np.ndarray:
        T, d = self.game.horizon, self.game.n_efforts
        obs = np.zeros(self.observation_spaces[player].shape, dtype=np.float32)
        obs[self._round] = 1.0
        if player == AGENT:
            obs[T + 1:T + 1 + d] = np.minimum(self._state * self._state_scale, 1.0)
            if self._rule is not None:
                obs[T + 1 + d:] = self._rule
        return obs

    def principal_moves(self, action, rng: np.random.Generator) -> None:
        self._rule = simplex_action(self.action_spaces[PRINCIPAL], action, name="principal action")

    def check_agent_action(self, action) -> np.ndarray:
        return simplex_action(self.action_spaces[AGENT], action, name="agent action")[:-1] * self.game.budget

    def agent_moves(self, action, rng: np.random.Generator) -> tuple[float, float, dict]:
        effort = self.check_agent_action(action)
        game, state, rule = self.game, self._state, self._rule
        features = observe(game, state, effort)
        score = float(rule.dot(features))
        self._state = next_state(game, state, effort)
        self._round += 1
        self._rule = None
        self._last = {"rule": rule, "state": state.copy(), "effort": effort, "features": features, "score": score}
        return float(game.effort_value.dot(effort)), score, self._last

    def describe(self) -> str:
        if not self._last:
            return "no round played"
        return ", ".join(f"{key} {np.array2string(np.asarray(value), precision=3)}" for key, value in self._last.items())


def env(game: StatefulGame | None = None, render_mode: str | None = None) -> SequentialEnv:
    """The AEC env: each round the principal publishes a rule, then the agent (who sees it) spends its effort."""
    shell = SequentialEnv(StatefulRounds(game), render_mode)
    shell.metadata = dict(shell.metadata, name=NAME)
    return shell


def parallel_env(game: StatefulGame | None = None, render_mode: str | None = None) -> SimultaneousEnv:
    """The parallel env: each round both move at once (the agent does not see this round's rule)."""
    shell = SimultaneousEnv(StatefulRounds(game), render_mode)
    shell.metadata = dict(shell.metadata, name=NAME)
    return shell


def outcome(shell: SequentialEnv | SimultaneousEnv, policies: dict, seed: int = 0) -> dict[str, float]:
    """Where two policies end up on ``shell``'s game, exactly (the game is deterministic): one episode with the
    deterministic ``policies`` (``{player: obs -> action}``).

    Returns ``principal_value`` (``U_P``), ``agent_value`` (``U_A``), ``agent_best_value`` (``U_A`` of the exact
    full-horizon best response to the plan the principal played, principal-favouring ties: the principal observes
    only the round, so that plan *is* its policy) and ``agent_regret`` (their difference, ``>= 0`` up to round-off),
    ``best_response_principal_value`` (``U_P`` had the agent best-responded) and ``plan`` ``(T, n)``.
    """
    game = shell.game.game
    infos = play_episode(shell, policies, seed)
    plan = np.array([info["rule"] for info in infos])
    effort = np.array([info["effort"] for info in infos])
    played = rollout(game, plan, effort)
    best = rollout(game, plan, best_response(game, plan, "rational").effort)
    return {"principal_value": float(played.principal_utility), "agent_value": float(played.agent_utility),
            "agent_best_value": float(best.agent_utility),
            "agent_regret": float(best.agent_utility - played.agent_utility),
            "best_response_principal_value": float(best.principal_utility), "plan": plan}
