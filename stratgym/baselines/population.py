"""The principal's exact optimum against a population of the stateful game (:mod:`stratgym.games.population`).

One rule sequence ``theta`` ``(T, n)`` faces every agent type ``k``; type ``k`` ranks its options in round ``tau``
by values ``c^k_tau = A^k[tau] . theta`` (:func:`~stratgym.baselines.stateful.response_operator`, linear ``g``) and
puts its budget on the principal's favourite argmax, exactly the single-agent tie rule. The principal's problem
is a MILP (:func:`population_milp`): one binary per (type, round, option), the single-agent big-M argmax rows
for every type on the *shared* rule variables, objective ``sum_k w_k B_k lambda^k . z^k``. Each type's rows are
stated in units of its round scale (:func:`~stratgym.games.stateful.round_scales`, the unit of its ties) with the
single-agent leads (:func:`~stratgym.baselines.stateful.operators.round_leads`: the chosen option may trail by
``TIE_TOL``, the agent's tie zone), as in :func:`~stratgym.baselines.stateful.milp_optimum`. Since the MILP picks
every type's option within its tie zone, ties go to the principal per type (strong Stackelberg, type by type).

The returned ``theta`` is the rule of a joint certificate LP (:func:`joint_certificate`) that makes every type's
chosen pure policy a best response while maximizing the sum of the per-round strict incentives, so that ties the
optimum does not need are broken; the types' own best responses to it must give the principal the MILP's value. If
they do not (HiGHS's MILP tolerance is looser), a no-good cut excludes the choice and the MILP is solved again.
Every result is re-checked: each type's :func:`~stratgym.games.stateful.best_response` to the returned rule must
give the principal the claimed value within ``VALUE_TOL`` (relative to ``T max_k B_k max|lambda^k|``), else
``RuntimeError``.
:func:`population_brute_force` enumerates the types' pure policies jointly (small instances), the independent check.

``per_group=True``: one rule sequence per group; the groups' problems separate (no type sees another group's
rule), so each group's population is solved on its own and the values add up with the groups' weights.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from typing import Any, Callable, ClassVar

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from stratgym.baselines.results import SolverResult, agent_name, deprecated_property
from stratgym.baselines.stateful import MAX_NO_GOOD_CUTS, VALUE_TOL, response_operator, solve
from stratgym.baselines.highs import inside_zone, rescale_small_rows
from stratgym.baselines.stateful.operators import option_combinations, round_leads
from stratgym.games.validation import as_bool, as_nonnegative_float, check_instance
from stratgym.games.metrics import SocialMetrics
from stratgym.games.population import StatefulPopulation, population_outcome
from stratgym.games.stateful import round_scales, stateful_agent, uniform_rule

#: HiGHS LP tolerances of the certificate LP (those of the single-agent membership LP).
LP_OPTIONS = {"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10}
#: Default cap on the joint pure policies ``prod_k (d+1)^T`` that :func:`population_brute_force` enumerates.
BRUTE_FORCE_CAP = 20_000


@dataclass(frozen=True, kw_only=True)
class PopulationResult(SolverResult):
    """A principal policy for a population and every type's response, re-checked before it is returned (the common
    :class:`~stratgym.baselines.results.SolverResult` contract).

    Attributes (beyond :class:`SolverResult`'s):
        theta: ``(T, n)`` the published policy, or ``(G, T, n)`` one per group (``per_group``): the ``policy``.
        effort: ``(K, T, d)`` each type's best response.
        principal_utilities: ``(K,)`` each type's ``U_P^k``.
        metrics: social metrics per group and overall (:mod:`stratgym.games.metrics`).
        agent: the types' behaviour; ``per_group``: one rule per group.

    ``principal_value`` is ``sum_k w_k U_P^k`` and ``agent_value`` ``sum_k w_k U_A^k``; ``diagnostics`` holds the
    solver's bookkeeping (MILP status, nodes, cuts, the certificate LP's total slack).
    """

    theta: np.ndarray
    effort: np.ndarray
    principal_utilities: np.ndarray
    metrics: SocialMetrics
    agent: Any
    per_group: bool = False
    policy_field: ClassVar[str] = "theta"

    principal_utility = deprecated_property("principal_value")
    response_model = deprecated_property("agent", agent_name, "Deprecated: ``agent`` (this returns its name).")


def _check(population: StatefulPopulation, model) -> None:
    check_instance(population, StatefulPopulation, "population")
    stateful_agent(model)  # Rational(), Lookahead(k) or their names; ValueError otherwise
    if population.types[0].conversion != "linear":
        raise ValueError(f"the population optimum needs linear g, got conversion={population.types[0].conversion!r}")


def _scaled_operators(population: StatefulPopulation, model, constant: bool) -> np.ndarray:
    """``(K, T, d, R, n)``: every type's response operator in units of its round scales, folded to one rule if
    ``constant`` (``R = 1``, else ``T``)."""
    operators = []
    for game in population.types:
        operator = response_operator(game, model) / round_scales(game, model)[:, None, None, None]
        operators.append(operator.sum(axis=2, keepdims=True) if constant else operator)
    return np.array(operators)


def _value_unit(population: StatefulPopulation) -> float:
    """``max_k B_k max_j |lambda^k_j|`` (1 if all zero): the unit the MILP's objective is stated in."""
    unit = max(game.budget * float(np.abs(game.effort_value).max()) for game in population.types)
    return unit if unit > 0 else 1.0


def _option_values(population: StatefulPopulation) -> np.ndarray:
    """``(K, d + 1)``: ``w_k B_k lambda^k_j`` per option (no effort last, worth 0): the principal's value per round."""
    return np.array([w * game.budget * np.append(game.effort_value, 0.0)
                     for w, game in zip(population.weights, population.types)])


def joint_certificate(values: np.ndarray, choices: np.ndarray, leads: np.ndarray,
                      accept: Callable[[np.ndarray], bool] | None = None
                      ) -> tuple[np.ndarray | None, float]:
    """Rules ``(R, n)`` making every type's pure choice ``choices`` ``(K, T)`` (option ``d`` = no effort) a best
    response under scaled operators ``values`` ``(K, T, d, R, n)``, or ``None``; and the total incentive.

    ``leads`` ``(K, T)``, in units of each type's round scale, are the single-agent solver's
    (:func:`~stratgym.baselines.stateful.operators.round_leads`): ``-TIE_TOL`` without a margin (the chosen option
    may trail by the agent's tie zone ``z = TIE_TOL``), ``m = margin / S + TIE_TOL`` with one. Per type and round
    that spends its budget, as the single-agent membership LP: a level ``mu_kt`` with ``c_o <= mu_kt <= c_o + z``
    for the chosen type ``o``, and an incentive ``s_kt`` in ``[0, 1]`` with ``c_j <= mu_kt - m - s_kt`` for every
    other type and ``mu_kt >= m + s_kt`` (no effort, worth 0); the ``s_kt`` are maximized in sum. A round choosing no
    effort needs every type's value ``<= z - m``. Why levels rather than differences ``c_j - c_o``: two nearly
    proportional types differ by coefficients of about 1e-9, which HiGHS drops; their difference is also stated in
    its own units (:func:`~stratgym.baselines.highs.rescale_small_rows`). The returned total is the sum
    of the chosen options' leads, ``s_kt + m - z``.

    The zone enters in steps, each solution offered to ``accept(rules)`` (default: any; the types' own responses):
    first ``z = 0`` (exact ties, which the agent's zone holds with room to spare), then ``z = TIE_TOL`` (a vertex may
    then sit on the zone's edge, where rounding decides; rows held in their own units stay a hair inside it). The
    first accepted solution is returned.
    """
    K, T, d, R, n = values.shape
    n_rules = R * n
    spending = [(k, tau) for k, tau in itertools.product(range(K), range(T)) if choices[k, tau] != d]
    n_vars = n_rules + 2 * len(spending)  # rules, then (mu, s) per spending type-round
    # Each row's bound is base + share * zone: the tie zone enters in steps (see below).
    rows, base, zones = [], [], []

    def add(coefficients: np.ndarray, columns: dict[int, float], bound: float, zone: float = 0.0) -> None:
        row = np.zeros(n_vars)
        row[:n_rules] = coefficients
        for column, value in columns.items():
            row[column] = value
        rows.append(row)
        base.append(bound)
        zones.append(zone)

    for index, (k, tau) in enumerate(spending):
        option, lead = choices[k, tau], float(leads[k, tau])
        block = values[k, tau].reshape(d, n_rules)
        mu, s = n_rules + 2 * index, n_rules + 2 * index + 1
        strict = max(lead, 0.0)
        add(block[option], {mu: -1.0}, 0.0)
        add(-block[option], {mu: 1.0}, 0.0, max(-lead, 0.0))
        for j in range(d):
            if j != option:
                add(block[j], {mu: -1.0, s: 1.0}, -strict)
        add(np.zeros(n_rules), {mu: -1.0, s: 1.0}, -strict)
    small_rows = 0
    for k, tau in itertools.product(range(K), range(T)):
        option, lead = choices[k, tau], float(leads[k, tau])
        local = option_combinations(d)[option] @ values[k, tau].reshape(d, n_rules)  # option o: local . phi <= -lead
        if option == d:
            for row in local:
                add(row, {}, -max(lead, 0.0), max(-lead, 0.0))
        unit = rescale_small_rows(local)
        hair = float(inside_zone(lead))  # held exactly, so a hair inside the zone
        for row, row_unit in zip(local[unit < 1.0], unit[unit < 1.0]):
            add(row / row_unit, {}, -max(hair, 0.0) / row_unit, max(-hair, 0.0) / row_unit)
            small_rows += 1
    a_ub = np.array(rows).reshape(-1, n_vars)
    base, zones = np.array(base), np.array(zones)
    a_eq = np.zeros((R, n_vars))
    a_eq[:, :n_rules] = np.kron(np.eye(R), np.ones(n))
    objective = np.zeros(n_vars)
    objective[n_rules + 1::2] = -1.0
    # HiGHS's presolve, combining nearly parallel rows, calls feasible LPs infeasible (see membership_lp).
    options = LP_OPTIONS | ({"presolve": False} if small_rows else {})
    # Exact ties first (a vertex on a tie sits well inside the agent's zone), then the zone, then past it.
    shares = (0.0, 1.0) if zones.any() else (0.0,)
    total = float("nan")
    for share in shares:
        bounds = [(0.0, 1.0)] * n_rules + [(None, None), (0.0, 1.0)] * len(spending)  # rules, (mu, s)
        result = linprog(objective, A_ub=a_ub if len(a_ub) else None,
                         b_ub=base + share * zones if len(a_ub) else None, A_eq=a_eq,
                         b_eq=np.ones(R), bounds=bounds, method="highs", options=options)
        if result.status == 2:
            continue
        if result.status != 0:
            raise RuntimeError(f"joint certificate LP failed: {result.message}")
        rules = np.clip(result.x[:n_rules].reshape(R, n), 0.0, None)
        rules /= rules.sum(axis=1, keepdims=True)
        total = float(sum(result.x[n_rules + 2 * i + 1] + max(leads[key], 0.0) - share * max(-leads[key], 0.0)
                          for i, key in enumerate(spending)))
        if accept is None or accept(rules):
            return rules, total
    return None, total


def _certified(population: StatefulPopulation, values: np.ndarray, choices: np.ndarray, leads: np.ndarray,
               model, claimed: float) -> tuple[np.ndarray | None, float, float]:
    """``(rules, total incentive, value)``: :func:`joint_certificate`'s rules for ``choices``, accepted if the
    types' own best responses to them give the principal ``value >= claimed`` (within ``VALUE_TOL``), else ``None``,
    as the single-agent solvers decide."""
    tolerance = VALUE_TOL * population.horizon * _value_unit(population)
    realized = []

    def earns_claimed(rules: np.ndarray) -> bool:
        theta = np.repeat(rules, population.horizon // len(rules), axis=0)
        realized.append(population_outcome(population, theta, model).principal_utility)
        return realized[-1] >= claimed - tolerance

    rules, total = joint_certificate(values, choices, leads, earns_claimed)
    return rules, total, (realized[-1] if rules is not None else float("nan"))


def population_milp(population: StatefulPopulation, model="rational", constant: bool = False,
                    time_limit: float | None = None, margin: float = 0.0) -> PopulationResult:
    """The exact optimal rule sequence for ``population`` against ``model``'s agents (linear ``g``), as a MILP
    (module docstring); ``constant`` restricts to one rule for every round. ``RuntimeError`` if HiGHS stops early.

    ``margin > 0`` (utility units, as :func:`stratgym.baselines.stateful.solve`'s): the robust optimum, where every
    type's chosen option leads every other option by ``margin`` in every round (beyond the tie zone), so no type's
    response rests on a tie; ``ValueError`` if no rule achieves it."""
    start = time.perf_counter()
    _check(population, model)
    constant = as_bool(constant, "constant")
    margin = as_nonnegative_float(margin, "margin")
    values = _scaled_operators(population, model, constant)
    K, T, d, R, n = values.shape
    # Each type's leads in units of its round scales: the single-agent solver's rule (round_leads), type by type.
    leads = np.array([round_leads(margin, round_scales(game, model), ties=True) for game in population.types])
    n_rules, n_options = R * n, d + 1
    n_vars = n_rules + K * T * n_options
    choice = lambda k, tau, option: n_rules + (k * T + tau) * n_options + option  # noqa: E731 (variable index)
    rows, upper = [], []
    impossible = np.zeros((K, T, n_options), dtype=bool)

    def implication(k: int, tau: int, option: int, coefficients: np.ndarray) -> None:
        """``z[k, tau, option] = 1  =>  coefficients . phi <= -lead`` as a big-M row, or mark the option impossible."""
        lead = float(leads[k, tau])
        unit = rescale_small_rows(coefficients.reshape(1, -1))[0]
        if unit < 1.0:  # a nearly proportional pair: in its own units below, and a hair inside the zone
            lead = float(inside_zone(lead))
        big_m = float(coefficients.max(axis=-1).sum()) + lead
        if big_m <= 0.0:
            return  # holds for every rule
        if float(coefficients.min(axis=-1).sum()) + lead > 1e-12:
            impossible[k, tau, option] = True  # not even the best rule satisfies it
            return
        row = np.zeros(n_vars)
        row[:n_rules] = coefficients.ravel() / unit
        row[choice(k, tau, option)] = big_m / unit
        rows.append(row)
        upper.append((big_m - lead) / unit)

    for k, tau in itertools.product(range(K), range(T)):
        block = values[k, tau]
        for j in range(d):
            for i in range(d):
                if i != j:
                    implication(k, tau, j, block[i] - block[j])
            implication(k, tau, d, block[j])
    rows.extend(np.concatenate([np.kron(np.eye(R), np.ones(n)), np.zeros((R, n_vars - n_rules))], axis=1))
    rows.extend(np.concatenate([np.zeros((K * T, n_rules)), np.kron(np.eye(K * T), np.ones(n_options))], axis=1))
    lower = [-np.inf] * len(upper) + [1.0] * (R + K * T)
    upper = upper + [1.0] * (R + K * T)
    unit = _value_unit(population)
    objective = np.r_[np.zeros(n_rules), -np.repeat(_option_values(population) / unit, T, axis=0).ravel()]
    integrality = np.r_[np.zeros(n_rules), np.ones(n_vars - n_rules)]
    bounds = Bounds(np.zeros(n_vars), np.r_[np.ones(n_rules), np.where(impossible, 0.0, 1.0).ravel()])
    options = {"mip_rel_gap": 0.0} | ({} if time_limit is None else {"time_limit": float(time_limit)})
    for cuts in range(MAX_NO_GOOD_CUTS + 1):
        result = milp(objective, integrality=integrality, bounds=bounds,
                      constraints=LinearConstraint(np.array(rows), lower, upper), options=options)
        if result.status == 2 and margin > 0.0:
            raise ValueError(f"no policy gives every type a strict incentive of margin={margin:g}")
        if result.status != 0:
            raise RuntimeError(f"population MILP not solved to optimality after {cuts} no-good cuts: {result.message}")
        chosen = result.x[n_rules:].reshape(K, T, n_options).argmax(axis=2)
        rules, total_slack, value = _certified(population, values, chosen, leads, model, -result.fun * unit)
        if rules is not None:
            break
        cut = np.zeros(n_vars)  # forbid exactly this joint choice and solve again
        cut[[choice(k, tau, o) for (k, tau), o in np.ndenumerate(chosen)]] = 1.0
        rows.append(cut)
        lower.append(-np.inf)
        upper.append(K * T - 1.0)
    else:
        raise RuntimeError(f"the certificate LP rejected {MAX_NO_GOOD_CUTS + 1} successive MILP solutions")
    diagnostics = {"milp_status": result.message, "milp_nodes": result.mip_node_count, "no_good_cuts": cuts,
                   "total_slack": total_slack, "binaries": K * T * n_options}
    theta = np.repeat(rules, T // R, axis=0)
    return verified(population, theta, model, value, "best-constant" if constant else "milp", diagnostics, start)


def population_brute_force(population: StatefulPopulation, model="rational",
                           max_policies: int = BRUTE_FORCE_CAP) -> PopulationResult:
    """The exact optimum by enumeration: every joint pure policy (each type: in each round the whole budget on one
    type, or nothing), by decreasing weighted principal value, until :func:`joint_certificate` accepts one. Each
    type's favourite response to any rule is pure, so this is the optimum. ``ValueError`` above ``max_policies``."""
    start = time.perf_counter()
    _check(population, model)
    values = _scaled_operators(population, model, False)
    K, T, d = values.shape[:3]
    per_type = (d + 1) ** T
    if per_type ** K > max_policies:
        raise ValueError(f"brute force would enumerate ((d+1)^T)^K = {per_type}^{K} joint policies, more than "
                         f"max_policies={max_policies}")
    pure = np.stack(np.unravel_index(np.arange(per_type), (d + 1,) * T), axis=1)  # (P, T) options
    type_values = _option_values(population)[:, pure].sum(axis=2)  # (K, P)
    joint = np.stack(np.unravel_index(np.arange(per_type ** K), (per_type,) * K), axis=1)  # (P^K, K)
    totals = type_values[np.arange(K), joint].sum(axis=1)
    leads = np.array([round_leads(0.0, round_scales(game, model), ties=True) for game in population.types])
    for checked, index in enumerate(np.argsort(-totals, kind="stable"), start=1):
        rules, total_slack, value = _certified(population, values, pure[joint[index]], leads, model,
                                               float(totals[index]))
        if rules is not None:
            return verified(population, rules, model, value, "brute-force",
                            {"policies_checked": checked, "total_slack": total_slack}, start)
    raise RuntimeError("no joint pure policy has a certificate, yet no effort everywhere always has one")


def population_optimum(population: StatefulPopulation, model="rational", per_group: bool = False,
                       constant: bool = False, margin: float = 0.0) -> PopulationResult:
    """The optimum for ``population``: :func:`population_milp`, or with ``per_group`` one MILP per group (the
    groups' problems separate), the rules stacked ``(G, T, n)`` in the order of ``population.group_names``;
    ``margin > 0``: the robust optimum (:func:`population_milp`)."""
    start = time.perf_counter()
    per_group = as_bool(per_group, "per_group")
    if not per_group:
        return population_milp(population, model, constant, margin=margin)
    _check(population, model)
    parts = [population_milp(population.subpopulation(group), model, constant, margin=margin)
             for group in population.group_names]
    theta = np.array([part.theta for part in parts])
    claimed = sum(population.weights[np.array(population.groups) == group].sum() * part.principal_value
                  for group, part in zip(population.group_names, parts))
    diagnostics = {"groups": {group: part.diagnostics for group, part in zip(population.group_names, parts)}}
    return verified(population, theta, model, float(claimed), parts[0].method, diagnostics, start, per_group=True)


def evaluate_population_rule(population: StatefulPopulation, theta, model="rational",
                             per_group: bool = False, method: str = "given") -> PopulationResult:
    """Any published policy (``(T, n)``, or ``(G, T, n)`` with ``per_group``) and every type's response."""
    return verified(population, theta, model, None, method, {}, time.perf_counter(), per_group)


def population_baselines(population: StatefulPopulation, model="rational") -> dict[str, PopulationResult]:
    """Reference policies: the best constant rule for everyone, the uniform rule, and the rule a designer who ignores
    heterogeneity picks (the optimum of the heaviest type alone, published to all)."""
    single = solve(population.types[int(np.argmax(population.weights))], model).theta
    return {"best constant rule": population_milp(population, model, constant=True),
            "uniform rule": evaluate_population_rule(population, uniform_rule(population.types[0]), model,
                                                     method="uniform"),
            "heaviest type's optimum": evaluate_population_rule(population, single, model, method="heaviest-type")}


def verified(population: StatefulPopulation, theta: np.ndarray, model, claimed: float | None, method: str,
             diagnostics: dict[str, Any], start: float, per_group: bool = False) -> PopulationResult:
    """Recompute every type's best response to ``theta`` and return the result; ``RuntimeError`` if the principal's
    weighted value differs from ``claimed`` by more than ``VALUE_TOL`` relative to ``T max_k B_k max|lambda^k|``."""
    outcome = population_outcome(population, theta, model, per_group)
    value = outcome.principal_utility
    if claimed is not None and abs(value - claimed) > VALUE_TOL * population.horizon * _value_unit(population):
        raise RuntimeError(f"{method}: the types' best responses to the returned rule give the principal {value!r}, "
                           f"but the solver claimed {claimed!r}")
    return PopulationResult(theta=np.asarray(theta, dtype=np.float64), effort=outcome.effort, principal_value=value,
                            agent_value=float(population.weights @ outcome.agent_utilities),
                            principal_utilities=outcome.principal_utilities, metrics=outcome.metrics,
                            agent=stateful_agent(model),
                            method=method, per_group=per_group, diagnostics=diagnostics,
                            solve_time=time.perf_counter() - start)
