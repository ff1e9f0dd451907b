"""Reference values of the stateful envs (:mod:`stratgym.envs.stateful`), named by their registry entries.

* principal envs: the exact Stackelberg optimum against the env's agent and the reference rules (best constant rule,
  the one-round optimal rule repeated, uniform weights), all from :mod:`stratgym.baselines.stateful`;
* agent env: the exact best-response utility against the principal plan of each evaluation episode, and the myopic,
  forecasting and no-effort agents' utilities against the same plans.

The env's agent is read as its behaviour object (``env.unwrapped.agent``); exact references exist for the game's
own agents, ``Rational()`` and ``Lookahead(k)`` (any ``k``).
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from stratgym.agents.evaluate import score_basis
from stratgym.agents.references import (AGENT_ROBUST_NOTE, ROBUST_MARGIN, NoExactReference, ReferenceValues,
                                        zero_action_value)
from stratgym.baselines.stateful import best_constant_rule, repeated_one_round_rule, solve, uniform_weights
from stratgym.games.behaviour import Lookahead, Rational, behaviour_name
from stratgym.games.stateful import best_response, rollout, round_scales


def _robust_stateful(game, agent) -> tuple[float | None, str]:
    margin = ROBUST_MARGIN * float(round_scales(game, agent).min())
    try:
        value = solve(game, agent=agent, margin=margin).principal_value
    except ValueError as error:  # no rule achieves the margin (or concave g, where margins are not supported)
        return None, f"none at margin {margin:.3g}: {error}"
    return float(value), (f"solve(game, {agent.name!r}, margin={margin:.3g}) ({ROBUST_MARGIN:g} x the smallest "
                          "round scale)")


def principal_reference(env: gym.Env, n_episodes: int, seed: int) -> ReferenceValues:
    """Both stateful principal envs: the exact optimum against the env's agent, which must be one the solvers handle
    (``Rational()``, ``Lookahead(k)``: the game's own agents, whose best response the solvers compute)."""
    agent, game = env.unwrapped.agent, env.unwrapped.game
    if type(agent) not in (Rational, Lookahead):
        raise NoExactReference(f"exact references exist for the game's own agents (Rational(), Lookahead(k)) only, "
                               f"got the {behaviour_name(agent)!r} agent {agent!r}")
    baselines = {"best constant rule": best_constant_rule(game, agent).principal_value,
                 "one-round rule repeated": repeated_one_round_rule(game, agent).principal_value,
                 "uniform rule": uniform_weights(game, agent).principal_value}
    return ReferenceValues(float(solve(game, agent=agent).principal_value),
                           {name: float(v) for name, v in baselines.items()}, zero_action_value(env, 1, seed),
                           *_robust_stateful(game, agent), score_basis(env))


def agent_reference(env: gym.Env, n_episodes: int, seed: int) -> ReferenceValues:
    game = env.unwrapped.game
    models = {"optimum": Rational(), "myopic agent": Lookahead(1), "forecasting agent": Lookahead(None)}
    totals = dict.fromkeys([*models, "no effort"], 0.0)
    for episode in range(n_episodes):
        plan = env.reset(seed=seed + episode)[1]["theta"]
        for name, model in models.items():
            totals[name] += float(rollout(game, plan, best_response(game, plan, model).effort).agent_utility)
        totals["no effort"] += float(rollout(game, plan, np.zeros((game.horizon, game.n_efforts))).agent_utility)
    means = {name: total / n_episodes for name, total in totals.items()}
    optimum = means.pop("optimum")
    return ReferenceValues(optimum, means, zero_action_value(env, n_episodes, seed, game.discount), optimum,
                   AGENT_ROBUST_NOTE, score_basis(env), game.discount, n_episodes)
