"""Reference values of the matrix envs (:mod:`stratgym.envs.matrix`), named by their registry entries.

* commitment env: the strong Stackelberg optimum (:func:`stratgym.baselines.matrix.solve`) against the best pure
  commitment, the uniform commitment and the leader's best Nash equilibrium value (the game played simultaneously,
  :func:`~stratgym.baselines.matrix.nash_equilibria`; left out when support enumeration is too large), all exact;
* follower env: the best responses' exact expected payoff against the committed strategy, with the uniformly random
  column and the leader's favourite column (a follower who obeys the leader) as baselines, exact too.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from stratgym.agents.evaluate import score_basis
from stratgym.agents.references import (AGENT_ROBUST_NOTE, ROBUST_MARGIN, NoExactReference, ReferenceValues,
                                        zero_action_value)
from stratgym.baselines.matrix import best_pure_commitment, nash_equilibria, solve, uniform_commitment
from stratgym.games.behaviour import behaviour_name, exact_methods_of
from stratgym.games.matrix import column_values


def _robust(game) -> tuple[float | None, str]:
    try:
        value = solve(game, margin=ROBUST_MARGIN).principal_value
    except ValueError as error:  # e.g. duplicate columns: no strict incentive exists
        return None, f"none at margin {ROBUST_MARGIN:g}: {error}"
    return float(value), f"solve(game, margin={ROBUST_MARGIN:g}) (units of each type's max |B|)"


def commitment_reference(env: gym.Env, n_episodes: int, seed: int) -> ReferenceValues:
    """``MatrixCommitment-v0``: exact references against the rational follower only."""
    unwrapped = env.unwrapped
    game = unwrapped.game
    if not exact_methods_of(unwrapped.agent, game):
        raise NoExactReference(f"exact references exist for the rational follower (Rational()) only, got the "
                               f"{behaviour_name(unwrapped.agent)!r} follower {unwrapped.agent!r}")
    baselines = {"best pure commitment": best_pure_commitment(game).principal_value,
                 "uniform commitment": uniform_commitment(game).principal_value}
    try:
        baselines["best Nash equilibrium"] = max(e.leader_value for e in nash_equilibria(game))
    except ValueError:  # too many supports to enumerate, or none of equal size (a degenerate game)
        pass
    return ReferenceValues(float(solve(game).principal_value), {name: float(v) for name, v in baselines.items()},
                           zero_action_value(env, 1, seed), *_robust(game), score_basis(env))


def follower_reference(env: gym.Env, n_episodes: int, seed: int) -> ReferenceValues:
    """``MatrixFollower-v0``: the exact value of best-responding to the committed strategy, and two baselines."""
    unwrapped = env.unwrapped
    game, strategy = unwrapped.game, unwrapped.strategy
    values, leader = column_values(game, strategy)  # (K, n) each
    obedient = leader.argmax(axis=1)  # the column the leader likes best against its own commitment
    optimum = float(game.type_prior @ values.max(axis=1))
    uniform = float(game.type_prior @ values.mean(axis=1))
    baselines = {"uniformly random column": uniform,
                 "the leader's favourite column": float(game.type_prior @ values[np.arange(game.n_types), obedient])}
    return ReferenceValues(optimum, baselines, uniform, optimum, AGENT_ROBUST_NOTE, score_basis(env))
