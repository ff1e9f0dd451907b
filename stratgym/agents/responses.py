"""Decision-subject response models beyond the exact ones, for every principal env.

| principal env | bounded-rationality agents it takes |
|---|---|
| ``StatefulPrincipal-v0`` | ``response_model=`` :class:`LookaheadResponse`, :class:`QuantalResponse` (round by round) |
| ``StatefulCommitment-v0`` | ``response_model=`` the same objects, facing the committed policy round by round |
| ``PersuasionScheme-v0`` | ``agent_beta=``: the logit (quantal) agent over posterior expected utilities |
| ``PersuasionRecommend-v0`` | ``receiver=`` :class:`QuantalReceiver` |

Lookahead has no meaning in the persuasion game, which is one decision per rule.

The stateful models implement the :class:`stratgym.envs.stateful.ResponseModel` protocol
``respond(game, rule, state, round_index, rng) -> effort (d,)``; ``respond_to_policy`` (re-exported from
:mod:`stratgym.envs.stateful`) plays one against a whole assessment policy. Randomness comes only from the
``rng`` passed in (the env's ``np_random``), so episodes stay seeded.

* :class:`LookaheadResponse` plans ``k`` rounds ahead assuming the current rule stays in force:
  ``k = 1`` is the myopic agent, ``k >= T`` the forecasting agent.
* :class:`QuantalResponse` picks a vertex of the budget set ("all budget on type j" or "no effort")
  with logit probabilities ``∝ exp(beta * value)`` of the ``k``-round lookahead values; ``beta = inf`` is
  the exact best response with the principal-favouring tie-break, ``beta = 0`` the uniform choice.

For the repeated persuasion env (``PersuasionRecommend-v0``, protocol
:class:`stratgym.envs.persuasion.Receiver`), :class:`QuantalReceiver` is the logit version of the env's
learning receiver.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit, softmax

from stratgym.envs.persuasion import LearningReceiver, as_rationality
from stratgym.envs.stateful import respond_to_policy
from stratgym.games.stateful import StatefulGame, best_response, marginal_values

__all__ = ["LookaheadResponse", "QuantalResponse", "QuantalReceiver", "planning_game", "respond_to_policy"]


def _check_lookahead(lookahead) -> int | None:
    if lookahead is None:
        return None
    if isinstance(lookahead, (bool, np.bool_)) or not isinstance(lookahead, (int, np.integer)) or lookahead < 1:
        raise ValueError(f"lookahead must be a positive integer (rounds planned, 1 = myopic) or None "
                         f"(the rest of the horizon), got {lookahead!r}")
    return int(lookahead)


def _require_linear(game: StatefulGame) -> None:
    if not game.is_linear:
        raise ValueError(f"QuantalResponse needs a linear game (conversion='linear'), got {game.conversion!r}")


def planning_game(game: StatefulGame, state, round_index: int, lookahead: int | None) -> StatefulGame:
    """The sub-game a ``lookahead``-round planner solves at ``round_index`` (0-based) from ``state`` ``(d,)``.

    Its horizon is ``min(lookahead, T - round_index)`` (``None``: ``T - round_index``) and it starts in
    ``state``. Discounting restarts at 1, a common rescaling that leaves every argmax unchanged.
    """
    if isinstance(round_index, (bool, np.bool_)) or not isinstance(round_index, (int, np.integer)) \
            or not 0 <= round_index < game.horizon:
        raise ValueError(f"round_index must be an integer in [0, {game.horizon - 1}], got {round_index!r}")
    remaining = game.horizon - int(round_index)
    horizon = remaining if lookahead is None else min(lookahead, remaining)
    return game.replace(horizon=horizon, initial_state=np.asarray(state, dtype=np.float64))


class LookaheadResponse:
    """An agent that plans ``lookahead`` rounds ahead as if the current rule stayed in force, and plays the first.

    At round ``t`` it best-responds (``best_response(..., "rational")``, principal-favouring ties, concave
    ``g`` to the duality gap ``GAP_TOL``) to the constant policy ``rule`` in :func:`planning_game`, and
    returns that plan's first effort. ``lookahead=1`` is ``best_response(game, theta, "myopic")`` round by
    round; ``lookahead >= T`` (or ``None``) is ``"forecasting"``. Deterministic: ``rng`` is not used.
    """

    def __init__(self, lookahead: int | None):
        self.lookahead = _check_lookahead(lookahead)

    def respond(self, game: StatefulGame, rule: np.ndarray, state: np.ndarray, round_index: int,
                rng: np.random.Generator | None = None) -> np.ndarray:
        """This round's effort ``(d,)`` against ``rule`` ``(n,)`` in ``state`` ``(d,)``."""
        sub_game = planning_game(game, state, round_index, self.lookahead)
        return best_response(sub_game, np.tile(rule, (sub_game.horizon, 1)), "rational").effort[0]

    def __repr__(self) -> str:
        return f"LookaheadResponse(lookahead={self.lookahead})"


class QuantalResponse:
    """A logit (quantal) agent over the vertices of the budget set, for linear games.

    The options are "all budget ``B`` on effort type ``j``" (``j = 0..d-1``) and "no effort" (index ``d``).
    Option values are the ``lookahead``-round utilities of :class:`LookaheadResponse`'s planning problem:
    ``B c_j`` with ``c`` the sub-game's first-round marginal values (:meth:`marginal_values`), and 0 for no
    effort (for linear ``g`` the later rounds add the same amount to every option, so they cancel). The
    agent picks option ``k`` with probability ``exp(beta v_k) / sum exp(beta v)`` using ``rng``.

    ``beta = inf`` is the exact best response (:class:`LookaheadResponse`: the principal's favourite among
    options within ``TIE_TOL`` of the best, relative to the round's ``round_scales``, no randomness); as
    ``beta -> inf`` the probabilities concentrate on the best options. Concave ``g`` is rejected: its best responses are not vertices, so the vertex logit
    would not approach them.

    Args:
        beta: rationality ``>= 0`` in 1/utility units (``float("inf")`` allowed).
        lookahead: rounds planned (1 = myopic); ``None``: the rest of the horizon (forecasting).
    """

    def __init__(self, beta: float, lookahead: int | None = None):
        self.beta = as_rationality(beta, "beta")
        self.lookahead = _check_lookahead(lookahead)

    def marginal_values(self, game: StatefulGame, rule: np.ndarray, state: np.ndarray, round_index: int) -> np.ndarray:
        """The planner's marginal value of effort this round, ``(d,)``: ``c`` of the planning sub-game's first round."""
        _require_linear(game)
        sub_game = planning_game(game, state, round_index, self.lookahead)
        return marginal_values(sub_game, np.tile(rule, (sub_game.horizon, 1)))[0]

    def _exact(self, game: StatefulGame, rule: np.ndarray, state: np.ndarray, round_index: int) -> np.ndarray:
        """The ``beta = inf`` effort ``(d,)``: the same planner's best response (:class:`LookaheadResponse`)."""
        _require_linear(game)
        return LookaheadResponse(self.lookahead).respond(game, rule, state, round_index)

    def probabilities(self, game: StatefulGame, rule: np.ndarray, state: np.ndarray, round_index: int) -> np.ndarray:
        """Choice probabilities ``(d + 1,)`` of the options (type ``0..d-1``, then "no effort"); one-hot at ``beta = inf``."""
        if np.isinf(self.beta):
            effort = self._exact(game, rule, state, round_index)
            return np.eye(game.n_efforts + 1)[int(np.argmax(effort)) if effort.any() else game.n_efforts]
        values = self.marginal_values(game, rule, state, round_index)
        options = np.append(game.budget * values, 0.0)
        with np.errstate(over="ignore"):  # a huge beta sends the worse options to -inf, i.e. probability 0
            return softmax(self.beta * (options - options.max()))

    def respond(self, game: StatefulGame, rule: np.ndarray, state: np.ndarray, round_index: int,
                rng: np.random.Generator) -> np.ndarray:
        """This round's effort ``(d,)``: a vertex drawn with :meth:`probabilities` (``rng`` unused at ``beta = inf``)."""
        if np.isinf(self.beta):
            return self._exact(game, rule, state, round_index)
        option = rng.choice(game.n_efforts + 1, p=self.probabilities(game, rule, state, round_index))
        effort = np.zeros(game.n_efforts)
        if option < game.n_efforts:
            effort[option] = game.budget
        return effort

    def __repr__(self) -> str:
        return f"QuantalResponse(beta={self.beta}, lookahead={self.lookahead})"


class QuantalReceiver(LearningReceiver):
    """A logit version of :class:`~stratgym.envs.persuasion.LearningReceiver` for ``PersuasionRecommend-v0``.

    It learns exactly like the learning receiver (running mean ``v_a`` of the realized utility of
    following recommendation ``a``, optimistic start ``1 - c(a)``, only followed recommendations
    updated), but decides with a logit: on recommendation ``a`` other than the default action ``d`` (the
    prior best response) it follows with probability ``1 / (1 + exp(-beta (v_a - V_d)))``, ``V_d`` the
    prior value of ``d``, and otherwise plays ``d``; ``d`` itself is always followed. ``beta = inf`` is the
    learning receiver (follow iff ``v_a >= V_d``, ties to obedience, no randomness); ``beta = 0`` follows
    every other recommendation with probability 1/2. The draw uses the ``rng`` the env passes in.

    Args:
        beta: rationality ``>= 0`` in 1/utility units (``float("inf")`` allowed).
        initial_values: ``(A,)`` starting values (default: the optimistic ``1 - c``).
    """

    def __init__(self, beta: float, initial_values=None):
        super().__init__(initial_values)
        self.beta = as_rationality(beta, "beta")

    def follow_probabilities(self) -> np.ndarray:
        """``(A,)``: the probability of following each recommendation now."""
        if np.isinf(self.beta):
            return super().follow_probabilities()
        probabilities = expit(self.beta * (self.values - self.benchmark))
        probabilities[self.default_action] = 1.0
        return probabilities

    def respond(self, recommendation: int, rng: np.random.Generator | None = None) -> int:
        """``recommendation`` with its follow probability, else the default action."""
        if np.isinf(self.beta):
            return super().respond(recommendation, rng)
        if recommendation == self.default_action or rng.random() < self.follow_probabilities()[recommendation]:
            return int(recommendation)
        return self.default_action

    def __repr__(self) -> str:
        return f"QuantalReceiver(beta={self.beta}, initial_values={self.initial_values!r})"
