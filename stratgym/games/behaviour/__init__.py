"""Agent behaviour as objects with one protocol (:class:`Behaviour`): a ``name`` and the exact solver methods that
handle it on a game (``exact_methods(game)``).

| behaviour | game | legacy name | exact methods |
|---|---|---|---|
| :class:`Rational` ``()`` | stateful, matrix | ``"rational"`` | stateful ``milp``, ``brute-force`` (linear ``g``); matrix ``lp`` / ``milp`` |
| :class:`Lookahead` ``(k)`` | stateful | ``"myopic"`` (``k=1``), ``"forecasting"`` (``k=None``) | ``per-round``, ``milp``, ``brute-force`` (linear ``g``) |
| :class:`Quantal` ``(beta, k)`` | stateful, persuasion | the float ``agent_beta`` (persuasion) | none |
| :class:`Bayesian` ``()`` | persuasion | ``agent_beta=inf`` | ``lp`` |
| :class:`Learning` ``(beta, initial_values)`` | persuasion (repeated) | ``LearningReceiver``, ``QuantalReceiver`` | none |
| :class:`Learned` ``(model)`` | both | ``AgentPolicyResponse``, ``AgentPolicyReceiver`` | none |

Every principal env takes its agent as ``agent=`` (a behaviour object, a legacy name, or any object implementing
the env's protocol, e.g. ``respond(game, rule, state, round_index, rng)``); the solvers take ``agent=`` too, pick
their method from ``exact_methods`` and raise :class:`NoExactMethodError`, naming the behaviour, when there is none.
:func:`as_behaviour` turns the legacy strings and numbers into objects.
"""

from __future__ import annotations

import re

import numpy as np

from stratgym.games.behaviour.base import (Behaviour, NoExactMethodError, agent_argument, as_rationality,
                                           behaviour_name, check_lookahead, choose_exact_method, exact_methods_of,
                                           no_exact_method_message)
from stratgym.games.behaviour.models import (Bayesian, Learned, Learning, Lookahead, Quantal, Rational,
                                             planning_game)
from stratgym.games.behaviour.receivers import (LearningReceiver, QuantalReceiver, Receiver, ReceiverContext,
                                                learning_follows, learning_update, receiver_context)

__all__ = ["Bayesian", "Behaviour", "Learned", "Learning", "LearningReceiver", "Lookahead", "NAMES",
           "NoExactMethodError", "Quantal", "QuantalReceiver", "Rational", "Receiver", "ReceiverContext",
           "agent_argument", "as_behaviour", "as_rationality", "behaviour_name", "check_lookahead",
           "choose_exact_method", "exact_methods_of", "learning_follows", "learning_update",
           "no_exact_method_message", "planning_game", "receiver_context"]

#: The behaviours :func:`as_behaviour` knows by name (also ``"lookahead-k"`` for ``Lookahead(k)``).
NAMES = {"rational": Rational(), "myopic": Lookahead(1), "forecasting": Lookahead(None), "bayesian": Bayesian(),
         "learning": Learning()}

_LOOKAHEAD_NAME = re.compile(r"lookahead-([0-9]+)")


def as_behaviour(agent, game=None):
    """``agent`` as a behaviour object.

    * a behaviour object, or any other object (e.g. one implementing only an env's protocol): as it is;
    * a name: ``"rational"`` :class:`Rational`, ``"myopic"`` ``Lookahead(1)``, ``"forecasting"`` ``Lookahead(None)``
      (on a game of horizon ``T`` the same as ``Lookahead(T)``), ``"lookahead-k"`` ``Lookahead(k)``, ``"bayesian"``
      :class:`Bayesian`, ``"learning"`` ``Learning()`` (:data:`NAMES`);
    * a number ``beta >= 0`` (the persuasion envs' former ``agent_beta``): :class:`Bayesian` if ``inf``, else
      ``Quantal(beta)``.

    ``game`` (a game instance, optional) only checks that a name or number fits its family: a number means nothing
    for a stateful game. ``ValueError`` for an unknown name or a bad number.
    """
    if isinstance(agent, str):
        if agent in NAMES:
            return NAMES[agent]
        match = _LOOKAHEAD_NAME.fullmatch(agent)
        if match:
            return Lookahead(int(match.group(1)))
        raise ValueError(f"agent name must be one of {sorted(NAMES)} or 'lookahead-<k>', got {agent!r}")
    if isinstance(agent, (bool, np.bool_)) or not isinstance(agent, (int, float, np.integer, np.floating)):
        return agent
    if game is not None and hasattr(game, "is_linear"):
        raise ValueError(f"a number ({agent!r}) names a persuasion agent's rationality; a stateful game's agent is a "
                         "behaviour such as Rational(), Lookahead(k) or Quantal(beta, k)")
    beta = as_rationality(agent, "agent (a rationality beta)")
    return Bayesian() if np.isinf(beta) else Quantal(beta)
