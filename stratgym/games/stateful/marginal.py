"""Marginal values (fact 1 of the model): the agent's utility gradient in the effort policy, and the per-round
weights of the myopic and forecasting agents."""

from __future__ import annotations

import numpy as np

from stratgym.games.stateful.dynamics import accumulated_effort, discount_factors
from stratgym.games.stateful.model import CONVERSIONS, StatefulGame, per_round_agent
from stratgym.games.stateful.policies import checked_policies

# ---------------------------------------------------------------------------------------------
# Marginal values (fact 1 of the model): the agent's utility gradient in the effort policy
# ---------------------------------------------------------------------------------------------

def carry_forward(game: StatefulGame, per_round: np.ndarray) -> np.ndarray:
    """``c_tau = v_tau + omega * sum_{t > tau} p^(t-1-tau) v_t`` for ``v`` of shape ``(..., T, d)``, by suffix sums."""
    out = np.empty_like(per_round)
    later = np.zeros(per_round.shape[:-2] + per_round.shape[-1:])
    times = np.multiply if np.isfinite(per_round).all() else zero_safe_times  # only sqrt's slope at 0 needs 0 * inf = 0
    for tau in range(game.horizon - 1, -1, -1):
        out[..., tau, :] = per_round[..., tau, :] + times(game.retention, later)
        later = per_round[..., tau, :] + times(game.persistence, later)
    return out


def zero_safe_times(factor: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``factor * values`` with ``0 * inf = 0``: sqrt's slope is infinite at 0, but a zero factor (no
    retention, no persistence, no weight, no conversion) means that slope never reaches the agent."""
    with np.errstate(invalid="ignore"):
        return np.where(factor > 0, factor * values, 0.0)


def feature_slopes(game: StatefulGame, effort, initial_state=None) -> np.ndarray:
    """``g'(W (s_t + e_t))`` for every round, shape ``(..., T, n)`` (all ones for linear ``g``; may be inf for sqrt at 0)."""
    effort = np.asarray(effort, dtype=np.float64)
    if game.is_linear:
        return np.ones(effort.shape[:-1] + (game.n_features,))
    return CONVERSIONS[game.conversion][1](accumulated_effort(game, effort, initial_state) @ game.conversion_matrix.T)


def marginal_values(game: StatefulGame, theta, effort=None, initial_state=None) -> np.ndarray:
    """The agent's marginal utility of effort, shape ``(..., T, d)``: ``dU_A / de_tau``.

    For linear ``g`` this is ``c_tau(theta) = gamma^(tau-1) W^T theta_tau + sum_{t>tau} gamma^(t-1)
    (omega * p^(t-1-tau)) * W^T theta_t`` and ``effort`` is not needed; for concave ``g`` it is the
    gradient at ``effort`` (required). Leading batch axes of ``theta``, ``effort`` and ``initial_state`` ``(..., d)``
    broadcast. Cost ``O(T n d)``. ``ValueError`` naming the argument for bad input.
    """
    if effort is None and not game.is_linear:
        raise ValueError(f"effort is required with concave g (conversion={game.conversion!r}): the gradient depends "
                         "on where it is taken")
    return unchecked_marginal_values(game, *checked_policies(game, theta, effort, initial_state, need_effort=False))


def unchecked_marginal_values(game: StatefulGame, theta: np.ndarray, effort: np.ndarray | None = None,
                              initial_state=None) -> np.ndarray:
    """:func:`marginal_values` without checks: :func:`marginal_value_operator` feeds it basis vectors (not rules) and
    the concave solver its iterates (nudged off 0, possibly a hair over the budget)."""
    discounts = discount_factors(game)
    if game.is_linear:
        return carry_forward(game, discounts[:, None] * (theta @ game.conversion_matrix))
    weights = zero_safe_times(theta, feature_slopes(game, effort, initial_state))
    per_round = zero_safe_times(game.conversion_matrix, weights[..., None]).sum(axis=-2)
    return carry_forward(game, discounts[:, None] * per_round)


def marginal_value_operator(game: StatefulGame, slopes: np.ndarray | None = None) -> np.ndarray:
    """The linear map ``theta -> marginal values``, shape ``(T, d, T, n)``: ``c[tau, j] = sum_{t,i} A[tau, j, t, i] theta[t, i]``.

    ``slopes`` ``(T, n)`` are the feature slopes ``g'`` at a fixed effort policy (KKT gradient of a
    concave game): ``A[tau, j, t, i]`` is the linear-``g`` entry times ``slopes[t, i]``. ``None`` means
    linear ``g``. An infinite slope gives infinite entries where feature ``i`` of round ``t`` depends on
    effort ``(tau, j)`` and 0 elsewhere (``0 * inf = 0``); what to do with them is the caller's choice.
    """
    T, n, d = game.horizon, game.n_features, game.n_efforts
    basis = np.eye(T * n).reshape(T * n, T, n)
    linear = np.moveaxis(unchecked_marginal_values(game.replace(conversion="linear"), basis), 0, -1).reshape(T, d, T, n)
    return linear if slopes is None else zero_safe_times(linear, np.asarray(slopes, dtype=np.float64))


def per_round_weights(game: StatefulGame, model) -> np.ndarray:
    """Per-round effort weights ``h`` ``(T, d)`` of a linear game: the agent's marginal value is ``h_t * W^T theta_t``.

    A ``Lookahead(k)`` agent (:mod:`stratgym.games.behaviour`) plans ``r_t = min(k, T - t)`` rounds in round ``t``
    (0-based) with the rule of round ``t`` assumed in force, discounting rescaled to start at round ``t``:
    ``h_t = 1 + omega * sum_{u=1}^{r_t - 1} gamma^u p^(u-1)``, i.e. ``c`` of a constant plan over those rounds.
    ``myopic`` (``k = 1``): ``h_t = 1``; ``forecasting`` (``k = None``): ``r_t = T - t``, the remaining horizon.
    """
    agent = per_round_agent(model)
    # carried[r - 1] = sum_{u=1}^{r-1} gamma^u p^(u-1) for a plan of r rounds: c_1 = 0, c_{r+1} = gamma (1 + p c_r).
    carried = [np.zeros(game.n_efforts)]
    for _ in range(game.horizon - 1):
        carried.append(game.discount * (1.0 + game.persistence * carried[-1]))
    return np.array([1.0 + game.retention * carried[agent.rounds(game, t) - 1] for t in range(game.horizon)])
