"""Exact optimum against a linear-``g`` agent as a MILP over which option the agent takes in each round."""

from __future__ import annotations

import time

import numpy as np

from stratgym.baselines.results import StackelbergResult
from stratgym.baselines.stateful.choice_program import FORMULATIONS, choice_program
from stratgym.baselines.stateful.common import (VALUE_TOL, largest_value, pure_policy, require_linear, value_scale,
                                                value_upper_bound)
from stratgym.baselines.stateful.membership import membership_certificate
from stratgym.baselines.stateful.operators import fold_operator, operator_scales, response_operator, round_leads
from stratgym.baselines.stateful.verify import principal_value_of, verified_result
from stratgym.games.validation import as_bool, as_nonnegative_float
from stratgym.games.stateful import StatefulGame, uniform_rule

#: How often :func:`milp_optimum` re-solves after the exact membership LP rejects the MILP's choice.
MAX_NO_GOOD_CUTS = 10


def milp_optimum(game: StatefulGame, model: str = "rational", margin: float = 0.0, constant: bool = False,
                 time_limit: float | None = None, formulation: str = "auto") -> StackelbergResult:
    """The principal's exact optimum against a linear-``g`` agent, as a MILP (HiGHS).

    Binaries ``z[tau, o]`` pick one option per round (``d`` effort types, then no effort); continuous
    rules ``phi`` (``T`` rules, or one if ``constant``). With ``c = A . phi`` (:func:`response_operator`), each
    round normalized by its scale ``S_tau`` as the agent's ties are, and the round's lead ``l_tau``
    (:func:`round_leads`: ``-TIE_TOL`` without margin, ``margin / S_tau + TIE_TOL`` with one):

    * ``z[tau, j] = 1`` implies ``c_tau_j >= c_tau_k + l_tau`` for every other type ``k`` and ``c_tau_j >= l_tau``;
    * ``z[tau, none] = 1`` implies ``c_tau_k <= -l_tau`` for every type.

    So with ``margin = 0`` the MILP picks, in every round, an option inside the agent's tie zone (within
    ``TIE_TOL`` of the best), the very zone in which :func:`~stratgym.games.stateful.best_response` gives the
    choice to the principal: ties go to the principal (strong Stackelberg), and the optimum is defined with the
    tie semantics the agent uses. Each implication is a big-M row with ``M`` the exact range of its left side over
    rules on the simplex (``sum_r max_i`` of the row's coefficients). Options that can never satisfy their rows are
    fixed to 0 beforehand. The objective is ``max sum lambda_j B z[tau, j]``, handed to HiGHS divided by
    ``B max|lambda|`` and scaled back; HiGHS runs with feasibility tolerances of 1e-10 (far inside ``TIE_TOL``), and a
    row comparing two nearly proportional options is divided by its largest coefficient (HiGHS drops entries below
    1e-9, which made such pairs look tied everywhere).

    ``formulation`` (:data:`~stratgym.baselines.stateful.choice_program.FORMULATIONS`) says how ``c`` enters the
    rows: ``rules`` over the rules themselves; ``state`` through state variables for the retained types' later
    scores, linked to the rules by the game's recursion (rational agent, dynamic rules only); ``auto`` (default)
    takes ``state`` where it applies. Both have the same feasible choices, LP relaxation and optimum
    (:mod:`~stratgym.baselines.stateful.choice_program`); the state form is much sparser, hence faster.

    Every choice is then re-derived: the max-min-slack rule inducing it (:func:`incentivizing_rule`'s LP) and the
    agent's own best response to that rule must give the principal the MILP's value. A choice that fails (only
    possible within HiGHS's tolerance of a tie zone's edge) is excluded by a no-good cut and the MILP solved
    again (at most :data:`MAX_NO_GOOD_CUTS` times), so valid input never makes it raise.

    ``time_limit`` (seconds, ``None``: none) bounds the total HiGHS time. If it runs out, the result is the better
    of HiGHS's incumbent and the best of the uniform and single-feature rules, with the certificate's
    ``optimality_gap`` = ``optimum_bound`` (HiGHS's dual bound, or ``T B max(max_j lambda_j, 0)`` if lower) minus
    its value, and ``result.is_optimal`` False; a proven optimum has gap 0 (``optimum_bound``: the dual bound).
    ``ValueError`` if no rule achieves ``margin`` or for bad arguments.

    Cost: most random instances with ``T = 50, n = 3, d = 4`` solve at the root node in a few tenths of a second.
    Instances where retained types compete with the principal's favourite over many rounds can need many
    branch-and-bound nodes and run into ``time_limit``: the LP relaxation treats each round's choice separately,
    so it can mix two "worlds" (e.g. the principal's type in 57% and a retained type in 43% of every round) that are
    consistent round by round but not jointly; see ``scripts/bench_stateful.py`` for the measured tail. Tightening
    each round on its own does not cure it: the convex hull of each round's disjunction, even taken over all later
    rules instead of a box of the state, leaves most of the root gap (``random_game(default_rng(4), horizon=50,
    n_features=3, n_efforts=4)``: LP bound -1.03, per-round hull -1.24, best policy found in 320 s -1.77) and
    slows each node down. What the relaxation misses lies across rounds: a retained type's value builds up over
    many later rounds, and options of nearly equal value to the principal make many choice sequences almost as good.
    Two more tries failed (issue 13 item 7, T = 50 seeds 4, 22, 62, 66, 69, which stop at 10 s today with 208, 704,
    1, 505, 102 nodes). (a) Suffix caps, Russian-doll style: rounds ``tau..T-1`` are, in normalized units, exactly
    the game of horizon ``T - tau``, so ``sum_{t >= tau} value(z_t) <= OPT_{T-tau}`` (its dual bound) is valid, got by
    solving horizons 1, 2, ..., T in turn. Slack 1e-9 on the caps made HiGHS cut off the true optimum (seed 4, T = 22),
    so 1e-6 is needed. Nodes fall (seed 4, T = 28: 380 instead of 1272), but the rungs get hard themselves from T of
    about 17-23 on. With 3 s per rung the ladder takes 90-112 s, and T = 50 stays open (gaps 2.5, 19.8, 0.27, 15.0
    in units of ``max|lambda|`` for seeds 22, 62, 66, 69). The caps bound each round only by its best option on top of
    ``OPT_{T-1}``. (b) A perfect incumbent: HiGHS's ``objective_bound`` set at the known optimum (seed 62:
    -28.654, proven unaided in 55 s and 5718 nodes) still takes 29 s and 3068 nodes. So a warm start at most halves
    the search. Seed 69 is not proven in 150 s (16042 nodes, gap 8.7).
    """
    start = time.perf_counter()
    require_linear(game, "milp_optimum")
    margin = as_nonnegative_float(margin, "margin")
    constant = as_bool(constant, "constant")
    if time_limit is not None:
        time_limit = as_nonnegative_float(time_limit, "time_limit", positive=True)
    if formulation not in FORMULATIONS:
        raise ValueError(f"formulation must be one of {FORMULATIONS}, got {formulation!r}")
    state_applies = model == "rational" and not constant
    if formulation == "state" and not state_applies:
        raise ValueError("formulation='state' needs a rational agent and dynamic rules (constant=False), got "
                         f"model={model!r}, constant={constant}")
    unfolded = response_operator(game, model)
    scales = operator_scales(unfolded)
    program_of = lambda rescale: choice_program(  # noqa: E731
        game, fold_operator(unfolded, constant) / scales[:, None, None, None], round_leads(margin, scales, ties=True),
        scales, state=state_applies and formulation != "rules", rescale=rescale)
    program = program_of(True)
    value_unit = game.budget * largest_value(game)
    tolerance = VALUE_TOL * value_scale(game)
    accepted, bound, result, cuts = None, np.inf, None, 0
    # A stopped dynamic MILP keeps the last part of its time for the best constant rule (a small MILP, usually far
    # better than HiGHS's incumbent then); the total stays within time_limit up to the LPs around the MILPs.
    milp_limit = None if time_limit is None else time_limit * (1.0 if constant else _DYNAMIC_SHARE)
    for cuts in range(MAX_NO_GOOD_CUTS + 1):
        remaining = None if milp_limit is None else milp_limit - (time.perf_counter() - start)
        if remaining is not None and remaining <= 0.0:
            break
        result = program.solve(remaining)
        # Without a margin the agent's own response is always a feasible choice: an infeasible MILP is HiGHS's
        # verdict on a choice at the tie zone's very edge (a pair of columns in ratio exactly 1 - TIE_TOL, held
        # exactly by the rescaled rows). The rows as written then decide (HiGHS takes such a pair as tied, and the
        # certificates sort out its choices), else the fallback below answers; never a ValueError.
        if result.status == 2 and cuts == 0 and margin == 0.0:
            program = program_of(False)
            result = program.solve(None if milp_limit is None else milp_limit - (time.perf_counter() - start))
        if result.status == 2 and cuts == 0 and margin > 0.0:
            raise ValueError(f"no {'constant ' if constant else ''}assessment policy gives a {model} agent a strict "
                             f"incentive of margin={margin} in every round")
        if result.status not in (0, 1) or result.x is None:
            break  # infeasible after cuts (every choice rejected), or out of time without an incumbent
        bound = min(bound, -result.mip_dual_bound * value_unit) if np.isfinite(result.mip_dual_bound) else bound
        chosen = program.choices(result.x)
        claimed = -result.fun * value_unit
        theta, slack, status = membership_certificate(game, pure_policy(chosen, game.n_efforts, game.budget), margin,
                                                      model, constant, None)
        value = None if theta is None else principal_value_of(game, theta, model)
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
    optimum_bound = bound if proven else min(bound, value_upper_bound(game))
    gap = 0.0 if proven else max(optimum_bound - value, 0.0)
    diagnostics = {"milp_status": "" if result is None else result.message, "proven_optimal": proven,
                   "milp_nodes": 0 if result is None else result.mip_node_count, "no_good_cuts": cuts,
                   "certificate_lp_status": status}
    return verified_result(game, theta, model, value, "best-constant" if constant else "milp", diagnostics, start,
                           optimality_gap=gap, optimum_bound=optimum_bound, min_slack=slack)


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
        yield theta, principal_value_of(game, theta, model), source
    if not constant and time_left > 0.0:
        try:
            best = milp_optimum(game, model, margin, constant=True,
                                time_limit=None if np.isinf(time_left) else time_left)
        except ValueError:  # no constant rule achieves the margin
            return
        yield best.theta, best.principal_value, "best constant rule"
