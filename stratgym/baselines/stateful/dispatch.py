"""The entry point :func:`solve`: the exact method for the agent and ``g`` at hand."""

from __future__ import annotations

from stratgym.baselines.results import StackelbergResult
from stratgym.baselines.stateful.common import require_no_margin
from stratgym.baselines.stateful.milp import milp_optimum
from stratgym.baselines.stateful.search import brute_force_optimum, per_round_optimum, search_optimum
from stratgym.games.behaviour import (Lookahead, NoExactMethodError, Rational, agent_argument, as_behaviour,
                                      exact_methods_of, no_exact_method_message)
from stratgym.games.validation import check_instance
from stratgym.games.stateful import StatefulGame

#: Methods of :func:`solve`; ``auto`` means the agent's preferred exact method (``Rational().exact_methods(game)``:
#: ``milp``; ``Lookahead(k)``'s: ``per-round``) for linear ``g`` and ``search`` for concave ``g``.
METHODS = ("auto", "milp", "brute-force", "per-round", "search")


def solve(game: StatefulGame, agent=None, method: str = "auto", margin: float = 0.0, *, response_model=None,
          **options) -> StackelbergResult:
    """The principal's optimal assessment policy against ``agent`` (default ``Rational()``).

    ``agent`` is a behaviour of :mod:`stratgym.games.behaviour` or its name: ``Rational()`` (``"rational"``) or
    ``Lookahead(k)`` (``"myopic"`` is ``k = 1``, ``"forecasting"`` ``k = None``); ``response_model=`` is its
    deprecated name. ``method`` is one of :data:`METHODS`; ``"auto"`` takes the first of
    ``agent.exact_methods(game)`` for linear ``g`` (``milp`` for the rational agent, ``per-round`` for a lookahead
    agent: exact for every ``k``, since a ``k``-round planner's choice in a round depends on that round's rule
    only, so the per-round decomposition with the ``k``-round values of
    :func:`~stratgym.games.stateful.per_round_weights` is exact; ``milp`` and ``brute-force`` are exact for it too)
    and ``search`` for concave ``g``. A behaviour whose best response the game does not compute (``Quantal``,
    ``Learned``, your own) has no method: :class:`~stratgym.games.behaviour.NoExactMethodError` names it.

    ``options`` go to the chosen solver (e.g. ``constant=True``, ``time_limit`` seconds for ``milp``, ``n_samples``
    for ``search``). Linear ``g`` results are exact, with ties broken in the principal's favour (the agent may be
    indifferent within the tie zone; use ``margin > 0`` for a strict incentive); a MILP stopped by ``time_limit``
    returns its best policy with ``is_optimal`` False and the certified ``optimality_gap``. Concave ``g`` results
    are certified feasible with an ``optimality_gap`` (see :func:`search_optimum`); ``margin`` must then be 0.
    ``result.agent`` is the behaviour object. ``ValueError`` for bad arguments (e.g. ``game`` not a
    :class:`~stratgym.games.stateful.StatefulGame`).
    """
    check_instance(game, StatefulGame, "game")
    agent = as_behaviour(agent_argument(agent, Rational(), response_model=response_model), game)
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if type(agent) not in (Rational, Lookahead):  # the agents whose best response the solvers compute
        raise NoExactMethodError(no_exact_method_message(agent, "baselines.stateful.solve",
                                                         exact_methods_of(agent, game), method))
    if method == "auto":
        exact = agent.exact_methods(game)
        method = exact[0] if exact else "search"
    if method == "milp":
        return milp_optimum(game, agent, margin, **options)
    if method == "brute-force":
        return brute_force_optimum(game, agent, margin, **options)
    if method == "per-round":
        return per_round_optimum(game, agent, margin, **options)
    require_no_margin(margin, "search")
    return search_optimum(game, agent, **options)
