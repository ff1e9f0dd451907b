"""Exact solvers and reference policies of the stateful game (:mod:`stratgym.games.stateful`).

Everything here returns a :class:`~stratgym.baselines.results.StackelbergResult` whose effort policy
was recomputed by :func:`~stratgym.games.stateful.best_response` (with its default tie tolerance) from
the returned assessment policy ``theta``; if the principal utility of that response differs from the
solver's claim by more than :data:`VALUE_TOL` (relative to ``T B max|lambda|``), or if the response fails
an independent check (linear ``g``: no one-round deviation scored by ``rollout`` beats it), a
``RuntimeError`` is raised instead: that would be a bug, never the input's fault. The solvers' LPs and MILP are
stated in budget shares and in units of ``max|lambda|``, so their answers scale exactly with ``B`` and ``lambda``.

Ties (strong Stackelberg), one meaning with the agent (:mod:`stratgym.games.ties`): a linear-``g`` agent counts
options within ``TIE_TOL`` of the round's scale of its best as tied and takes the principal's favourite among them
(:func:`~stratgym.games.stateful.favoured_option`). The exact solvers define their optimum with that same zone:
the MILP, the membership LP and brute force let the chosen option trail the best by up to ``TIE_TOL`` of the
round's scale (:func:`_round_leads`), and every candidate rule is confirmed by the agent's own best response
before it is accepted, so a near tie (a difference just inside or just outside the zone) is decided by the agent's
rule, never by a solver's rounding, and valid input never makes a solver raise. The returned ``theta`` may leave
the agent indifferent (within the zone) between the option the principal wants and another one. Pass
``margin > 0`` for a robust rule: every chosen option then beats every other option (including "no effort") by
at least ``margin`` beyond the tie zone in the agent's marginal value. Because marginal values are ``>= 0``
(``W, theta, omega, p >= 0``), no effort can never be *strictly* preferred, so with ``margin > 0`` the agent
always spends its whole budget.

Linear ``g``: the agent ranks its options in round ``tau`` by values ``c_tau = A[tau] . theta``, linear in
``theta`` (:func:`response_operator`), and the principal's problem is a MILP over which option is the
argmax in each round (:func:`milp_optimum`), checked against brute force (:func:`brute_force_optimum`).
The myopic and forecasting agents decide each round from that round's rule alone, so their optimum
decomposes into one small problem per round (:func:`per_round_optimum`).

Concave ``g``: membership is an LP in ``theta`` built from the KKT conditions at the fixed effort
(:func:`incentivizing_rule`); the principal's optimum is searched over ``theta`` and reported with a
certified upper bound (:func:`search_optimum`).
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from typing import Any, Callable

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from stratgym.baselines.results import Certificate, StackelbergResult
from stratgym.games.validation import as_bool, as_nonnegative_float, as_positive_int, check_instance
from stratgym.games.stateful import (GAP_TOL, RESPONSE_MODELS, TIE_TOL, StatefulGame, best_response,
                                     check_assessment_policy, check_effort_policy, clip_rows, feature_slopes,
                                     frank_wolfe_gap, marginal_value_operator, marginal_values, per_round_response,
                                     per_round_weights, rollout, round_scales, uniform_rule)

#: Efforts above ``SUPPORT_TOL * B`` count as used (in the support); a round whose total is within
#: ``SUPPORT_TOL * B`` of ``B`` counts as spending the whole budget.
SUPPORT_TOL = 1e-9
#: A solver's claimed principal utility must match the re-checked one within ``VALUE_TOL * T B max|lambda|``
#: (relative to the most any policy can be worth, so the check keeps its meaning at any ``B`` and ``lambda``).
VALUE_TOL = 1e-6
#: How often :func:`milp_optimum` re-solves after the exact membership LP rejects the MILP's choice.
MAX_NO_GOOD_CUTS = 10
#: Default cap on the number of pure effort policies ``(d+1)^T`` that :func:`brute_force_optimum` enumerates.
BRUTE_FORCE_CAP = 4096
#: HiGHS LP tolerances: tighter than the defaults (1e-7) so that the agent's ties that a certificate relies
#: on hold far inside the best response's tie tolerance (``TIE_TOL = 1e-9`` of the round's scale; the LPs
#: normalize every round by that scale, so these tolerances are in the same units).
_LP_OPTIONS = {"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10}

__all__ = ["SUPPORT_TOL", "VALUE_TOL", "BRUTE_FORCE_CAP", "response_operator", "incentivizing_rule",
           "incentive_margins", "milp_optimum", "brute_force_optimum", "per_round_optimum", "search_optimum",
           "best_constant_rule", "repeated_one_round_rule", "uniform_weights", "evaluate_rule", "solve"]


# ---------------------------------------------------------------------------------------------
# What the agent ranks its options by: a linear map of theta
# ---------------------------------------------------------------------------------------------

def response_operator(game: StatefulGame, model: str = "rational") -> np.ndarray:
    """Linear map from ``theta`` to the values the agent ranks its options by, shape ``(T, d, T, n)``.

    ``c[tau, j] = sum_{t, i} A[tau, j, t, i] theta[t, i]``; in round ``tau`` the agent puts its budget on
    the principal's favourite argmax of ``c[tau]`` (or no effort if the maximum is ``<= 0``). Linear ``g`` only.

    * ``rational``: :func:`~stratgym.games.stateful.marginal_value_operator`, the full-horizon marginal values.
    * ``myopic`` / ``forecasting``: block diagonal, round ``tau`` depends on ``theta_tau`` only:
      ``c_tau = (W^T theta_tau) * h_tau`` with ``h`` from :func:`~stratgym.games.stateful.per_round_weights`
      (``h = 1`` for myopic; for forecasting, the first-round marginal value of a constant plan over the
      remaining rounds, discounted from 1 as in :func:`~stratgym.games.stateful.respond_in_round`:
      ``h_tau = 1 + omega * sum_{u=1}^{T-1-tau} gamma^u p^(u-1)`` for 0-based ``tau``, which is the 1-based
      ``gamma^(t-1) + omega * sum_{u>t} gamma^(u-1) p^(u-1-t)`` divided by ``gamma^(t-1)``). The current
      state drops out: with linear ``g`` it only adds a constant to the agent's utility.
    """
    _require_linear(game, "response_operator")
    _check_model(model)
    if model == "rational":
        return marginal_value_operator(game)
    T = game.horizon
    operator = np.zeros((T, game.n_efforts, T, game.n_features))
    weights = per_round_weights(game, model)
    for tau in range(T):
        operator[tau, :, tau, :] = game.conversion_matrix.T * weights[tau][:, None]
    return operator


def _kkt_operator(game: StatefulGame, effort: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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


def _fold(operator: np.ndarray, constant: bool) -> np.ndarray:
    """Re-express ``operator`` ``(T, d, T, n)`` in the free rules: ``(T, d, 1, n)`` for a constant rule."""
    return operator.sum(axis=2, keepdims=True) if constant else operator


def _expand(rules: np.ndarray, horizon: int) -> np.ndarray:
    """Free rules ``(R, n)`` (``R`` = 1 or T) as an assessment policy ``(T, n)``."""
    return np.repeat(rules, horizon // rules.shape[0], axis=0)


def _best_over_rules(values: np.ndarray) -> float:
    """``max_theta values . theta`` over rules on the simplex, for ``values`` of shape ``(R, n)``."""
    return float(values.max(axis=-1).sum())


# ---------------------------------------------------------------------------------------------
# Membership oracle
# ---------------------------------------------------------------------------------------------

def _operator_scales(operator: np.ndarray) -> np.ndarray:
    """Per round, the largest value any rules give an option of ``operator`` ``(T, d, R, n)``, shape ``(T,)``
    (1 where it is 0): the unit the solvers normalize each round's rows by, as the agent's ties do
    (:func:`~stratgym.games.stateful.round_scales`, which it equals for the response operators)."""
    largest = operator.max(axis=-1).sum(axis=-1).max(axis=-1)
    return np.where(largest > 0.0, largest, 1.0)


def _round_leads(margin: float, scales: np.ndarray, ties: bool) -> np.ndarray:
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


def _membership_lp(operator: np.ndarray, effort: np.ndarray, budget: float, margin: float, regret_tol: float,
                   forced_zero: np.ndarray | None = None, scales: np.ndarray | None = None,
                   ties: bool = True) -> tuple[np.ndarray | None, float, str]:
    """Max-min-slack rule making ``effort`` ``(T, d)`` a best response: ``(rules (R, n) or None, slack, status)``.

    Each round's values are normalized by its scale ``S_tau`` (``scales``, default :func:`_operator_scales`), the
    unit of the agent's ties, so the LP's tolerances mean the same in every round whatever ``W`` and ``gamma``.
    Variables: rules ``phi`` ``(R, n)`` (rows on the simplex), one level ``mu_tau >= 0`` per round, a relative
    slack ``s >= 0``. With ``c = (operator . phi) / S`` (marginal values, or the concave gradient at ``effort``)
    and the round's lead ``l_tau`` (:func:`_round_leads`; ``m_tau = max(l_tau, 0)``, ``z_tau = max(-l_tau, 0)``,
    i.e. ``z_tau = TIE_TOL`` for a linear agent without margin, else 0):

    * ``c_tau_j <= mu_tau`` for used types and ``c_tau_k <= mu_tau - m_tau - s`` for unused ones;
    * ``mu_tau >= m_tau + s`` in rounds that spend the whole budget (no effort is then an unused option);
    * ``mu_tau - (e_tau / B) . c_tau <= z_tau`` in every round if ``regret_tol = 0``, else
      ``sum_tau S_tau (B mu_tau - e_tau . c_tau) <= regret_tol`` (value units).

    For a pure ``effort`` (the budget on option ``o_tau``) and ``regret_tol = 0`` these say: ``o_tau`` is within
    ``z_tau`` of the best option (in the agent's tie zone: its best response takes ``o_tau`` or an option the
    principal prefers), and every unused option trails ``o_tau`` by at least ``m_tau + s - z_tau``.

    The regret rows are built in budget shares (divided by ``B``: ``mu_tau - (e_tau / B) . c_tau`` and
    ``regret_tol / B``), so no coefficient carries the units of ``B``: HiGHS drops matrix entries below about
    1e-9, which made a game with ``B = 1e-10`` lose its regret rows.

    ``B mu_tau - e_tau . c_tau >= (B - sum e_tau) mu_tau + sum_j e_tau_j (mu_tau - c_tau_j) >= 0``, so with
    ``regret_tol = 0`` this forces ``c_tau_j = mu_tau = max(max_k c_tau_k, 0)`` on the support and ``mu_tau = 0``
    in rounds with unused budget: exactly the optimality (KKT) conditions (up to the tie zone ``z``). The left side
    bounds the Frank–Wolfe gap of ``effort`` under ``phi``, so ``regret_tol > 0`` certifies a ``regret_tol``-best
    response. Objective: maximize ``s`` subject to ``s <= 1 + max |c|``, so the certificate is the rule with the
    largest incentive relative to each round's scale (``s`` is capped where no option is unused). The returned
    slack is in value units: ``margin + min_tau (s - z_tau) S_tau``, a lower bound on every round's incentive
    (negative, down to ``-TIE_TOL S_tau``, when the certificate needs a tie).
    """
    T, d, R, n = operator.shape
    scales = _operator_scales(operator) if scales is None else scales
    values = (operator / scales[:, None, None, None]).reshape(T * d, R * n)
    leads = _round_leads(margin, scales, ties)
    margins, tie_zone = np.maximum(leads, 0.0), np.maximum(-leads, 0.0)
    shares = effort / budget
    used = shares > SUPPORT_TOL
    full = shares.sum(axis=1) >= 1.0 - SUPPORT_TOL
    n_rules = R * n
    level = n_rules + np.arange(T)
    slack = n_rules + T
    gradient_rows = np.zeros((T * d, slack + 1))
    gradient_rows[:, :n_rules] = values
    gradient_rows[np.arange(T * d), np.repeat(level, d)] = -1.0
    gradient_rows[:, slack] = ~used.ravel()
    full_rows = np.zeros((int(full.sum()), slack + 1))
    full_rows[np.arange(len(full_rows)), level[full]] = -1.0
    full_rows[:, slack] = 1.0
    # Per round, mu_tau - (e_tau / B) . c_tau (>= 0): all of them <= 0 for an exact certificate (each normalized
    # by its round's scale), else their sum in value units per unit of budget <= regret_tol / B.
    regret_rows = np.zeros((T, slack + 1))
    regret_rows[:, :n_rules] = -np.einsum("tj,tjr->tr", shares, values.reshape(T, d, n_rules))
    regret_rows[np.arange(T), level] = 1.0
    regret_bound = tie_zone
    if regret_tol > 0.0:
        regret_rows, regret_bound = (scales @ regret_rows)[None, :], np.array([regret_tol / budget])
    simplex_rows = np.zeros((R, slack + 1))
    simplex_rows[:, :n_rules] = np.kron(np.eye(R), np.ones(n))
    rule_upper = np.where(forced_zero, 0.0, 1.0).ravel() if forced_zero is not None else np.ones(n_rules)
    cap = 1.0 + max(_best_over_rules(row.reshape(R, n)) for row in values)
    objective = np.zeros(slack + 1)
    objective[slack] = -1.0
    for options in (_LP_OPTIONS, {}):
        result = linprog(objective, A_ub=np.vstack([gradient_rows, full_rows, regret_rows]),
                         b_ub=np.concatenate([-np.repeat(margins, d) * ~used.ravel(), -margins[full], regret_bound]),
                         A_eq=simplex_rows, b_eq=np.ones(R),
                         bounds=[(0.0, u) for u in rule_upper] + [(0.0, None)] * T + [(0.0, cap)],
                         method="highs", options=options)
        if result.status in (0, 2):
            break
        # HiGHS can stall on a long horizon at the tight tolerances: retry at its defaults (the solvers confirm
        # every certificate with the agent's best response anyway).
    if result.status != 0:  # infeasible, or HiGHS failed at both tolerances: no certificate
        return None, float("nan"), result.message
    lead = margin + float(np.min((result.x[slack] - tie_zone) * scales))
    return clip_rows(result.x[:n_rules].reshape(R, n)), lead, result.message


def _membership(game: StatefulGame, effort, margin: float, model: str, constant: bool,
                regret_tol: float | None) -> tuple[np.ndarray | None, float, str]:
    """Validate, build the operator for ``game``'s ``g``, run :func:`_membership_lp`; rules come back ``(T, n)``."""
    check_instance(game, StatefulGame, "game")
    effort = _check_effort(game, effort)
    constant = as_bool(constant, "constant")
    margin = as_nonnegative_float(margin, "margin")
    if game.is_linear:
        operator, forced_zero = response_operator(game, model), None
        regret_tol = 0.0 if regret_tol is None else regret_tol
    else:
        if model != "rational":
            raise NotImplementedError(f"membership for a {model} agent with concave g is not implemented: its "
                                      "responses re-plan along the state path, so no single KKT system describes them")
        operator, forced_zero = _kkt_operator(game, effort)
        regret_tol = GAP_TOL if regret_tol is None else regret_tol
        if constant:
            forced_zero = forced_zero.any(axis=0, keepdims=True)
    regret_tol = as_nonnegative_float(regret_tol, "regret_tol")
    rules, slack, status = _membership_lp(_fold(operator, constant), effort, game.budget, margin, regret_tol,
                                          forced_zero, _operator_scales(operator), ties=game.is_linear)
    return (None if rules is None else _expand(rules, game.horizon)), slack, status


def incentivizing_rule(game: StatefulGame, effort, margin: float = 0.0, *, model: str = "rational",
                       constant: bool = False, regret_tol: float | None = None) -> np.ndarray | None:
    """An assessment policy ``theta`` ``(T, n)`` to which ``effort`` ``(T, d)`` is a best response, or ``None``.

    Linear ``g`` (any response ``model``): ``effort`` must put its support on argmaxes of the values of
    :func:`response_operator`, and leave budget unused only where the maximum is ``<= 0``. Concave ``g``
    (rational agent only): the KKT conditions at ``effort``, ``grad_tau_j(theta) <= mu_tau`` with equality
    where ``e_tau_j > 0``, ``mu_tau >= 0``, ``mu_tau = 0`` if ``sum_j e_tau_j < B``, which are linear in
    ``(theta, mu)`` at fixed ``effort``; where sqrt's slope is infinite on a feature some effort moves, that
    feature's weight is forced to 0 (else the agent would gain from moving effort there).

    ``margin`` > 0 asks every unused option (other types and, if the budget is spent, no effort) to be worth
    at least ``margin`` less than the used ones: a strict incentive. ``constant`` restricts to rules equal in
    every round. ``regret_tol`` (agent utility units) accepts ``effort`` if its Frank–Wolfe duality gap under
    ``theta`` is at most that: default 0 for linear ``g`` (exact) and ``GAP_TOL`` for concave ``g``, whose best
    responses are only computed to that gap. Efforts above ``SUPPORT_TOL * B`` count as used.

    Among certificates, the one returned maximizes the smallest strict incentive ``s`` over all rounds (the LP's
    objective; see :func:`_membership_lp`): if every round can be made strict at once, the certificate is strict
    in every round. If some round needs a tie (``s = 0``), other rounds may be left tied too, and the agent's
    ties then go to the principal; ask for ``margin > 0`` when a robust rule matters.
    """
    return _membership(game, effort, margin, model, constant, regret_tol)[0]


def incentive_margins(game: StatefulGame, theta, effort, model: str = "rational") -> np.ndarray:
    """Per round, how much the worst used option beats the best unused one, shape ``(T,)`` (``inf`` if none unused).

    Options are the effort types, valued by :func:`response_operator` (linear ``g``) or by the utility gradient
    at ``effort`` (concave ``g``, rational agent), and no effort, valued 0; no effort is used when budget is left.
    A best response has margins ``>= 0`` (up to tolerance), and 0 means the agent is indifferent.
    """
    check_instance(game, StatefulGame, "game")
    theta = check_assessment_policy(game, theta, batch=False)
    effort = _check_effort(game, effort)
    _check_model(model)
    if game.is_linear:
        values = np.einsum("tjri,ri->tj", response_operator(game, model), theta)
    elif model == "rational":
        values = marginal_values(game, theta, effort)
    else:
        raise NotImplementedError(f"incentive margins of a {model} agent with concave g are not defined here")
    options = np.concatenate([values, np.zeros((game.horizon, 1))], axis=1)
    used = np.concatenate([effort > SUPPORT_TOL * game.budget,
                           effort.sum(axis=1, keepdims=True) < game.budget * (1.0 - SUPPORT_TOL)], axis=1)
    worst_used = np.where(used, options, np.inf).min(axis=1)
    return worst_used - np.where(used, -np.inf, options).max(axis=1)


# ---------------------------------------------------------------------------------------------
# Exact optimum against a linear-g agent: MILP, brute force, per-round decomposition
# ---------------------------------------------------------------------------------------------

def milp_optimum(game: StatefulGame, model: str = "rational", margin: float = 0.0, constant: bool = False,
                 time_limit: float | None = None) -> StackelbergResult:
    """The principal's exact optimum against a linear-``g`` agent, as a MILP (HiGHS).

    Binaries ``z[tau, o]`` pick one option per round (``d`` effort types, then no effort); continuous
    rules ``phi`` (``T`` rules, or one if ``constant``). With ``c = A . phi`` (:func:`response_operator`), each
    round normalized by its scale ``S_tau`` as the agent's ties are, and the round's lead ``l_tau``
    (:func:`_round_leads`: ``-TIE_TOL`` without margin, ``margin / S_tau + TIE_TOL`` with one):

    * ``z[tau, j] = 1`` implies ``c_tau_j >= c_tau_k + l_tau`` for every other type ``k`` and ``c_tau_j >= l_tau``;
    * ``z[tau, none] = 1`` implies ``c_tau_k <= -l_tau`` for every type.

    So with ``margin = 0`` the MILP picks, in every round, an option inside the agent's tie zone (within
    ``TIE_TOL`` of the best), the very zone in which :func:`~stratgym.games.stateful.best_response` gives the
    choice to the principal: ties go to the principal (strong Stackelberg), and the optimum is defined with the
    tie semantics the agent uses. Each implication is a big-M row with ``M`` the exact range of its left side over
    rules on the simplex (``sum_r max_i`` of the row's coefficients). Options that can never satisfy their rows are
    fixed to 0 beforehand. The objective is ``max sum lambda_j B z[tau, j]``, handed to HiGHS divided by
    ``B max|lambda|`` and scaled back; HiGHS runs with feasibility tolerances of 1e-10 (far inside ``TIE_TOL``).

    Every choice is then re-derived: the max-min-slack rule inducing it (:func:`incentivizing_rule`'s LP) and the
    agent's own best response to that rule must give the principal the MILP's value. A choice that fails (only
    possible within HiGHS's tolerance of a tie zone's edge) is excluded by a no-good cut and the MILP solved
    again (at most :data:`MAX_NO_GOOD_CUTS` times), so valid input never makes it raise.

    ``time_limit`` (seconds, ``None``: none) bounds the total HiGHS time. If it runs out, the result is the better
    of HiGHS's incumbent and the best of the uniform and single-feature rules, with the certificate's
    ``optimality_gap`` = ``optimum_bound`` (HiGHS's dual bound, or ``T B max(max_j lambda_j, 0)`` if lower) minus
    its value, and ``result.is_optimal`` False; a proven optimum has gap 0 (``optimum_bound``: the dual bound).
    ``ValueError`` if no rule achieves ``margin`` or for bad arguments.

    Cost: most random instances with ``T = 50, n = 3, d = 4`` solve at the root node in about 0.1 s; instances
    where retained types compete with the principal's favourite over many rounds can need many
    branch-and-bound nodes (see ``scripts/bench_stateful.py``).
    """
    start = time.perf_counter()
    _require_linear(game, "milp_optimum")
    margin = as_nonnegative_float(margin, "margin")
    constant = as_bool(constant, "constant")
    if time_limit is not None:
        time_limit = as_nonnegative_float(time_limit, "time_limit", positive=True)
    unfolded = response_operator(game, model)
    scales = _operator_scales(unfolded)
    program = _choice_program(game, _fold(unfolded, constant) / scales[:, None, None, None],
                              _round_leads(margin, scales, ties=True))
    value_unit = game.budget * _largest_value(game)
    tolerance = VALUE_TOL * _value_scale(game)
    accepted, bound, result, cuts = None, np.inf, None, 0
    # A stopped dynamic MILP keeps the last part of its time for the best constant rule (a small MILP, usually far
    # better than HiGHS's incumbent then); the total stays within time_limit up to the LPs around the MILPs.
    milp_limit = None if time_limit is None or constant else _DYNAMIC_SHARE * time_limit
    for cuts in range(MAX_NO_GOOD_CUTS + 1):
        remaining = None if milp_limit is None else milp_limit - (time.perf_counter() - start)
        if remaining is not None and remaining <= 0.0:
            break
        result = program.solve(remaining)
        if result.status == 2 and cuts == 0:
            raise ValueError(f"no {'constant ' if constant else ''}assessment policy gives a {model} agent a strict "
                             f"incentive of margin={margin} in every round")
        if result.status not in (0, 1) or result.x is None:
            break  # infeasible after cuts (every choice rejected), or out of time without an incumbent
        bound = min(bound, -result.mip_dual_bound * value_unit) if np.isfinite(result.mip_dual_bound) else bound
        chosen = program.choices(result.x)
        claimed = -result.fun * value_unit
        theta, slack, status = _membership(game, _pure_policy(chosen, game.n_efforts, game.budget), margin, model,
                                           constant, None)
        value = None if theta is None else _principal_value(game, theta, model)
        if value is not None and value >= claimed - tolerance:
            accepted = (theta, value, slack, status, result.status == 0)
            break
        # The exact LP, or the agent's own response, rejects a choice HiGHS's tolerance admitted: exclude exactly
        # that choice (at most T - 1 of its T binaries may be 1) and solve again.
        program.exclude(chosen)
    if accepted is None or not accepted[-1]:
        # Stopped early: HiGHS's incumbent may be worse than a simple rule, so return the best of them.
        time_left = np.inf if time_limit is None else time_limit - (time.perf_counter() - start)
        for theta, value, source in _fallback_policies(game, model, margin, constant, time_left):
            if accepted is None or value > accepted[1]:
                accepted = (theta, value, float("nan"), f"{source} (better than any MILP solution accepted)", False)
    theta, value, slack, status, proven = accepted
    optimum_bound = bound if proven else min(bound, _upper_bound(game))
    gap = 0.0 if proven else max(optimum_bound - value, 0.0)
    diagnostics = {"milp_status": "" if result is None else result.message, "proven_optimal": proven,
                   "milp_nodes": 0 if result is None else result.mip_node_count, "no_good_cuts": cuts,
                   "certificate_lp_status": status}
    return _verified(game, theta, model, value, "best-constant" if constant else "milp", diagnostics, start,
                     optimality_gap=gap, optimum_bound=optimum_bound, min_slack=slack)


#: HiGHS options of the choice MILP: an exact optimum, and feasibility tolerances far inside the tie zone (TIE_TOL
#: of the round's scale; the rows are in those units), so HiGHS admits almost no choice the exact LP rejects.
_MILP_OPTIONS = {"mip_rel_gap": 0.0, "mip_feasibility_tolerance": 1e-10, "primal_feasibility_tolerance": 1e-10}


@dataclasses.dataclass
class _ChoiceProgram:
    """The option-choice MILP of :func:`milp_optimum`: rows ``lower <= A x <= upper`` over ``x = (phi, z)``."""

    objective: np.ndarray
    bounds: Bounds
    rows: list
    lower: list
    upper: list
    n_rules: int
    shape: tuple  # (T, d + 1): the binaries z

    def solve(self, time_limit: float | None):
        integrality = np.concatenate([np.zeros(self.n_rules), np.ones(self.objective.size - self.n_rules)])
        options = dict(_MILP_OPTIONS, **({} if time_limit is None else {"time_limit": time_limit}))
        with warnings.catch_warnings():  # scipy passes HiGHS options it does not list on verbatim, with a warning
            warnings.filterwarnings("ignore", message="Unrecognized options", category=RuntimeWarning)
            return milp(self.objective, integrality=integrality, bounds=self.bounds,
                        constraints=LinearConstraint(np.array(self.rows), self.lower, self.upper), options=options)

    def choices(self, x: np.ndarray) -> np.ndarray:
        """The option index of every round, ``(T,)``, from a solution ``x``."""
        return x[self.n_rules:].reshape(self.shape).argmax(axis=1)

    def exclude(self, chosen: np.ndarray) -> None:
        """A no-good cut: at most ``T - 1`` of the binaries of ``chosen`` may be 1."""
        cut = np.zeros(self.objective.size)
        cut[self.n_rules + np.ravel_multi_index((np.arange(len(chosen)), chosen), self.shape)] = 1.0
        self.rows.append(cut)
        self.lower.append(-np.inf)
        self.upper.append(len(chosen) - 1.0)


def _choice_program(game: StatefulGame, values: np.ndarray, leads: np.ndarray) -> _ChoiceProgram:
    """Build the big-M MILP of :func:`milp_optimum` from normalized ``values`` ``(T, d, R, n)`` and leads ``(T,)``."""
    T, d, R, n = values.shape
    n_rules, n_options = R * n, d + 1
    rows, upper, impossible = [], [], np.zeros((T, n_options), dtype=bool)

    def implication(tau: int, option: int, coefficients: np.ndarray) -> None:
        """Add ``z[tau, option] = 1  =>  coefficients . phi <= -leads[tau]``, or mark the option impossible."""
        big_m = _best_over_rules(coefficients) + leads[tau]
        if big_m <= 0.0:
            return  # the row holds for every rule
        if -_best_over_rules(-coefficients) + leads[tau] > 1e-12:
            impossible[tau, option] = True  # not even the best rule satisfies it (beyond rounding)
            return
        row = np.zeros(n_rules + T * n_options)
        row[:n_rules] = coefficients.ravel()
        row[n_rules + tau * n_options + option] = big_m
        rows.append(row)
        upper.append(big_m - leads[tau])

    for tau in range(T):
        for j in range(d):
            for k in range(d):
                if k != j:
                    implication(tau, j, values[tau, k] - values[tau, j])
            implication(tau, j, -values[tau, j])
            implication(tau, d, values[tau, j])
    rows.extend(np.concatenate([np.kron(np.eye(R), np.ones(n)), np.zeros((R, T * n_options))], axis=1))
    rows.extend(np.concatenate([np.zeros((T, n_rules)), np.kron(np.eye(T), np.ones(n_options))], axis=1))
    lower = [-np.inf] * len(upper) + [1.0] * (R + T)
    upper = upper + [1.0] * (R + T)
    # Every option but "no effort" spends the whole budget, so B cancels: costs lambda / max|lambda|, in [-1, 1].
    option_values = np.append(game.effort_value / _largest_value(game), 0.0)
    objective = np.concatenate([np.zeros(n_rules), -np.tile(option_values, T)])
    bounds = Bounds(np.zeros(objective.size),
                    np.concatenate([np.ones(n_rules), np.where(impossible, 0.0, 1.0).ravel()]))
    return _ChoiceProgram(objective, bounds, rows, lower, upper, n_rules, (T, n_options))


def _principal_value(game: StatefulGame, theta: np.ndarray, model: str) -> float:
    """What ``theta`` ``(T, n)`` is worth to the principal when ``model``'s agent best-responds to it (the arbiter
    of every solver's claim: the agent's own tie semantics decide, not a solver's)."""
    return float(best_response(game, theta, model).effort.sum(axis=0) @ game.effort_value)


#: Share of ``time_limit`` a dynamic :func:`milp_optimum` gives HiGHS before keeping the rest for a fallback.
_DYNAMIC_SHARE = 0.8


def _fallback_policies(game: StatefulGame, model: str, margin: float, constant: bool, time_left: float):
    """``(theta (T, n), value, source)`` of the policies a stopped :func:`milp_optimum` compares its incumbent with:
    the uniform rule, each single-feature rule and, for a dynamic MILP with time left, the best constant rule
    (itself a MILP, stopped at ``time_left`` seconds; ``inf``: not stopped)."""
    rules = [("uniform rule", uniform_rule(game))]
    rules += [(f"feature {i} rule", np.tile(np.eye(game.n_features)[i], (game.horizon, 1)))
              for i in range(game.n_features)]
    for source, theta in rules:
        yield theta, _principal_value(game, theta, model), source
    if not constant and time_left > 0.0:
        try:
            best = milp_optimum(game, model, margin, constant=True,
                                time_limit=None if np.isinf(time_left) else time_left)
        except ValueError:  # no constant rule achieves the margin
            return
        yield best.theta, best.principal_value, "best constant rule"


def _pure_policy(options: np.ndarray, n_efforts: int, budget: float) -> np.ndarray:
    """Effort policy ``(..., T, d)`` from option indices ``(..., T)``: the budget on type ``o``, none if ``o = d``."""
    return budget * np.eye(n_efforts + 1)[options][..., :n_efforts]


def _best_pure_policy(game: StatefulGame, operator: np.ndarray, margin: float, constant: bool,
                      max_policies: int, realized: Callable[[np.ndarray], float], scales: np.ndarray | None = None
                      ) -> tuple[np.ndarray, np.ndarray, float, float, dict[str, Any]]:
    """Enumerate all ``(d+1)^T`` pure policies by decreasing principal value; the first whose certificate (the
    membership LP, ``scales`` as there) the agent's own response confirms wins: ``realized(theta)``, the principal's
    value of the agent's best response to ``theta`` ``(T, n)``, must be at least the policy's value.

    Returns ``(effort (T, d), theta (T, n), realized value, min_slack, diagnostics)``. Policies of equal value keep
    enumeration order (round 1's option varies slowest, types before no effort).
    """
    T, d = operator.shape[:2]
    n_policies = (d + 1) ** T
    if n_policies > max_policies:
        raise ValueError(f"brute force would enumerate (d+1)^T = {d + 1}^{T} = {n_policies} pure effort policies, "
                         f"more than max_policies={max_policies}")
    options = np.stack(np.unravel_index(np.arange(n_policies), (d + 1,) * T), axis=1)
    # Values per unit of budget: B > 0 does not change the order, and leaving it out keeps the order (hence the
    # winner among equal values) the same bits for every B.
    values = np.append(game.effort_value, 0.0)[options].sum(axis=1)
    tolerance = VALUE_TOL * _value_scale(game)
    for checked, index in enumerate(np.argsort(-values, kind="stable"), start=1):
        effort = _pure_policy(options[index], d, game.budget)
        rules, slack, status = _membership_lp(operator, effort, game.budget, margin, 0.0, scales=scales)
        if rules is None:
            continue
        theta = _expand(rules, T)
        value = realized(theta)
        if value >= game.budget * float(values[index]) - tolerance:
            diagnostics = {"policies_checked": checked, "n_policies": n_policies, "certificate_lp_status": status}
            return effort, theta, value, slack, diagnostics
    raise ValueError(f"no {'constant ' if constant else ''}assessment policy gives the agent a strict incentive "
                     f"of margin={margin} in every round")


def brute_force_optimum(game: StatefulGame, model: str = "rational", margin: float = 0.0, constant: bool = False,
                        max_policies: int = BRUTE_FORCE_CAP) -> StackelbergResult:
    """The principal's exact optimum against a linear-``g`` agent by enumeration (small ``T`` only).

    Every pure effort policy (each round: the whole budget on one type, or nothing) is tried in order of
    decreasing principal value, and the first that :func:`incentivizing_rule`'s LP certifies, and the agent's own
    best response to the certificate confirms, is optimal: the principal's favourite response to any ``theta`` is
    pure, so no mixed policy does better. Ties: as in :func:`milp_optimum` (the agent's tie zone, to the principal). ``ValueError``
    if ``(d+1)^T > max_policies`` (default :data:`BRUTE_FORCE_CAP`) or if no rule achieves ``margin``.
    """
    start = time.perf_counter()
    _require_linear(game, "brute_force_optimum")
    margin = as_nonnegative_float(margin, "margin")
    constant = as_bool(constant, "constant")
    max_policies = as_positive_int(max_policies, "max_policies")
    unfolded = response_operator(game, model)
    _, theta, value, slack, diagnostics = _best_pure_policy(game, _fold(unfolded, constant), margin, constant,
                                                            max_policies, lambda theta: _principal_value(game, theta, model),
                                                            _operator_scales(unfolded))
    return _verified(game, theta, model, value, "brute-force", diagnostics, start, min_slack=slack)


def per_round_optimum(game: StatefulGame, model: str, margin: float = 0.0) -> StackelbergResult:
    """The principal's exact optimum against a ``myopic`` or ``forecasting`` agent with linear ``g``.

    Such an agent's choice in round ``tau`` depends on ``theta_tau`` only (:func:`response_operator`: the state
    adds a constant to its utility, and it ignores, resp. does not know, later rules), and the principal's
    utility is a sum over rounds, so the optimum is the best single-round rule of every round separately:
    the ``d + 1`` options of the round are tried by decreasing value with a one-round membership LP each.
    Rounds with the same problem (all of them for a myopic agent) are solved once. Ties go to the principal, as
    in :func:`milp_optimum`.
    """
    start = time.perf_counter()
    _require_linear(game, "per_round_optimum")
    _check_model(model)
    if model == "rational":
        raise ValueError("per_round_optimum needs model 'myopic' or 'forecasting': a rational agent's rounds "
                         "are coupled through the state")
    margin = as_nonnegative_float(margin, "margin")
    operator = response_operator(game, model)
    solved: dict[bytes, tuple[np.ndarray, np.ndarray, float, float, dict[str, Any]]] = {}  # equal rounds: solved once
    rules, value, slacks = [], 0.0, []
    for tau in range(game.horizon):
        block = operator[tau:tau + 1, :, tau:tau + 1, :]
        if block.tobytes() not in solved:  # the agent's own one-round response confirms each round's choice
            realized = lambda rule, tau=tau: float(  # noqa: E731
                per_round_response(game, model, rule[0], tau) @ game.effort_value)
            solved[block.tobytes()] = _best_pure_policy(game, block, margin, False, BRUTE_FORCE_CAP, realized)
        _, rule, round_value, round_slack, _ = solved[block.tobytes()]
        rules.append(rule[0])
        value += round_value
        slacks.append(round_slack)
    diagnostics = {"distinct_rounds": len(solved),
                   "lps_solved": sum(c["policies_checked"] for *_, c in solved.values())}
    return _verified(game, np.array(rules), model, value, "per-round", diagnostics, start, min_slack=min(slacks))


# ---------------------------------------------------------------------------------------------
# Search over rules (concave g): certified lower bound with an optimality gap
# ---------------------------------------------------------------------------------------------

def search_optimum(game: StatefulGame, model: str = "rational", constant: bool = False, n_samples: int = 32,
                   n_refine: int = 32, seed: int = 0) -> StackelbergResult:
    """A certified feasible principal policy and an optimality gap, for any ``g`` and response model.

    Method (a heuristic for the lower bound, exact bookkeeping for the bound): every candidate ``theta`` is
    scored by the principal utility of ``best_response(game, theta, model)`` (concave ``g``: solved to duality
    gap ``GAP_TOL``, the agent's ties broken in the principal's favour). Candidates:

    1. seeds: uniform weights, each single-feature rule, and the exact optimum of the same game with linear ``g``;
    2. ``n_samples`` rules drawn uniformly from the simplex (``numpy`` Generator seeded with ``seed``);
    3. ``n_refine`` steps of a (1+1) random search around the best: ``(1 - a) theta + a theta'`` with a fresh
       uniform ``theta'``, ``a`` shrinking by 0.8 after each failure;
    4. rational agent only: for the best response ``e`` found and the principal's ideal policy ``e*`` (the whole
       budget on its favourite type each round, or nothing if all ``lambda < 0``), the rule the membership
       oracle certifies for ``(1 - a) e + a e*``, ``a = 1, 1/2, 1/4, 1/8``, if any.

    Upper bound ``T B max(max_j lambda_j, 0)``: every response lies in ``E_B^T``, so it is valid, but it ignores
    the agent's incentives altogether and is usually loose: ``optimality_gap`` = upper bound - achieved value is
    0 only when the ideal policy is reached, and otherwise measures the distance to that crude bound, not to the
    (unknown) optimum. The returned policy is certified feasible (the agent's response is re-checked), not
    optimal: the search is a heuristic, and no tighter bound is computed. Example: the classroom with sqrt ``g``
    and ``T = 1`` reports a gap of ``B``, yet its optimum is 0 (studying's marginal value ``0.4 (a + b)`` is below
    ``max(a, b)``, the better of the two forms of cheating, so the agent never studies).

    This is what :func:`solve` uses for concave ``g`` with every response model: the per-round decomposition
    of the myopic and forecasting agents needs linear ``g`` (with concave ``g`` their choices depend on the
    state), and the MILP needs the agent's ranking to be linear in ``theta``.
    """
    start = time.perf_counter()
    check_instance(game, StatefulGame, "game")
    _check_model(model)
    n_samples = as_positive_int(n_samples, "n_samples", minimum=0)
    n_refine = as_positive_int(n_refine, "n_refine", minimum=0)
    constant = as_bool(constant, "constant")
    rng = np.random.default_rng(None if seed is None else as_positive_int(seed, "seed", minimum=0))
    T, n = game.horizon, game.n_features
    shape = (1 if constant else T, n)
    best: dict[str, Any] = {"value": -np.inf}

    def consider(rules: np.ndarray, source: str) -> bool:
        best["evaluated"] = best.get("evaluated", 0) + 1
        theta = _expand(rules, T)
        effort = best_response(game, theta, model).effort
        value = float(effort.sum(axis=0) @ game.effort_value)
        if value > best["value"] + 1e-12 * _value_scale(game):  # strictly better, beyond rounding
            best.update(value=value, rules=rules, effort=effort, source=source)
            return True
        return False

    consider(np.full(shape, 1.0 / n), "uniform")
    for i in range(n):
        consider(np.tile(np.eye(n)[i], (shape[0], 1)), f"feature {i}")
    if game.is_linear:
        consider(_linear_optimum_rules(game, model, constant), "exact")
    else:
        linearized = game.replace(conversion="linear")
        consider(_linear_optimum_rules(linearized, model, constant), "linear-g optimum")
    for _ in range(n_samples):
        consider(rng.dirichlet(np.ones(n), size=shape[0]), "random")
    step = 0.5
    for _ in range(n_refine):
        if not consider((1.0 - step) * best["rules"] + step * rng.dirichlet(np.ones(n), size=shape[0]), "refined"):
            step = max(0.8 * step, 1e-3)
    if model == "rational":
        ideal = _pure_policy(np.full(T, int(np.argmax(game.effort_value)) if game.effort_value.max() > 0
                                     else game.n_efforts), game.n_efforts, game.budget)
        for share in (1.0, 0.5, 0.25, 0.125):
            theta = incentivizing_rule(game, (1.0 - share) * best["effort"] + share * ideal, constant=constant)
            if theta is not None:
                consider(theta[:shape[0]], "membership")
    upper_bound = _upper_bound(game)
    diagnostics = {"best_source": best["source"], "evaluated": best["evaluated"]}
    method = "best-constant-search" if constant else "search"
    return _verified(game, _expand(best["rules"], T), model, best["value"], method, diagnostics, start,
                     optimality_gap=_gap(game, upper_bound, best["value"], method), optimum_bound=upper_bound)


def _linear_optimum_rules(game: StatefulGame, model: str, constant: bool) -> np.ndarray:
    """Free rules ``(R, n)`` of the exact linear-``g`` optimum (a seed for the search)."""
    theta = (milp_optimum(game, model, constant=constant) if constant or model == "rational"
             else per_round_optimum(game, model)).theta
    return theta[:1] if constant else theta


# ---------------------------------------------------------------------------------------------
# Reference principal policies
# ---------------------------------------------------------------------------------------------
# Their ``optimality_gap`` is measured against the unrestricted (dynamic) optimum, so a benchmark can
# read off how much each simple policy leaves on the table.

def best_constant_rule(game: StatefulGame, model: str = "rational", margin: float = 0.0,
                       **search_options) -> StackelbergResult:
    """The best rule used unchanged in every round: exact (:func:`milp_optimum` with ``constant=True``) for
    linear ``g``, :func:`search_optimum` with ``constant=True`` (and ``search_options``) for concave ``g``.
    ``optimality_gap`` is measured against the best *dynamic* policy: exactly (one more :func:`solve`) for
    linear ``g``, against the bound ``T B max(max_j lambda_j, 0)`` for concave ``g``."""
    check_instance(game, StatefulGame, "game")
    if game.is_linear:
        return _gap_to_optimum(game, model, milp_optimum(game, model, margin, constant=True))
    _require_no_margin(margin, "best_constant_rule with concave g")
    return _gap_to_optimum(game, model, search_optimum(game, model, constant=True, **search_options))


def repeated_one_round_rule(game: StatefulGame, model: str = "rational", margin: float = 0.0,
                            **search_options) -> StackelbergResult:
    """What a designer who ignores the state does: the optimal rule of round 1 alone (the game with ``T = 1``,
    where all response models coincide; ``search_options`` go to :func:`search_optimum` for concave ``g``),
    repeated every round; ``model``'s agent responds to the repeated policy. ``optimality_gap`` as in
    :func:`best_constant_rule`."""
    start = time.perf_counter()
    check_instance(game, StatefulGame, "game")
    one_round = solve(game.replace(horizon=1), "rational", margin=margin, **search_options)
    theta = np.tile(one_round.theta, (game.horizon, 1))
    return _gap_to_optimum(game, model, _verified(game, theta, model, None, "one-round-repeated", {}, start))


def uniform_weights(game: StatefulGame, model: str = "rational") -> StackelbergResult:
    """Equal weight on every feature in every round, and ``model``'s response; ``optimality_gap`` as in
    :func:`best_constant_rule`."""
    check_instance(game, StatefulGame, "game")
    return _gap_to_optimum(game, model, evaluate_rule(game, uniform_rule(game), model, "uniform"))


def evaluate_rule(game: StatefulGame, theta, model: str = "rational", method: str = "given") -> StackelbergResult:
    """Any assessment policy ``theta`` ``(T, n)`` and ``model``'s response, as a result (``optimality_gap`` inf)."""
    start = time.perf_counter()
    check_instance(game, StatefulGame, "game")
    theta = check_assessment_policy(game, theta, batch=False)
    _check_model(model)
    return _verified(game, theta, model, None, method, {}, start, optimality_gap=np.inf)


def _gap_to_optimum(game: StatefulGame, model: str, result: StackelbergResult) -> StackelbergResult:
    """``result`` with ``optimality_gap`` = (bound on the dynamic optimum) - its value: the exact optimum
    (:func:`solve`) for linear ``g``, the bound of :func:`search_optimum` for concave ``g``."""
    bound = solve(game, model).principal_value if game.is_linear else _upper_bound(game)
    certificate = dataclasses.replace(result.certificate, optimum_bound=bound,
                                      optimality_gap=_gap(game, bound, result.principal_value, result.method))
    return dataclasses.replace(result, certificate=certificate)


def _gap(game: StatefulGame, bound: float, value: float, method: str) -> float:
    """``bound - value`` (``>= 0``), or ``RuntimeError`` if ``value`` beats the bound on the optimum by more than
    rounding (``VALUE_TOL`` relative): then a solver is wrong, and a gap clipped to 0 would hide it."""
    gap = bound - value
    if gap < -VALUE_TOL * _value_scale(game):
        raise RuntimeError(f"{method}: its value {value!r} exceeds {bound!r}, the bound on the optimum")
    return max(gap, 0.0)


def _value_scale(game: StatefulGame) -> float:
    """``T B max|lambda|`` (``T B`` if ``lambda = 0``): the most any policy is worth to the principal, the unit of the
    value tolerances, so they mean the same at any ``B`` and ``lambda`` (``max(1, ...)`` made them vacuous)."""
    return game.horizon * game.budget * _largest_value(game)


def _largest_value(game: StatefulGame) -> float:
    """``max_j |lambda_j|``, or 1 if every ``lambda_j = 0``: the solvers state the principal's values in this unit."""
    largest = float(np.abs(game.effort_value).max())
    return largest if largest > 0.0 else 1.0


def _upper_bound(game: StatefulGame) -> float:
    """``T B max(max_j lambda_j, 0)``: the principal's value if its favourite option were taken every round."""
    return game.horizon * game.budget * max(float(game.effort_value.max()), 0.0)


# ---------------------------------------------------------------------------------------------
# Entry point and the independent re-check
# ---------------------------------------------------------------------------------------------

#: Methods of :func:`solve`; ``auto`` means ``milp`` (rational) / ``per-round`` (myopic, forecasting) for
#: linear ``g`` and ``search`` for concave ``g``.
METHODS = ("auto", "milp", "brute-force", "per-round", "search")


def solve(game: StatefulGame, response_model: str = "rational", method: str = "auto", margin: float = 0.0,
          **options) -> StackelbergResult:
    """The principal's optimal assessment policy against ``response_model``'s agent.

    ``method`` is one of :data:`METHODS`; ``options`` go to the chosen solver (e.g. ``constant=True``,
    ``time_limit`` seconds for ``milp``, ``n_samples`` for ``search``). Linear ``g`` results are exact, with ties
    broken in the principal's favour (the agent may be indifferent within the tie zone; use ``margin > 0`` for a
    strict incentive); a MILP stopped by ``time_limit`` returns its best policy with ``is_optimal`` False and the
    certified ``optimality_gap``. Concave ``g`` results
    are certified feasible with an ``optimality_gap`` (see :func:`search_optimum`); ``margin`` must then be 0.
    ``ValueError`` for bad arguments (e.g. ``game`` not a :class:`~stratgym.games.stateful.StatefulGame`).
    """
    check_instance(game, StatefulGame, "game")
    _check_model(response_model)
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if method == "auto":
        method = ("milp" if response_model == "rational" else "per-round") if game.is_linear else "search"
    if method == "milp":
        return milp_optimum(game, response_model, margin, **options)
    if method == "brute-force":
        return brute_force_optimum(game, response_model, margin, **options)
    if method == "per-round":
        return per_round_optimum(game, response_model, margin, **options)
    _require_no_margin(margin, "search")
    return search_optimum(game, response_model, **options)


def _verified(game: StatefulGame, theta: np.ndarray, model: str, claimed_value: float | None, method: str,
              diagnostics: dict[str, Any], start: float, optimality_gap: float = 0.0,
              optimum_bound: float | None = None, min_slack: float | None = None) -> StackelbergResult:
    """Recompute the agent's response to ``theta`` and return the result with its :class:`Certificate` (the solver's
    ``optimality_gap``, ``optimum_bound``, ``min_slack``, and the re-checked response's margins and duality gap), or
    ``RuntimeError`` if the claim is off."""
    response = best_response(game, theta, model)
    played = rollout(game, theta, response.effort)
    value = float(played.principal_utility)
    if claimed_value is not None and abs(value - claimed_value) > VALUE_TOL * _value_scale(game):
        raise RuntimeError(f"{method}: the {model} agent's best response to the returned rule gives the principal "
                           f"{value!r}, but the solver claimed {claimed_value!r}")
    # The response itself is checked by second computations: the incentive margins through the response
    # operator (linear g: no used option more than a tie below an unused one) and, independently of that
    # operator, rollouts of every one-round deviation; or a fresh Frank–Wolfe gap (concave g: no more than the
    # gap best_response certified).
    margins = None
    if game.is_linear:
        margins = incentive_margins(game, theta, response.effort, model)
        if np.any(margins < -2.0 * TIE_TOL * round_scales(game, model)):
            raise RuntimeError(f"{method}: best_response returned an effort policy that the {model} agent's incentive "
                               f"margins reject ({margins})")
        gains, tolerance = _deviation_gains(game, theta, response.effort, model)
        if np.any(gains > tolerance):
            raise RuntimeError(f"{method}: one-round deviations scored by rollout beat the {model} agent's best "
                               f"response by {gains} (allowed {tolerance})")
    elif model == "rational":
        gap = frank_wolfe_gap(game, theta, response.effort)
        # max(1, ...) on purpose here: the concave agent's gap_tol is absolute (agent utility units), and so is
        # the slack for recomputing its gap.
        if gap > response.duality_gap + 1e-9 * max(1.0, abs(float(played.agent_utility))):
            raise RuntimeError(f"{method}: the concave best response claimed duality gap {response.duality_gap!r}, "
                               f"but its Frank–Wolfe gap is {gap!r}")
        margins = incentive_margins(game, theta, response.effort, model)
    certificate = Certificate(optimality_gap=float(optimality_gap), optimum_bound=optimum_bound,
                              incentive_margins=margins, min_slack=min_slack,
                              agent_duality_gap=float(response.duality_gap))
    return StackelbergResult(theta=theta, effort=response.effort, principal_value=value,
                             agent_value=float(played.agent_utility), agent=model, method=method,
                             certificate=certificate, diagnostics=diagnostics, solve_time=time.perf_counter() - start)


def _deviation_gains(game: StatefulGame, theta: np.ndarray, effort: np.ndarray, model: str
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Per round ``tau``, how much the best one-round pure deviation (the whole budget on one type, or no effort, in
    round ``tau`` only) improves what ``model``'s agent maximizes there, scored by :func:`rollout`; and the
    tolerance a tie allows. Both shape ``(T,)``; linear ``g`` only; ``T (d + 2)`` policies in one batched rollout.

    What the agent maximizes in round ``tau``: rational, ``sum_t gamma^(t-1) y_t``; myopic, ``y_tau``; forecasting,
    ``sum_{t >= tau} gamma^(t-tau) y_t`` with ``theta_tau`` in force from round ``tau`` on. With linear ``g`` each is
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
    thetas = np.broadcast_to(theta, (T, T, n))
    if model == "forecasting":
        thetas = np.where(later[..., None], theta[:, None, :], theta[None, :, :])
    discounts = game.discount ** rounds.astype(float)
    weights = {"rational": np.broadcast_to(discounts, (T, T)),
               "myopic": np.eye(T),
               "forecasting": np.where(later, game.discount ** np.maximum(rounds[None, :] - rounds[:, None], 0), 0.0)
               }[model]
    objectives = np.einsum("kot,kt->ko", rollout(game, thetas[:, None], efforts).scores, weights)
    gains = objectives[:, 1:].max(axis=1) - objectives[:, 0]
    tolerance = 2.0 * TIE_TOL * game.budget * round_scales(game, model) + 1e-12 * np.abs(objectives).max()
    return gains, tolerance


# ---------------------------------------------------------------------------------------------
# Argument checks
# ---------------------------------------------------------------------------------------------

def _require_linear(game: StatefulGame, what: str) -> None:
    check_instance(game, StatefulGame, "game")
    if not game.is_linear:
        raise ValueError(f"{what} requires linear g (game.conversion='linear'), got conversion={game.conversion!r}; "
                         "use incentivizing_rule / search_optimum for concave g")


def _require_no_margin(margin: float, what: str) -> None:
    if as_nonnegative_float(margin, "margin") > 0.0:
        raise NotImplementedError(f"{what} does not enforce a strict incentive: margin must be 0, got {margin}")


def _check_model(model: str) -> None:
    if model not in RESPONSE_MODELS:
        raise ValueError(f"model must be one of {RESPONSE_MODELS}, got {model!r}")


def _check_effort(game: StatefulGame, effort) -> np.ndarray:
    return np.clip(check_effort_policy(game, effort, batch=False), 0.0, None)


