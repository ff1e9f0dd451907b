"""The recourse persuasion game with both sides learning (PettingZoo).

| | |
|---|---|
| Creation | ``from stratgym.multiagent import persuasion_v0``; ``persuasion_v0.env(game=None, rounds=1)`` (AEC), ``persuasion_v0.parallel_env(...)`` |
| Actions | principal: Discrete ``A``, the recommended action; agent: Discrete ``A``, the action taken |
| Observations | principal: Box ``[0, 1]^R``, the region of this round's rule (one-hot); agent: Box ``[0, 1]^(A + 1)``, the recommendation heard (one-hot; the last entry: none yet) |
| Players | ``principal_0``, ``agent_0`` |
| Reference solver | ``stratgym.baselines.signaling.optimal_scheme(game)`` (the signaling LP: the principal commits to its recommendation probabilities) |
| Known optimum | default ``prosecutor()``: 0.6 (full revelation 0.3; no information 0, which is also the only outcome of the game without commitment) |

## Description

Harris et al., "Bayesian Persuasion for Algorithmic Recourse" (NeurIPS 2022), with a learning decision subject.
Each round a rule ``theta`` is drawn from the prior (its equivalence region, with the region masses: the same law,
``stratgym.games.persuasion``); the principal sees the region and recommends an action; the agent, who never sees
the rule, acts. A stochastic principal policy *is* a signaling scheme ``q_s(a)``; the agent's policy maps each
recommendation to an action. The Stackelberg value (the principal commits to ``q``, the agent best-responds to its
posterior) is the signaling LP's. Without commitment this is a cheap-talk game: on ``prosecutor()`` the principal
wants the action recommended in every region, so no informative recommendation survives, and its only equilibrium
outcome is the no-information one (value 0).

``env()`` (AEC) plays each round in the Stackelberg order: the principal recommends, then the agent, who hears the
recommendation, acts. ``parallel_env()`` plays both moves at once: the agent hears nothing (its observation is
"none yet"), so it can only best-respond to the prior: the no-information outcome is the best it can reach.

After each round both players' ``info`` reveals ``agent_payoffs`` ``(A,)``, what every action would have given
the agent under this round's rule (the decision is public once made): the full-information feedback a no-regret
follower (:mod:`stratgym.agents.followers`) learns from.

## Rewards

Principal: ``u_P(action taken, region)``; agent: ``u_A(action taken, region) = 1{approved} - c(a)``.

## Episode End

Both players terminate after ``rounds`` rounds (independent draws of the rule). No truncation.

## Arguments

```python
>>> from stratgym.multiagent import persuasion_v0
>>> env = persuasion_v0.env()
>>> env.reset(seed=0)
>>> env.step(1)  # the principal recommends acting
>>> env.step(1)  # the agent acts
>>> env.infos["agent_0"]["action"], env.terminations["agent_0"]
(1, True)

```

| Parameter | Type | Default | Description |
|---|---|---|---|
| ``game`` | ``PersuasionGame`` or ``None`` | ``None`` (``prosecutor()``) | the game instance |
| ``regions`` | ``Regions`` or ``None`` | ``None`` (computed) | precomputed ``equivalence_regions(game)`` |
| ``rounds`` | int >= 1 | 1 | rounds per episode |
| ``render_mode`` | ``"ansi"`` or ``None`` | ``None`` | a text line per round |

``info`` of a round: ``region``, ``recommendation``, ``action``, ``principal_utility``, ``agent_utility``,
``agent_payoffs`` ``(A,)``.

## Version History

* v0: Initial version.
"""

from __future__ import annotations

import numpy as np
from gymnasium import spaces

from stratgym.envs.spaces import discrete_action
from stratgym.games.validation import as_positive_int, check_instance
from stratgym.games.persuasion import PersuasionGame, Regions, equivalence_regions, evaluate_scheme, prosecutor
from stratgym.multiagent.base import AGENT, PRINCIPAL, RoundGame, SequentialEnv, SimultaneousEnv

NAME = "persuasion_v0"


class PersuasionRounds(RoundGame):
    """The rounds of a :class:`~stratgym.games.persuasion.PersuasionGame` (see the module docstring)."""

    def __init__(self, game: PersuasionGame | None = None, regions: Regions | None = None, rounds: int = 1):
        self.game = prosecutor() if game is None else check_instance(game, PersuasionGame, "game")
        if regions is None:
            regions = equivalence_regions(self.game)
        check_instance(regions, Regions, "regions").check_game(self.game)
        self.regions = regions
        self.rounds = as_positive_int(rounds, "rounds")
        R, A = regions.n_regions, regions.n_actions
        self.masses = regions.masses / regions.masses.sum()
        self.observation_spaces = {PRINCIPAL: spaces.Box(0.0, 1.0, (R,), np.float32),
                                   AGENT: spaces.Box(0.0, 1.0, (A + 1,), np.float32)}
        self.action_spaces = {PRINCIPAL: spaces.Discrete(A), AGENT: spaces.Discrete(A)}
        #: Contexts of a full-information follower (:meth:`follower_context`): the recommendations, and none.
        self.n_follower_contexts = A + 1
        self._region, self._recommendation, self._last = 0, None, {}

    def start(self, rng: np.random.Generator) -> None:
        self._region, self._recommendation, self._last = self._draw_region(rng), None, {}

    def _draw_region(self, rng: np.random.Generator) -> int:
        return int(rng.choice(self.regions.n_regions, p=self.masses))

    def observe(self, player: str) -> np.ndarray:
        obs = np.zeros(self.observation_spaces[player].shape, dtype=np.float32)
        if player == PRINCIPAL:
            obs[self._region] = 1.0
        else:
            obs[self.regions.n_actions if self._recommendation is None else self._recommendation] = 1.0
        return obs

    def follower_context(self, observation: np.ndarray) -> int:
        """A full-information follower's context in ``observation``: the recommendation heard (``A``: none)."""
        return int(np.argmax(observation))

    def principal_moves(self, action, rng: np.random.Generator) -> None:
        self._recommendation = discrete_action(self.action_spaces[PRINCIPAL], action, name="principal action")

    def agent_moves(self, action, rng: np.random.Generator) -> tuple[float, float, dict]:
        taken = self.check_agent_action(action)
        region = self._region
        principal = float(self.regions.principal_payoffs[region, taken])
        agent = float(self.regions.agent_payoffs[region, taken])
        self._last = {"region": region, "recommendation": self._recommendation, "action": taken,
                      "principal_utility": principal, "agent_utility": agent,
                      "agent_payoffs": self.regions.agent_payoffs[region].copy()}
        self._region, self._recommendation = self._draw_region(rng), None
        return principal, agent, self._last

    def describe(self) -> str:
        if not self._last:
            return f"region {self._region}"
        return ", ".join(f"{key} {value}" for key, value in self._last.items() if key != "agent_payoffs")


def env(game: PersuasionGame | None = None, regions: Regions | None = None, rounds: int = 1,
        render_mode: str | None = None) -> SequentialEnv:
    """The AEC env: each round the principal recommends, then the agent (who hears it) acts."""
    shell = SequentialEnv(PersuasionRounds(game, regions, rounds), render_mode)
    shell.metadata = dict(shell.metadata, name=NAME)
    return shell


def parallel_env(game: PersuasionGame | None = None, regions: Regions | None = None, rounds: int = 1,
                 render_mode: str | None = None) -> SimultaneousEnv:
    """The parallel env: each round both move at once (the agent hears no recommendation)."""
    shell = SimultaneousEnv(PersuasionRounds(game, regions, rounds), render_mode)
    shell.metadata = dict(shell.metadata, name=NAME)
    return shell


def outcome(regions: Regions, scheme, responses, informed: bool = True) -> dict[str, float]:
    """Exact expected payoffs per round of a principal playing ``scheme`` ``(R, A)`` (its recommendation
    probabilities in each region) against an agent answering recommendation ``a`` with ``responses[a]`` ``(A,)``.

    Returns ``principal_value``, ``agent_value``, ``agent_best_value`` (the best the agent can do with its
    information: the posterior best response to ``scheme`` when ``informed``, i.e. it hears the recommendation,
    else the best action against the prior) and ``agent_regret`` (``agent_best_value - agent_value``, ``>= 0``).
    """
    evaluation = evaluate_scheme(regions, scheme)
    scheme = np.asarray(scheme, dtype=np.float64)
    responses = np.asarray(responses, dtype=np.int64)
    if responses.shape != (regions.n_actions,) or responses.min() < 0 or responses.max() >= regions.n_actions:
        raise ValueError(f"responses must be {regions.n_actions} actions in 0..{regions.n_actions - 1}, got {responses}")
    masses = regions.masses / regions.masses.sum()
    joint = masses[:, None] * scheme  # P(region s, recommendation a)
    principal = float((joint * regions.principal_payoffs[:, responses]).sum())
    agent = float((joint * regions.agent_payoffs[:, responses]).sum())
    best = evaluation.agent_value if informed else float((masses @ regions.agent_payoffs).max())
    return {"principal_value": principal, "agent_value": agent, "agent_best_value": float(best),
            "agent_regret": float(best - agent)}
