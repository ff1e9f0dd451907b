"""The entry point :func:`solve`: the exact method for the agent and ``g`` at hand."""

from __future__ import annotations

from stratgym.baselines.results import StackelbergResult
from stratgym.baselines.stateful.common import check_model, require_no_margin
from stratgym.baselines.stateful.milp import milp_optimum
from stratgym.baselines.stateful.search import brute_force_optimum, per_round_optimum, search_optimum
from stratgym.games.validation import check_instance
from stratgym.games.stateful import StatefulGame

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
    check_model(response_model)
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
    require_no_margin(margin, "search")
    return search_optimum(game, response_model, **options)
