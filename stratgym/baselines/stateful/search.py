"""Exact optimum against a linear-``g`` agent by enumeration (brute force) and by the per-round decomposition of
the myopic and forecasting agents; and the search over rules for concave ``g``."""

from __future__ import annotations

import time
from typing import Any, Callable

import numpy as np

from stratgym.baselines.results import StackelbergResult
from stratgym.baselines.stateful.common import (VALUE_TOL, check_model, pure_policy, require_linear, value_scale,
                                                value_upper_bound)
from stratgym.baselines.stateful.membership import certified_rules, incentivizing_rule, membership_lp
from stratgym.baselines.stateful.milp import milp_optimum
from stratgym.baselines.stateful.operators import expand_rules, fold_operator, operator_scales, response_operator
from stratgym.baselines.stateful.verify import certified_gap, principal_value_of, verified_result
from stratgym.games.behaviour import Rational
from stratgym.games.validation import as_bool, as_nonnegative_float, as_positive_int, check_instance
from stratgym.games.stateful import StatefulGame, best_response, per_round_response

#: Default cap on the number of pure effort policies ``(d+1)^T`` that :func:`brute_force_optimum` enumerates.
BRUTE_FORCE_CAP = 4096


# ---------------------------------------------------------------------------------------------
# Exact optimum against a linear-g agent: brute force, per-round decomposition
# ---------------------------------------------------------------------------------------------

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
    tolerance = VALUE_TOL * value_scale(game)
    for checked, index in enumerate(np.argsort(-values, kind="stable"), start=1):
        effort = pure_policy(options[index], d, game.budget)
        claimed = game.budget * float(values[index]) - tolerance
        earned = {}  # theta and its realized value, of the last rules offered

        def earns_claimed(rules: np.ndarray) -> bool:
            earned["theta"] = expand_rules(rules, T)
            earned["value"] = realized(earned["theta"])
            return earned["value"] >= claimed

        if margin == 0.0:  # the agent's own response decides, over the steps of certified_rules
            rules, slack, status = certified_rules(operator, effort, game.budget, scales, earns_claimed)
        else:
            rules, slack, status = membership_lp(operator, effort, game.budget, margin, 0.0, scales=scales)
            if rules is not None and not earns_claimed(rules):
                rules = None
        if rules is not None:
            diagnostics = {"policies_checked": checked, "n_policies": n_policies, "certificate_lp_status": status}
            return effort, earned["theta"], earned["value"], slack, diagnostics
    raise ValueError(f"no {'constant ' if constant else ''}assessment policy gives the agent a strict incentive "
                     f"of margin={margin} in every round")


def brute_force_optimum(game: StatefulGame, model="rational", margin: float = 0.0, constant: bool = False,
                        max_policies: int = BRUTE_FORCE_CAP) -> StackelbergResult:
    """The principal's exact optimum against a linear-``g`` agent by enumeration (small ``T`` only).

    Every pure effort policy (each round: the whole budget on one type, or nothing) is tried in order of
    decreasing principal value, and the first that :func:`incentivizing_rule`'s LP certifies, and the agent's own
    best response to the certificate confirms, is optimal: the principal's favourite response to any ``theta`` is
    pure, so no mixed policy does better. Ties: as in :func:`milp_optimum` (the agent's tie zone, to the principal). ``ValueError``
    if ``(d+1)^T > max_policies`` (default :data:`BRUTE_FORCE_CAP`) or if no rule achieves ``margin``.
    """
    start = time.perf_counter()
    require_linear(game, "brute_force_optimum")
    margin = as_nonnegative_float(margin, "margin")
    constant = as_bool(constant, "constant")
    max_policies = as_positive_int(max_policies, "max_policies")
    unfolded = response_operator(game, model)
    _, theta, value, slack, diagnostics = _best_pure_policy(
        game, fold_operator(unfolded, constant), margin, constant, max_policies,
        lambda theta: principal_value_of(game, theta, model), operator_scales(unfolded))
    return verified_result(game, theta, model, value, "brute-force", diagnostics, start, min_slack=slack)


def per_round_optimum(game: StatefulGame, model, margin: float = 0.0) -> StackelbergResult:
    """The principal's exact optimum against a ``Lookahead(k)`` agent (``myopic``, ``forecasting``, any ``k``) with
    linear ``g``.

    Such an agent's choice in round ``tau`` depends on ``theta_tau`` only (:func:`response_operator`: the state
    adds a constant to its utility, and it ignores, resp. does not know, later rules), and the principal's
    utility is a sum over rounds, so the optimum is the best single-round rule of every round separately:
    the ``d + 1`` options of the round are tried by decreasing value with a one-round membership LP each.
    Rounds with the same problem (all of them for a myopic agent) are solved once. Ties go to the principal, as
    in :func:`milp_optimum`.
    """
    start = time.perf_counter()
    require_linear(game, "per_round_optimum")
    model = check_model(model)
    if isinstance(model, Rational):
        raise ValueError("per_round_optimum needs a Lookahead(k) agent ('myopic', 'forecasting'): a rational agent's "
                         "rounds are coupled through the state")
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
    return verified_result(game, np.array(rules), model, value, "per-round", diagnostics, start, min_slack=min(slacks))


# ---------------------------------------------------------------------------------------------
# Search over rules (concave g): certified lower bound with an optimality gap
# ---------------------------------------------------------------------------------------------

def search_optimum(game: StatefulGame, model="rational", constant: bool = False, n_samples: int = 32,
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
    model = check_model(model)
    n_samples = as_positive_int(n_samples, "n_samples", minimum=0)
    n_refine = as_positive_int(n_refine, "n_refine", minimum=0)
    constant = as_bool(constant, "constant")
    rng = np.random.default_rng(None if seed is None else as_positive_int(seed, "seed", minimum=0))
    T, n = game.horizon, game.n_features
    shape = (1 if constant else T, n)
    best: dict[str, Any] = {"value": -np.inf}

    def consider(rules: np.ndarray, source: str) -> bool:
        best["evaluated"] = best.get("evaluated", 0) + 1
        theta = expand_rules(rules, T)
        effort = best_response(game, theta, model).effort
        value = float(effort.sum(axis=0) @ game.effort_value)
        if value > best["value"] + 1e-12 * value_scale(game):  # strictly better, beyond rounding
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
    if isinstance(model, Rational):
        ideal = pure_policy(np.full(T, int(np.argmax(game.effort_value)) if game.effort_value.max() > 0
                                    else game.n_efforts), game.n_efforts, game.budget)
        for share in (1.0, 0.5, 0.25, 0.125):
            theta = incentivizing_rule(game, (1.0 - share) * best["effort"] + share * ideal, constant=constant)
            if theta is not None:
                consider(theta[:shape[0]], "membership")
    upper_bound = value_upper_bound(game)
    diagnostics = {"best_source": best["source"], "evaluated": best["evaluated"]}
    method = "best-constant-search" if constant else "search"
    return verified_result(game, expand_rules(best["rules"], T), model, best["value"], method, diagnostics, start,
                           optimality_gap=certified_gap(game, upper_bound, best["value"], method),
                           optimum_bound=upper_bound)


def _linear_optimum_rules(game: StatefulGame, model, constant: bool) -> np.ndarray:
    """Free rules ``(R, n)`` of the exact linear-``g`` optimum (a seed for the search)."""
    theta = (milp_optimum(game, model, constant=constant) if constant or isinstance(model, Rational)
             else per_round_optimum(game, model)).theta
    return theta[:1] if constant else theta
