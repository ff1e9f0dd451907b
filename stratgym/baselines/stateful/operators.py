"""What the agent ranks its options by: a linear map of ``theta`` (the response operators), and the per-round
units and leads every solver states its constraints in."""

from __future__ import annotations

import numpy as np

from stratgym.baselines.stateful.common import check_model, require_linear
from stratgym.games.behaviour import Rational
from stratgym.games.stateful import (TIE_TOL, StatefulGame, feature_slopes, marginal_value_operator,
                                     per_round_weights)

# ---------------------------------------------------------------------------------------------
# What the agent ranks its options by: a linear map of theta
# ---------------------------------------------------------------------------------------------

def response_operator(game: StatefulGame, model="rational") -> np.ndarray:
    """Linear map from ``theta`` to the values the agent ranks its options by, shape ``(T, d, T, n)``.

    ``c[tau, j] = sum_{t, i} A[tau, j, t, i] theta[t, i]``; in round ``tau`` the agent puts its budget on
    the principal's favourite argmax of ``c[tau]`` (or no effort if the maximum is ``<= 0``). Linear ``g`` only.

    * ``rational``: :func:`~stratgym.games.stateful.marginal_value_operator`, the full-horizon marginal values.
    * ``Lookahead(k)`` (``myopic``, ``forecasting``): block diagonal, round ``tau`` depends on ``theta_tau`` only:
      ``c_tau = (W^T theta_tau) * h_tau`` with ``h`` from :func:`~stratgym.games.stateful.per_round_weights`
      (``h = 1`` for myopic; for forecasting, the first-round marginal value of a constant plan over the
      remaining rounds, discounted from 1 as in :func:`~stratgym.games.stateful.respond_in_round`:
      ``h_tau = 1 + omega * sum_{u=1}^{T-1-tau} gamma^u p^(u-1)`` for 0-based ``tau``, which is the 1-based
      ``gamma^(t-1) + omega * sum_{u>t} gamma^(u-1) p^(u-1-t)`` divided by ``gamma^(t-1)``; a ``k``-round planner
      stops the sum at ``min(k, T - tau) - 1``). The current state drops out: with linear ``g`` it only adds a
      constant to the agent's utility.
    """
    require_linear(game, "response_operator")
    agent = check_model(model)
    if isinstance(agent, Rational):
        return marginal_value_operator(game)
    T = game.horizon
    operator = np.zeros((T, game.n_efforts, T, game.n_features))
    weights = per_round_weights(game, agent)
    for tau in range(T):
        operator[tau, :, tau, :] = game.conversion_matrix.T * weights[tau][:, None]
    return operator


def kkt_operator(game: StatefulGame, effort: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The concave agent's utility gradient at ``effort`` as a linear map of ``theta``, and the weights ``(T, n)``
    forced to 0.

    Where ``g'`` is infinite (sqrt at 0) on a feature that some effort type moves, any weight on it would give
    the agent an infinite marginal gain from moving effort there, so ``effort`` can only be optimal if that
    weight is 0: it is forced to 0, and the slope set to 0 (it then multiplies a zero weight).
    """
    slopes = feature_slopes(game, effort)
    infinite = ~np.isfinite(slopes)
    forced_zero = infinite & game.conversion_matrix.any(axis=1)
    return marginal_value_operator(game, slopes=np.where(infinite, 0.0, slopes)), forced_zero


def fold_operator(operator: np.ndarray, constant: bool) -> np.ndarray:
    """Re-express ``operator`` ``(T, d, T, n)`` in the free rules: ``(T, d, 1, n)`` for a constant rule."""
    return operator.sum(axis=2, keepdims=True) if constant else operator


def expand_rules(rules: np.ndarray, horizon: int) -> np.ndarray:
    """Free rules ``(R, n)`` (``R`` = 1 or T) as an assessment policy ``(T, n)``."""
    return np.repeat(rules, horizon // rules.shape[0], axis=0)


def best_over_rules(values: np.ndarray) -> float:
    """``max_theta values . theta`` over rules on the simplex, for ``values`` of shape ``(R, n)``."""
    return float(values.max(axis=-1).sum())


def operator_scales(operator: np.ndarray) -> np.ndarray:
    """Per round, the largest value any rules give an option of ``operator`` ``(T, d, R, n)``, shape ``(T,)``
    (1 where it is 0): the unit the solvers normalize each round's rows by, as the agent's ties do
    (:func:`~stratgym.games.stateful.round_scales`, which it equals for the response operators)."""
    largest = operator.max(axis=-1).sum(axis=-1).max(axis=-1)
    return np.where(largest > 0.0, largest, 1.0)


def round_leads(margin: float, scales: np.ndarray, ties: bool) -> np.ndarray:
    """Per round, how far (in units of the round's scale ``S_tau``) the chosen option must lead every other option,
    shape ``(T,)``: the one place where the solvers turn the agent's tie semantics into constraints.

    With ``ties`` (a linear-``g`` agent, :func:`~stratgym.games.stateful.favoured_option`): options within
    ``TIE_TOL`` of the best are tied and ties go to the principal, so with ``margin = 0`` the chosen option may
    trail by up to ``TIE_TOL`` (lead ``-TIE_TOL``), exactly the zone in which the agent's best response would take
    it; with ``margin > 0`` it must lead by ``margin`` beyond that zone (``margin / S_tau + TIE_TOL``), so that no
    other option is tied with it. Without ``ties`` (the concave agent's KKT conditions): ``margin / S_tau``.
    """
    if not ties:
        return margin / scales
    return np.full(scales.shape, -TIE_TOL) if margin == 0.0 else margin / scales + TIE_TOL


def option_combinations(n_efforts: int) -> list[np.ndarray]:
    """Per option ``o`` (types, then no effort), the combinations ``a`` ``(m, d)`` of the agent's values with
    "``o`` is chosen  =>  ``a . c_tau <= -l_tau``": type ``o`` leads every other type (``e_k - e_o``) and no effort
    (``-e_o``); no effort leads every type (``e_k``)."""
    eye = np.eye(n_efforts)
    combos = [np.vstack([np.delete(eye, o, axis=0) - eye[o], -eye[o]]) for o in range(n_efforts)]
    return combos + [eye]
