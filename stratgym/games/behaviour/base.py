"""What every agent behaviour has in common: the :class:`Behaviour` protocol, the error a solver raises when a
behaviour has no exact method (:class:`NoExactMethodError`), the parameter checks of the models, and the helper that
lets the envs take their agent as ``agent=`` while the previous argument names keep working for one release."""

from __future__ import annotations

import warnings
from typing import Protocol, runtime_checkable

import numpy as np


class NoExactMethodError(ValueError):
    """An exact solver was asked for the optimum against a behaviour none of its methods handles (a quantal or learned
    agent, say); the message names the behaviour and the solver."""


@runtime_checkable
class Behaviour(Protocol):
    """An agent model: it has a ``name`` and says which exact solver methods handle it on a game.

    ``exact_methods(game)`` returns the ``method=`` names of that game family's exact solver that compute the
    principal's optimum against this behaviour, the preferred first (``()``: none; the solvers then raise
    :class:`NoExactMethodError`). How the behaviour acts is the protocol of the env it is given to, e.g.
    ``respond(game, rule, state, round_index, rng)`` in the stateful principal envs.
    """

    @property
    def name(self) -> str:
        """A short name: ``"rational"``, ``"myopic"``, ``"quantal"``, ... (the legacy strings are such names)."""
        ...

    def exact_methods(self, game) -> tuple[str, ...]:
        """The exact solver methods for this behaviour on ``game``, preferred first."""
        ...


def behaviour_name(agent) -> str:
    """``agent.name`` if it has one, else its ``repr`` (a custom object that only implements an env's protocol)."""
    name = getattr(agent, "name", None)
    return name if isinstance(name, str) else repr(agent)


def exact_methods_of(agent, game) -> tuple[str, ...]:
    """``agent.exact_methods(game)``, or ``()`` for an object without that method (a bare env-protocol object)."""
    methods = getattr(agent, "exact_methods", None)
    return tuple(methods(game)) if callable(methods) else ()


def choose_exact_method(agent, game, solver: str, method: str = "auto") -> str:
    """The method ``solver`` uses against ``agent`` on ``game``: the behaviour's preferred exact method for ``"auto"``,
    else ``method`` if the behaviour supports it; :class:`NoExactMethodError` naming the behaviour otherwise."""
    methods = exact_methods_of(agent, game)
    if method == "auto" and methods:
        return methods[0]
    if method in methods:
        return method
    raise NoExactMethodError(no_exact_method_message(agent, solver, methods, method))


def no_exact_method_message(agent, solver: str, methods: tuple[str, ...] = (), method: str = "auto") -> str:
    """The message of :class:`NoExactMethodError`: the behaviour, the solver, what the behaviour does support."""
    asked = "" if method == "auto" else f" by method={method!r}"
    supported = f"; it supports {methods}" if methods else ""
    return (f"{solver} has no exact method{asked} for the {behaviour_name(agent)!r} agent ({agent!r}){supported}: "
            "simulate it in an env instead")


def check_lookahead(k, name: str = "k") -> int | None:
    """A lookahead (rounds planned, ``>= 1``; ``None``: the rest of the horizon) as an int, ``ValueError`` naming
    ``name`` otherwise."""
    if k is None:
        return None
    if isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"{name} (lookahead rounds) must be a positive integer (1 = myopic) or None (the rest of the "
                         f"horizon), got {k!r}")
    return int(k)


def as_rationality(beta, name: str = "beta") -> float:
    """A logit rationality ``beta >= 0`` (1/utility units; ``inf`` allowed) as a float, ``ValueError`` naming ``name``."""
    if isinstance(beta, (bool, np.bool_)) or not isinstance(beta, (int, float, np.integer, np.floating)) \
            or np.isnan(beta) or beta < 0:
        raise ValueError(f"{name} must be a number >= 0 (inf allowed), got {beta!r}")
    return float(beta)


def agent_argument(agent, default, **deprecated):
    """The agent an env or solver was given: ``agent`` (``None``: ``default``), or one of the ``deprecated`` argument
    names it replaces (``response_model=``, ``receiver=``, ...; not ``None`` when given), which still works for one
    release with a ``DeprecationWarning`` attributed to the env's caller. ``ValueError`` if two are given."""
    given = [(old, value) for old, value in deprecated.items() if value is not None]
    if not given:
        return default if agent is None else agent
    if agent is not None or len(given) > 1:
        names = ["agent"] * (agent is not None) + [old for old, _ in given]
        raise ValueError(f"the agent was given twice ({', '.join(f'{n}=' for n in names)}): pass agent= only")
    old, value = given[0]
    warnings.warn(f"{old}= is deprecated and will be removed in the next release; pass agent= instead",
                  DeprecationWarning, stacklevel=3)
    return value
