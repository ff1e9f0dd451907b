"""The independent re-check behind every solver's result: the agent's own best response to the returned rule,
its value to the principal, its incentive margins and one-round deviations scored by ``rollout``."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from stratgym.baselines.results import Certificate, StackelbergResult
from stratgym.baselines.stateful.common import VALUE_TOL, check_model, value_scale
from stratgym.baselines.stateful.membership import incentive_margins
from stratgym.games.behaviour import Rational
from stratgym.games.stateful import TIE_TOL, StatefulGame, best_response, frank_wolfe_gap, rollout, round_scales


def principal_value_of(game: StatefulGame, theta: np.ndarray, model) -> float:
    """What ``theta`` ``(T, n)`` is worth to the principal when ``model``'s agent best-responds to it (the arbiter
    of every solver's claim: the agent's own tie semantics decide, not a solver's)."""
    return float(best_response(game, theta, model).effort.sum(axis=0) @ game.effort_value)


def certified_gap(game: StatefulGame, bound: float, value: float, method: str) -> float:
    """``bound - value`` (``>= 0``), or ``RuntimeError`` if ``value`` beats the bound on the optimum by more than
    rounding (``VALUE_TOL`` relative): then a solver is wrong, and a gap clipped to 0 would hide it."""
    gap = bound - value
    if gap < -VALUE_TOL * value_scale(game):
        raise RuntimeError(f"{method}: its value {value!r} exceeds {bound!r}, the bound on the optimum")
    return max(gap, 0.0)


def verified_result(game: StatefulGame, theta: np.ndarray, model, claimed_value: float | None, method: str,
                    diagnostics: dict[str, Any], start: float, optimality_gap: float = 0.0,
                    optimum_bound: float | None = None, min_slack: float | None = None) -> StackelbergResult:
    """Recompute the agent's response to ``theta`` and return the result with its :class:`Certificate` (the solver's
    ``optimality_gap``, ``optimum_bound``, ``min_slack``, and the re-checked response's margins and duality gap), or
    ``RuntimeError`` if the claim is off. ``result.agent`` is the agent's behaviour object."""
    agent = check_model(model)
    model = agent.name  # how the messages name the agent
    response = best_response(game, theta, agent)
    played = rollout(game, theta, response.effort)
    value = float(played.principal_utility)
    if claimed_value is not None and abs(value - claimed_value) > VALUE_TOL * value_scale(game):
        raise RuntimeError(f"{method}: the {model} agent's best response to the returned rule gives the principal "
                           f"{value!r}, but the solver claimed {claimed_value!r}")
    # The response itself is checked by second computations: the incentive margins through the response
    # operator (linear g: no used option more than a tie below an unused one) and, independently of that
    # operator, rollouts of every one-round deviation; or a fresh Frank–Wolfe gap (concave g: no more than the
    # gap best_response certified).
    margins = None
    if game.is_linear:
        margins = incentive_margins(game, theta, response.effort, agent)
        if np.any(margins < -2.0 * TIE_TOL * round_scales(game, agent)):
            raise RuntimeError(f"{method}: best_response returned an effort policy that the {model} agent's incentive "
                               f"margins reject ({margins})")
        gains, tolerance = _deviation_gains(game, theta, response.effort, agent)
        if np.any(gains > tolerance):
            raise RuntimeError(f"{method}: one-round deviations scored by rollout beat the {model} agent's best "
                               f"response by {gains} (allowed {tolerance})")
    elif isinstance(agent, Rational):
        gap = frank_wolfe_gap(game, theta, response.effort)
        # max(1, ...) on purpose here: the concave agent's gap_tol is absolute (agent utility units), and so is
        # the slack for recomputing its gap.
        if gap > response.duality_gap + 1e-9 * max(1.0, abs(float(played.agent_utility))):
            raise RuntimeError(f"{method}: the concave best response claimed duality gap {response.duality_gap!r}, "
                               f"but its Frank–Wolfe gap is {gap!r}")
        margins = incentive_margins(game, theta, response.effort, agent)
    certificate = Certificate(optimality_gap=float(optimality_gap), optimum_bound=optimum_bound,
                              incentive_margins=margins, min_slack=min_slack,
                              agent_duality_gap=float(response.duality_gap))
    return StackelbergResult(theta=theta, effort=response.effort, principal_value=value,
                             agent_value=float(played.agent_utility), agent=agent, method=method,
                             certificate=certificate, diagnostics=diagnostics, solve_time=time.perf_counter() - start)


def _deviation_gains(game: StatefulGame, theta: np.ndarray, effort: np.ndarray, agent
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Per round ``tau``, how much the best one-round pure deviation (the whole budget on one type, or no effort, in
    round ``tau`` only) improves what ``agent`` (``Rational()`` or ``Lookahead(k)``) maximizes there, scored by
    :func:`rollout`; and the
    tolerance a tie allows. Both shape ``(T,)``; linear ``g`` only; ``T (d + 2)`` policies in one batched rollout.

    What the agent maximizes in round ``tau``: rational, ``sum_t gamma^(t-1) y_t``; ``Lookahead(k)``,
    ``sum_{tau <= t < tau + k} gamma^(t-tau) y_t`` with ``theta_tau`` in force from round ``tau`` on (myopic:
    ``y_tau``; forecasting: every ``t >= tau``). With linear ``g`` each is
    linear in the effort and separable across rounds, so if no vertex of round ``tau``'s budget set beats
    ``e_tau``, nothing does. Tolerance: a tie of the best response (``TIE_TOL`` times the round's scale, per unit
    of budget, twice) plus rollout's rounding (1e-12 of the largest objective).
    """
    T, d, n = game.horizon, game.n_efforts, game.n_features
    rounds = np.arange(T)
    vertices = np.vstack([np.zeros(d), game.budget * np.eye(d), np.zeros(d)])  # row 0: placeholder for e_tau
    efforts = np.broadcast_to(effort, (T, d + 2, T, d)).copy()
    efforts[rounds, :, rounds] = vertices
    efforts[rounds, 0, rounds] = effort  # option 0 is the response itself
    later = rounds[None, :] >= rounds[:, None]  # [tau, t]: round t is at or after tau
    if isinstance(agent, Rational):
        thetas = np.broadcast_to(theta, (T, T, n))
        weights = np.broadcast_to(game.discount ** rounds.astype(float), (T, T))
    else:  # a lookahead agent: theta_tau in force over the rounds it plans
        thetas = np.where(later[..., None], theta[:, None, :], theta[None, :, :])
        lags = rounds[None, :] - rounds[:, None]
        planned = later & (lags < (T if agent.k is None else agent.k))
        weights = np.where(planned, game.discount ** np.maximum(lags, 0), 0.0)
    objectives = np.einsum("kot,kt->ko", rollout(game, thetas[:, None], efforts).scores, weights)
    gains = objectives[:, 1:].max(axis=1) - objectives[:, 0]
    tolerance = 2.0 * TIE_TOL * game.budget * round_scales(game, agent) + 1e-12 * np.abs(objectives).max()
    return gains, tolerance
