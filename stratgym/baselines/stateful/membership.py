"""Membership oracle: the assessment policy (if any) to which a given effort policy is a best response, and the
incentive margins of a response."""

from __future__ import annotations

from typing import Callable

import numpy as np
from scipy.optimize import linprog

from stratgym.baselines.highs import inside_zone, rescale_small_rows
from stratgym.baselines.stateful.common import SUPPORT_TOL, check_effort, check_model
from stratgym.baselines.stateful.operators import (best_over_rules, expand_rules, fold_operator, kkt_operator,
                                                   operator_scales, option_combinations, response_operator,
                                                   round_leads)
from stratgym.games.behaviour import Rational
from stratgym.games.validation import as_bool, as_nonnegative_float, check_instance
from stratgym.games.stateful import (GAP_TOL, StatefulGame, check_assessment_policy, clip_rows,
                                     marginal_values, round_scales, tied_options)

#: HiGHS LP tolerances: tighter than the defaults (1e-7) so that the agent's ties that a certificate relies
#: on hold far inside the best response's tie tolerance (``TIE_TOL = 1e-9`` of the round's scale; the LPs
#: normalize every round by that scale, so these tolerances are in the same units).
_LP_OPTIONS = {"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10}


def membership_lp(operator: np.ndarray, effort: np.ndarray, budget: float, margin: float, regret_tol: float,
                  forced_zero: np.ndarray | None = None, scales: np.ndarray | None = None,
                  ties: bool = True, zone_share: float = 1.0) -> tuple[np.ndarray | None, float, str]:
    """Max-min-slack rule making ``effort`` ``(T, d)`` a best response: ``(rules (R, n) or None, slack, status)``.

    Each round's values are normalized by its scale ``S_tau`` (``scales``, default :func:`operator_scales`), the
    unit of the agent's ties, so the LP's tolerances mean the same in every round whatever ``W`` and ``gamma``.
    Variables: rules ``phi`` ``(R, n)`` (rows on the simplex), one level ``mu_tau >= 0`` per round, a relative
    slack ``s >= 0``. With ``c = (operator . phi) / S`` (marginal values, or the concave gradient at ``effort``)
    and the round's lead ``l_tau`` (:func:`round_leads`; ``m_tau = max(l_tau, 0)``, ``z_tau = max(-l_tau, 0)``,
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

    ``zone_share`` scales the tie zone ``z`` (0: exact ties; :func:`certified_rules` tries both and asks the agent).
    """
    T, d, R, n = operator.shape
    scales = operator_scales(operator) if scales is None else scales
    values = (operator / scales[:, None, None, None]).reshape(T * d, R * n)
    leads = round_leads(margin, scales, ties)
    margins, tie_zone = np.maximum(leads, 0.0), zone_share * np.maximum(-leads, 0.0)
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
    exact_ties = ties and regret_tol == 0.0  # the linear agent's exact conditions, pairwise rows among them
    pair_rows, pair_bounds = _near_parallel_rows(values.reshape(T, d, n_rules), effort if exact_ties else None,
                                                 budget, margins - tie_zone, slack + 1)
    simplex_rows = np.zeros((R, slack + 1))
    simplex_rows[:, :n_rules] = np.kron(np.eye(R), np.ones(n))
    rule_upper = np.where(forced_zero, 0.0, 1.0).ravel() if forced_zero is not None else np.ones(n_rules)
    cap = 1.0 + max(best_over_rules(row.reshape(R, n)) for row in values)
    objective = np.zeros(slack + 1)
    objective[slack] = -1.0

    def solve_lp(options: dict):
        if len(pair_rows):  # HiGHS's presolve, combining them with the nearly parallel level rows, calls feasible
            options = dict(options, presolve=False)  # LPs infeasible
        return linprog(objective, A_ub=np.vstack([gradient_rows, full_rows, regret_rows, pair_rows]),
                       b_ub=np.concatenate([-np.repeat(margins, d) * ~used.ravel(), -margins[full], regret_bound,
                                            pair_bounds]),
                       A_eq=simplex_rows, b_eq=np.ones(R),
                       bounds=[(0.0, u) for u in rule_upper] + [(0.0, None)] * T + [(0.0, cap)],
                       method="highs", options=options)

    for options in (_LP_OPTIONS, {}):
        result = solve_lp(options)
        if result.status in (0, 2):
            break
        # HiGHS can stall on a long horizon at the tight tolerances: retry at its defaults (the solvers confirm
        # every certificate with the agent's best response anyway).
    if result.status != 0:  # infeasible, or HiGHS failed at both tolerances: no certificate
        return None, float("nan"), result.message
    lead = margin + float(np.min((result.x[slack] - tie_zone) * scales))
    return clip_rows(result.x[:n_rules].reshape(R, n)), lead, result.message


def _near_parallel_rows(values: np.ndarray, effort: np.ndarray, budget: float, leads: np.ndarray, width: int
                        ) -> tuple[np.ndarray, np.ndarray]:
    """For a pure ``effort``, the rows ``a . c_tau <= -l_tau`` (the MILP's, :func:`option_combinations`) of its
    choices whose coefficients are small enough to be rescaled (:func:`rescale_small_rows`), in their own units:
    ``(rows (m, width) over the LP's variables, bounds (m,))``; none for a mixed effort (or ``None``).

    They are implied by :func:`membership_lp`'s level rows, but there a pair of nearly proportional options is
    decided by the difference of two rows each held to HiGHS's tolerance (1e-10), as wide as the tie zone; these
    hold the difference itself exactly, a hair inside the zone (:func:`~stratgym.baselines.highs.inside_zone`)."""
    options = None if effort is None else pure_options(effort, budget)
    T, d, k = values.shape
    rows, bounds = [np.zeros((0, width))], [np.zeros(0)]
    for tau in range(T if options is not None else 0):
        local = option_combinations(d)[options[tau]] @ values[tau]
        unit = rescale_small_rows(local)
        small = unit < 1.0
        block = np.zeros((int(small.sum()), width))
        block[:, :k] = local[small] / unit[small, None]
        rows.append(block)
        bounds.append(-inside_zone(leads[tau]) / unit[small])
    return np.vstack(rows), np.concatenate(bounds)


def membership_certificate(game: StatefulGame, effort, margin: float, model, constant: bool,
                           regret_tol: float | None) -> tuple[np.ndarray | None, float, str]:
    """Validate, build the operator for ``game``'s ``g``, run :func:`membership_lp`; rules come back ``(T, n)``."""
    check_instance(game, StatefulGame, "game")
    effort = check_effort(game, effort)
    constant = as_bool(constant, "constant")
    margin = as_nonnegative_float(margin, "margin")
    agent = check_model(model)
    if game.is_linear:
        operator, forced_zero = response_operator(game, agent), None
        regret_tol = 0.0 if regret_tol is None else regret_tol
    else:
        if not isinstance(agent, Rational):
            raise NotImplementedError(f"membership for a {agent.name} agent with concave g is not implemented: its "
                                      "responses re-plan along the state path, so no single KKT system describes them")
        operator, forced_zero = kkt_operator(game, effort)
        regret_tol = GAP_TOL if regret_tol is None else regret_tol
        if constant:
            forced_zero = forced_zero.any(axis=0, keepdims=True)
    regret_tol = as_nonnegative_float(regret_tol, "regret_tol")
    options = pure_options(effort, game.budget) if game.is_linear and margin == 0.0 and regret_tol == 0.0 else None
    folded, scales = fold_operator(operator, constant), operator_scales(operator)
    if options is None:
        rules, slack, status = membership_lp(folded, effort, game.budget, margin, regret_tol, forced_zero, scales,
                                             ties=game.is_linear)
        return (None if rules is None else expand_rules(rules, game.horizon)), slack, status
    agent_scales = round_scales(game, agent)

    def in_tie_zone(rules: np.ndarray) -> bool:  # the agent's own tie test decides
        tied = tied_options(np.einsum("tjri,ri->tj", operator, expand_rules(rules, game.horizon)), agent_scales)
        return bool(tied[np.arange(game.horizon), options].all())

    rules, slack, status = certified_rules(folded, effort, game.budget, scales, in_tie_zone)
    return (None if rules is None else expand_rules(rules, game.horizon)), slack, status


def certified_rules(operator: np.ndarray, effort: np.ndarray, budget: float, scales: np.ndarray,
                    accept: Callable[[np.ndarray], bool]) -> tuple[np.ndarray | None, float, str]:
    """:func:`membership_lp`'s certificate for a pure ``effort`` without a margin, that ``accept(rules)`` (the agent's
    own test) takes: ``(rules (R, n) or None, slack, status)``. The LP is tried with the tie zone (the default),
    then with exact ties (a vertex on the zone's edge, where rounding decides, is then well inside it), each
    solution offered to ``accept``."""
    for zone_share in (1.0, 0.0):
        rules, slack, status = membership_lp(operator, effort, budget, 0.0, 0.0, scales=scales,
                                             zone_share=zone_share)
        if rules is not None and accept(rules):
            return rules, slack, status
    return None, float("nan"), f"no rule the agent confirms (last LP: {status})"


def pure_options(effort: np.ndarray, budget: float) -> np.ndarray | None:
    """The option of every round of a pure ``effort`` ``(T, d)`` (the whole budget on one type, or nothing), shape
    ``(T,)`` with ``d`` for no effort (the MILP's option index), or ``None`` if some round mixes."""
    used = effort > SUPPORT_TOL * budget
    counts = used.sum(axis=1)
    if np.any(counts > 1) or np.any(effort[counts == 1].sum(axis=1) < budget * (1.0 - SUPPORT_TOL)):
        return None
    return np.where(counts == 1, used.argmax(axis=1), effort.shape[1])


def incentivizing_rule(game: StatefulGame, effort, margin: float = 0.0, *, model="rational",
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
    objective; see :func:`membership_lp`): if every round can be made strict at once, the certificate is strict
    in every round. If some round needs a tie (``s = 0``), other rounds may be left tied too, and the agent's
    ties then go to the principal; ask for ``margin > 0`` when a robust rule matters.
    """
    return membership_certificate(game, effort, margin, model, constant, regret_tol)[0]


def incentive_margins(game: StatefulGame, theta, effort, model="rational") -> np.ndarray:
    """Per round, how much the worst used option beats the best unused one, shape ``(T,)`` (``inf`` if none unused).

    Options are the effort types, valued by :func:`response_operator` (linear ``g``) or by the utility gradient
    at ``effort`` (concave ``g``, rational agent), and no effort, valued 0; no effort is used when budget is left.
    A best response has margins ``>= 0`` (up to tolerance), and 0 means the agent is indifferent.
    """
    check_instance(game, StatefulGame, "game")
    theta = check_assessment_policy(game, theta, batch=False)
    effort = check_effort(game, effort)
    agent = check_model(model)
    if game.is_linear:
        values = np.einsum("tjri,ri->tj", response_operator(game, agent), theta)
    elif isinstance(agent, Rational):
        values = marginal_values(game, theta, effort)
    else:
        raise NotImplementedError(f"incentive margins of a {agent.name} agent with concave g are not defined here")
    options = np.concatenate([values, np.zeros((game.horizon, 1))], axis=1)
    used = np.concatenate([effort > SUPPORT_TOL * game.budget,
                           effort.sum(axis=1, keepdims=True) < game.budget * (1.0 - SUPPORT_TOL)], axis=1)
    worst_used = np.where(used, options, np.inf).min(axis=1)
    return worst_used - np.where(used, -np.inf, options).max(axis=1)
