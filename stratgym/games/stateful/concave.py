"""The rational agent's best response in a concave game (SLSQP, then Frank–Wolfe to a certified duality gap),
and the principal-favouring tie-break among equally good efforts."""

from __future__ import annotations

import warnings

import numpy as np
from scipy.optimize import linprog, minimize

from stratgym.games.stateful.dynamics import play, rollout_map
from stratgym.games.stateful.marginal import unchecked_marginal_values, zero_safe_times
from stratgym.games.stateful.model import StatefulGame, derived
from stratgym.games.stateful.policies import (Response, check_assessment_policy, check_effort_policy, check_state,
                                              clip_rows)
from stratgym.games.stateful.tiebreak import favoured_option


def frank_wolfe_gap(game: StatefulGame, theta, effort, initial_state=None) -> float:
    """Frank–Wolfe certificate ``max_{v in E_B^T} grad . (v - e)``: an upper bound on ``U_A* - U_A(e)`` (concave ``U_A``)
    for one policy pair ``theta`` ``(T, n)``, ``effort`` ``(T, d)``; ``initial_state`` ``(d,)`` overrides ``s_1``."""
    theta = check_assessment_policy(game, theta, batch=False)
    effort = check_effort_policy(game, effort, batch=False)
    state = None if initial_state is None else check_state(game, initial_state, "initial_state", batch=False)
    return _frank_wolfe_gap(game, theta, effort, state)


def _frank_wolfe_gap(game: StatefulGame, theta: np.ndarray, effort: np.ndarray, initial_state=None) -> float:
    """:func:`frank_wolfe_gap` of checked arguments."""
    gradient = unchecked_marginal_values(game, theta, effort, initial_state)
    vertex = game.budget * np.maximum(gradient.max(axis=-1), 0.0)
    return float(np.sum(vertex - np.sum(zero_safe_times(effort, gradient), axis=-1)))


def concave_best_response(game: StatefulGame, theta: np.ndarray, state: np.ndarray, gap_tol: float) -> Response:
    """The rational agent's best response to a checked ``theta`` ``(T, n)`` from ``state`` ``(d,)`` in a concave game.

    SLSQP on the concave program over ``E_B^T``, then Frank–Wolfe steps (exact line search) until the Frank–Wolfe
    gap, a bound on the agent's lost utility, is at most ``gap_tol`` (a ``RuntimeWarning`` if 10 000 steps do not
    get there); then the principal's favourite among the equally good efforts (:func:`_principal_favourite`).
    Returns the effort ``(T, d)`` and its certified gap (utility units).
    """
    T, d, B = game.horizon, game.n_efforts, game.budget

    def utility(flat):
        return float(play(game, theta, flat.reshape(T, d).clip(0.0), state).agent_utility)

    def gradient(flat):
        # sqrt's slope is infinite at 0: evaluate just inside the set and cap it, so SLSQP gets finite numbers.
        slopes = unchecked_marginal_values(game, theta, flat.reshape(T, d).clip(1e-12), state)
        return np.nan_to_num(slopes, posinf=1e12).ravel()

    start = np.full(T * d, B / (d + 1))
    # SLSQP converges fast on these small smooth programs; the Frank–Wolfe gap then certifies the result.
    result = minimize(lambda x: -utility(x), start, jac=lambda x: -gradient(x), method="SLSQP",
                      bounds=[(0.0, B)] * (T * d),
                      constraints=[{"type": "ineq", "fun": lambda x: B - x.reshape(T, d).sum(axis=1),
                                    "jac": lambda x: -np.kron(np.eye(T), np.ones(d))}],
                      options={"maxiter": 1000, "ftol": 1e-14})
    effort = clip_rows(result.x.reshape(T, d), B, exact=False)
    if not np.all(np.isfinite(effort)):
        effort = start.reshape(T, d)
    gap = _frank_wolfe_gap(game, theta, effort, state)
    for step in range(10_000):
        if gap <= gap_tol:
            break
        gradient_now = unchecked_marginal_values(game, theta, effort.clip(1e-12), state)
        vertex = favoured_option(game, np.nan_to_num(gradient_now, posinf=1e12), 1.0, tie_tol=0.0)
        direction = vertex - effort
        # Exact line search on the concave 1-d restriction by golden section.
        low, high = 0.0, 1.0
        for _ in range(60):
            a, b = high - 0.618 * (high - low), low + 0.618 * (high - low)
            if utility((effort + a * direction).ravel()) < utility((effort + b * direction).ravel()):
                low = a
            else:
                high = b
        effort = effort + 0.5 * (low + high) * direction
        gap = _frank_wolfe_gap(game, theta, effort, state)
    if gap > gap_tol:
        warnings.warn(f"concave best response stopped at duality gap {gap:.3g} > gap_tol={gap_tol:.3g}",
                      RuntimeWarning, stacklevel=3)
    favourite = _principal_favourite(game, theta, effort)
    # The agent's utility bound U* <= U_A(effort) + gap certifies the favourite too, up to what it gave up.
    lost = max(utility(effort.ravel()) - utility(favourite.ravel()), 0.0)
    return Response(favourite, max(gap, 0.0) + lost)


#: Principal value (relative to ``T B max|lambda|``, the most a policy can be worth) a tie-break must gain to
#: replace the agent's solution.
_TIE_BREAK_GAIN = 1e-9


def _principal_favourite(game: StatefulGame, theta: np.ndarray, effort: np.ndarray) -> np.ndarray:
    """Among effort policies ``(T, d)`` that give every feature ``theta`` weighs the value ``effort`` gives it, one the
    principal values most (an LP, HiGHS); ``effort`` itself unless that gains the principal something.

    Why this is the principal-favouring tie-break of a concave agent: ``U_A = sum_t gamma^(t-1) sum_i theta_ti
    g(z_ti)`` with ``g`` strictly concave (sqrt, log1p) and the latent features ``z`` affine in the effort policy,
    so two best responses with different weighed features would have a strictly better midpoint: the agent's
    best responses are exactly the feasible policies with the weighed features of any one of them, and they
    share its utility and its Frank–Wolfe gap (the gradient depends on the weighed features only).

    The LP is scale-free: its variables are budget shares ``e / B``, its objective ``lambda / max|lambda|`` and each
    feature row is divided by its largest entry, since HiGHS treats coefficients below about 1e-9 as 0 (a game
    with ``lambda`` or ``B`` of 1e-12 would otherwise lose its tie-break).
    """
    T, d, B = game.horizon, game.n_efforts, game.budget
    largest_value = float(np.abs(game.effort_value).max())
    if largest_value == 0.0:
        return effort  # the principal is indifferent: nothing to gain
    latent = derived(game, rollout_map)[0][(T + 1) * d:]  # (T n, T d): z = latent . e + (terms of the state)
    weighed = latent[theta.ravel() > 0.0]
    row_scales = np.abs(weighed).max(axis=1, keepdims=True, initial=0.0)
    weighed = weighed / np.where(row_scales > 0.0, row_scales, 1.0)
    values = np.tile(game.effort_value, T)
    shares = effort.ravel() / B
    result = linprog(-values / largest_value, A_ub=np.kron(np.eye(T), np.ones(d)), b_ub=np.ones(T), A_eq=weighed,
                     b_eq=weighed @ shares, bounds=(0.0, 1.0), method="highs",
                     options={"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10})
    if result.status != 0:
        return effort
    favourite = B * clip_rows(result.x.reshape(T, d), 1.0, exact=False)
    gain = values @ (favourite - effort).ravel()
    return favourite if gain > _TIE_BREAK_GAIN * T * B * largest_value else effort
