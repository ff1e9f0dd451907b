"""Who the principal faces in the stateful envs: the :class:`ResponseModel` protocol, the game's own per-round
models, and the agent's answer to one round's rule (:class:`RoundResponses`) or to a whole committed policy
(:class:`PolicyResponses`), for one env or a batch of them.

The game's own models on a linear game answer a batch with a few numpy calls (the ties of
:func:`~stratgym.games.stateful.favoured_choice`, the same rule as for one env); concave games and custom models
answer one sub-env at a time, in index order, drawing from the generator they are given.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from stratgym.games.linalg import matmul_rows
from stratgym.games.stateful import (RESPONSE_MODELS, StatefulGame, best_response, check_assessment_policy, clip_rows,
                                     favoured_option, linear_rational_effort, marginal_value_operator, next_state,
                                     per_round_response, respond_in_round, round_scales)
from stratgym.games.ties import TIE_TOL
from stratgym.games.validation import as_real_array

#: Tolerance (budget units) on efforts returned by a custom :class:`ResponseModel`; see ``check_round_effort``.
EFFORT_TOL = 1e-6


@runtime_checkable
class ResponseModel(Protocol):
    """An agent that answers one published rule at a time (the opponent of ``StatefulPrincipalEnv``).

    ``respond(game, rule, state, round_index, rng)`` receives the game, this round's rule ``theta_t``
    ``(n,)`` on the simplex, the agent's current state ``s_t`` ``(d,)``, the 0-based round index and the
    env's ``np_random`` Generator (its only allowed source of randomness, so episodes stay seeded), and
    returns this round's effort ``e_t`` ``(d,)`` in ``E_B = {e >= 0, sum(e) <= B}``. It must not modify
    its arguments. The env checks the effort (``ValueError`` otherwise, tolerance ``EFFORT_TOL``).
    Learned agents and bounded-rationality models (``stratgym.agents``) plug in through this protocol.
    """

    def respond(self, game: StatefulGame, rule: np.ndarray, state: np.ndarray, round_index: int,
                rng: np.random.Generator) -> np.ndarray:
        """This round's effort ``(d,)`` against ``rule`` ``(n,)`` in ``state`` ``(d,)``."""
        ...


class PerRoundResponse:
    """The game's own per-round response models as a :class:`ResponseModel`.

    ``"myopic"`` maximizes the current round's score; ``"forecasting"`` re-plans each round as if the
    current rule stayed in force (``respond_in_round``). Ties go to the principal's favourite option
    (``favoured_option``). For linear ``g`` (``per_round_response``, with the game's cached per-round weights)
    they also accept a batch: ``rule`` ``(k, n)``, ``state`` ``(k, d)``, ``round_index`` ``(k,)`` give efforts
    ``(k, d)`` (the vector env uses this). Concave games go through ``respond_in_round`` (a small concave
    program solved to its duality-gap tolerance), one at a time. Deterministic: ``rng`` is not used.
    """

    def __init__(self, model: str):
        if model not in ("myopic", "forecasting"):
            raise ValueError(f"response_model must be 'myopic', 'forecasting' or an object with a "
                             f"respond(game, rule, state, round_index, rng) method, got {model!r}"
                             + (" (the rational agent answers a whole policy: use stratgym/StatefulCommitment-v0)"
                                if model == "rational" else ""))
        self.model = model

    def respond(self, game: StatefulGame, rule: np.ndarray, state: np.ndarray, round_index: int,
                rng: np.random.Generator | None = None, tie_tol: float = TIE_TOL) -> np.ndarray:
        """This round's effort ``(d,)`` (or ``(k, d)`` for a batch of a linear game; see the class docstring);
        ``tie_tol``: the tie zone in units of the round's scale (envs widen it by the action's precision)."""
        if not game.is_linear:
            return respond_in_round(game, self.model, rule, state, round_index).effort[0]
        return per_round_response(game, self.model, rule, round_index, tie_tol)

    def __repr__(self) -> str:
        return f"PerRoundResponse({self.model!r})"


def as_response_model(response_model) -> ResponseModel:
    """``"myopic"`` / ``"forecasting"`` as a :class:`PerRoundResponse`; objects with a callable ``respond`` as they are."""
    if isinstance(response_model, str):
        return PerRoundResponse(response_model)
    if not callable(getattr(response_model, "respond", None)):
        raise ValueError(f"response_model must be 'myopic', 'forecasting' or an object with a "
                         f"respond(game, rule, state, round_index, rng) method, got {response_model!r}")
    return response_model


def respond_to_policy(game: StatefulGame, response_model: ResponseModel, theta,
                      rng: np.random.Generator | None = None) -> np.ndarray:
    """Effort policy ``(T, d)`` of a per-round ``response_model`` facing the assessment policy ``theta`` ``(T, n)``.

    The rounds are played in order from ``s_1``, the state moving with the game's dynamics, exactly as
    ``StatefulPrincipalEnv`` plays them; ``rng`` goes to every ``respond`` call. Each returned effort is
    validated with :func:`check_round_effort`.
    """
    theta = check_assessment_policy(game, theta, batch=False)
    state, efforts = game.initial_state, []
    for t in range(game.horizon):
        effort = check_round_effort(game, response_model.respond(game, theta[t], state, t, rng),
                                    name="effort returned by response_model.respond")
        efforts.append(effort)
        state = next_state(game, state, effort)
    return np.array(efforts, dtype=np.float64)


def check_round_effort(game: StatefulGame, effort, name: str = "effort", atol: float = EFFORT_TOL) -> np.ndarray:
    """Validate one round's effort ``(d,)``: finite, ``>= -atol``, total ``<= B + atol``; return it clipped into ``E_B``.

    Clipping removes solver round-off only: negative entries become 0 and a total above ``B`` is scaled to ``B``.
    """
    effort = as_real_array(effort, name, shape=(game.n_efforts,))
    if np.any(effort < -atol) or effort.sum() > game.budget + atol:
        raise ValueError(f"{name} must be >= 0 with total at most the budget B={game.budget}, got {effort}")
    return clip_rows(effort, game.budget, exact=False)


class RoundResponses:
    """The agent of ``StatefulPrincipalEnv`` and its vector env: ``response_model`` (a name or a
    :class:`ResponseModel`) answering rules one round at a time.

    ``respond(rules, states, rounds, rng, tie_tol)`` takes one rule ``(n,)`` or a batch ``(k, n)`` (states ``(k, d)``,
    rounds ``(k,)``). The game's own models break ties within ``tie_tol`` round scales and, on a linear game, answer a
    batch at once; a custom model's efforts are checked (:func:`check_round_effort`), one sub-env at a time.
    """

    def __init__(self, game: StatefulGame, response_model: str | ResponseModel):
        self.game = game
        self.model = as_response_model(response_model)
        # Exactly the game's own model: a subclass may override respond, so its efforts are checked.
        self.trusted = type(self.model) is PerRoundResponse
        self._batched = self.trusted and game.is_linear

    def _one(self, rule: np.ndarray, state: np.ndarray, round_index: int, rng: np.random.Generator,
             tie_tol: float) -> np.ndarray:
        if self.trusted:
            return self.model.respond(self.game, rule, state, round_index, rng, tie_tol=tie_tol)
        effort = self.model.respond(self.game, rule, state, round_index, rng)
        return check_round_effort(self.game, effort, name="effort returned by response_model.respond")

    def respond(self, rules: np.ndarray, states: np.ndarray, rounds, rng: np.random.Generator,
                tie_tol: float = TIE_TOL) -> np.ndarray:
        """Efforts ``(d,)`` or ``(k, d)`` against ``rules`` (see the class docstring)."""
        if rules.ndim == 1:
            return self._one(rules, states, rounds, rng, tie_tol)
        if self._batched:
            return self.model.respond(self.game, rules, states, rounds, rng, tie_tol=tie_tol)
        return np.array([self._one(rule, state, int(t), rng, tie_tol) for rule, state, t in
                         zip(rules, states, rounds)]).reshape(len(rules), self.game.n_efforts)


class PolicyResponses:
    """The agent of ``StatefulCommitmentEnv`` and its vector env: its effort policy ``(T, d)`` against a whole
    committed policy ``(T, n)`` (or ``(k, T, d)`` against ``(k, T, n)``).

    ``"rational"`` is the full-horizon best response; ``"myopic"``, ``"forecasting"`` and custom
    :class:`ResponseModel` objects play the policy round by round (:func:`respond_to_policy`). The game's own models
    break ties within ``tie_tol`` round scales; on a linear game they answer a batch with a few numpy calls (the
    rational agent's marginal values are one product with ``marginal_value_operator``, the per-round models' one
    :func:`~stratgym.games.stateful.per_round_response` over all rounds); otherwise one sub-env at a time, a custom
    model drawing from ``rng``.
    """

    def __init__(self, game: StatefulGame, response_model: str | ResponseModel):
        if isinstance(response_model, str) and response_model not in RESPONSE_MODELS:
            raise ValueError(f"response_model must be one of {RESPONSE_MODELS} or an object with a "
                             f"respond(game, rule, state, round_index, rng) method, got {response_model!r}")
        self.game = game
        # "rational" answers the whole policy at once; the per-round models play it round by round.
        self.model = "rational" if response_model == "rational" else as_response_model(response_model)
        own = self.model if isinstance(self.model, str) else self.model.model if type(
            self.model) is PerRoundResponse else None
        self._batched = own if game.is_linear else None
        T, n, d = game.horizon, game.n_features, game.n_efforts
        if self._batched == "rational":
            self._operator = marginal_value_operator(game).reshape(T * d, T * n).T.copy()
            self._scales = round_scales(game)
        self._rounds = np.arange(T)

    def _one(self, theta: np.ndarray, tie_tol: float, rng: np.random.Generator) -> np.ndarray:
        game, model = self.game, self.model
        if isinstance(model, str):
            return (linear_rational_effort(game, theta, tie_tol) if game.is_linear
                    else best_response(game, theta, model).effort)
        if type(model) is PerRoundResponse:
            return best_response(game, theta, model.model, tie_tol=tie_tol).effort
        return respond_to_policy(game, model, theta, rng)

    def respond(self, thetas: np.ndarray, tie_tol: float, rng: np.random.Generator) -> np.ndarray:
        """Effort policies against policies on the simplex ``thetas`` (see the class docstring)."""
        if thetas.ndim == 2:
            return self._one(thetas, tie_tol, rng)
        game = self.game
        k, T, n, d = thetas.shape[0], game.horizon, game.n_features, game.n_efforts
        if self._batched == "rational":
            values = matmul_rows(thetas.reshape(k, T * n), self._operator).reshape(k, T, d)
            return favoured_option(game, values, self._scales, tie_tol)
        if self._batched is not None:  # myopic / forecasting: each round answers its own rule
            rounds = np.tile(self._rounds, k)
            return per_round_response(game, self._batched, thetas.reshape(k * T, n), rounds, tie_tol).reshape(k, T, d)
        return np.array([self._one(theta, tie_tol, rng) for theta in thetas]).reshape(k, T, d)
