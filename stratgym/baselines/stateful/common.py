"""What every solver of :mod:`stratgym.baselines.stateful` shares: tolerances, the units of the principal's
values, pure effort policies, and argument checks."""

from __future__ import annotations

import numpy as np

from stratgym.games.validation import as_nonnegative_float, check_instance
from stratgym.games.behaviour import Lookahead, Rational
from stratgym.games.stateful import StatefulGame, check_effort_policy, stateful_agent

#: Efforts above ``SUPPORT_TOL * B`` count as used (in the support); a round whose total is within
#: ``SUPPORT_TOL * B`` of ``B`` counts as spending the whole budget.
SUPPORT_TOL = 1e-9
#: A solver's claimed principal utility must match the re-checked one within ``VALUE_TOL * T B max|lambda|``
#: (relative to the most any policy can be worth, so the check keeps its meaning at any ``B`` and ``lambda``).
VALUE_TOL = 1e-6


def value_scale(game: StatefulGame) -> float:
    """``T B max|lambda|`` (``T B`` if ``lambda = 0``): the most any policy is worth to the principal, the unit of the
    value tolerances, so they mean the same at any ``B`` and ``lambda`` (``max(1, ...)`` made them vacuous)."""
    return game.horizon * game.budget * largest_value(game)


def largest_value(game: StatefulGame) -> float:
    """``max_j |lambda_j|``, or 1 if every ``lambda_j = 0``: the solvers state the principal's values in this unit."""
    largest = float(np.abs(game.effort_value).max())
    return largest if largest > 0.0 else 1.0


def value_upper_bound(game: StatefulGame) -> float:
    """``T B max(max_j lambda_j, 0)``: the principal's value if its favourite option were taken every round."""
    return game.horizon * game.budget * max(float(game.effort_value.max()), 0.0)


def pure_policy(options: np.ndarray, n_efforts: int, budget: float) -> np.ndarray:
    """Effort policy ``(..., T, d)`` from option indices ``(..., T)``: the budget on type ``o``, none if ``o = d``."""
    return budget * np.eye(n_efforts + 1)[options][..., :n_efforts]


# ---------------------------------------------------------------------------------------------
# Argument checks
# ---------------------------------------------------------------------------------------------

def require_linear(game: StatefulGame, what: str) -> None:
    """``ValueError`` unless ``game`` is a :class:`StatefulGame` with linear ``g`` (``what`` names the caller)."""
    check_instance(game, StatefulGame, "game")
    if not game.is_linear:
        raise ValueError(f"{what} requires linear g (game.conversion='linear'), got conversion={game.conversion!r}; "
                         "use incentivizing_rule / search_optimum for concave g")


def require_no_margin(margin: float, what: str) -> None:
    """``NotImplementedError`` if ``margin > 0`` (``ValueError`` if negative): ``what`` has no strict incentive."""
    if as_nonnegative_float(margin, "margin") > 0.0:
        raise NotImplementedError(f"{what} does not enforce a strict incentive: margin must be 0, got {margin}")


def check_model(model) -> Rational | Lookahead:
    """``model`` (``Rational()``, ``Lookahead(k)`` or their names) as its behaviour object: the agents the solvers
    compute best responses of; ``ValueError`` otherwise."""
    return stateful_agent(model)


def check_effort(game: StatefulGame, effort) -> np.ndarray:
    """``effort`` checked as one ``(T, d)`` effort policy, with round-off below 0 clipped to 0."""
    return np.clip(check_effort_policy(game, effort, batch=False), 0.0, None)
