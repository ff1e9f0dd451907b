"""Reference principal policies (the best constant rule, the one-round rule repeated, uniform weights, any given
rule) with their optimality gap to the dynamic optimum."""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from stratgym.baselines.results import StackelbergResult
from stratgym.baselines.stateful.common import check_model, require_no_margin, value_upper_bound
from stratgym.baselines.stateful.dispatch import solve
from stratgym.baselines.stateful.milp import milp_optimum
from stratgym.baselines.stateful.search import search_optimum
from stratgym.baselines.stateful.verify import certified_gap, verified_result
from stratgym.games.behaviour import Rational
from stratgym.games.validation import check_instance
from stratgym.games.stateful import StatefulGame, check_assessment_policy, uniform_rule

# ---------------------------------------------------------------------------------------------
# Reference principal policies
# ---------------------------------------------------------------------------------------------
# Their ``optimality_gap`` is measured against the unrestricted (dynamic) optimum, so a benchmark can
# read off how much each simple policy leaves on the table.

def best_constant_rule(game: StatefulGame, model="rational", margin: float = 0.0,
                       **search_options) -> StackelbergResult:
    """The best rule used unchanged in every round: exact (:func:`milp_optimum` with ``constant=True``) for
    linear ``g``, :func:`search_optimum` with ``constant=True`` (and ``search_options``) for concave ``g``.
    ``optimality_gap`` is measured against the best *dynamic* policy: exactly (one more :func:`solve`) for
    linear ``g``, against the bound ``T B max(max_j lambda_j, 0)`` for concave ``g``."""
    check_instance(game, StatefulGame, "game")
    if game.is_linear:
        return _gap_to_optimum(game, model, milp_optimum(game, model, margin, constant=True))
    require_no_margin(margin, "best_constant_rule with concave g")
    return _gap_to_optimum(game, model, search_optimum(game, model, constant=True, **search_options))


def repeated_one_round_rule(game: StatefulGame, model="rational", margin: float = 0.0,
                            **search_options) -> StackelbergResult:
    """What a designer who ignores the state does: the optimal rule of round 1 alone (the game with ``T = 1``,
    where all response models coincide; ``search_options`` go to :func:`search_optimum` for concave ``g``),
    repeated every round; ``model``'s agent responds to the repeated policy. ``optimality_gap`` as in
    :func:`best_constant_rule`."""
    start = time.perf_counter()
    check_instance(game, StatefulGame, "game")
    one_round = solve(game.replace(horizon=1), Rational(), margin=margin, **search_options)
    theta = np.tile(one_round.theta, (game.horizon, 1))
    return _gap_to_optimum(game, model, verified_result(game, theta, model, None, "one-round-repeated", {}, start))


def uniform_weights(game: StatefulGame, model="rational") -> StackelbergResult:
    """Equal weight on every feature in every round, and ``model``'s response; ``optimality_gap`` as in
    :func:`best_constant_rule`."""
    check_instance(game, StatefulGame, "game")
    return _gap_to_optimum(game, model, evaluate_rule(game, uniform_rule(game), model, "uniform"))


def evaluate_rule(game: StatefulGame, theta, model="rational", method: str = "given") -> StackelbergResult:
    """Any assessment policy ``theta`` ``(T, n)`` and ``model``'s response, as a result (``optimality_gap`` inf)."""
    start = time.perf_counter()
    check_instance(game, StatefulGame, "game")
    theta = check_assessment_policy(game, theta, batch=False)
    check_model(model)
    return verified_result(game, theta, model, None, method, {}, start, optimality_gap=np.inf)


def _gap_to_optimum(game: StatefulGame, model, result: StackelbergResult) -> StackelbergResult:
    """``result`` with ``optimality_gap`` = (bound on the dynamic optimum) - its value: the exact optimum
    (:func:`solve`) for linear ``g``, the bound of :func:`search_optimum` for concave ``g``."""
    bound = solve(game, model).principal_value if game.is_linear else value_upper_bound(game)
    certificate = dataclasses.replace(result.certificate, optimum_bound=bound,
                                      optimality_gap=certified_gap(game, bound, result.principal_value, result.method))
    return dataclasses.replace(result, certificate=certificate)
