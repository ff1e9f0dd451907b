"""Who the principal faces in the stateful envs (their ``agent=``): the :class:`ResponseModel` protocol, a trained
agent as one (:class:`LearnedResponse`, for ``Learned(model)``), and the agent's answer to one round's rule
(:class:`RoundResponses`) or to a whole committed policy (:class:`PolicyResponses`), for one env or a batch of them.

The game's own agents (``Rational()``, ``Lookahead(k)`` of :mod:`stratgym.games.behaviour`) on a linear game answer a
batch with a few numpy calls (the ties of :func:`~stratgym.games.stateful.favoured_choice`, the same rule as for one
env); concave games and other models answer one sub-env at a time, in index order, drawing from the generator they
are given.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from stratgym.envs.spaces import box_to_simplex
from stratgym.envs.stateful.core import agent_observation
from stratgym.games.behaviour import Learned, Lookahead, Rational, as_behaviour
from stratgym.games.linalg import matmul_columns
from stratgym.games.stateful import (StatefulGame, best_response, check_assessment_policy, clip_rows, favoured_option,
                                     linear_rational_effort, marginal_value_operator, next_state, per_round_agent,
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
    Bounded-rationality models (``Lookahead``, ``Quantal``), learned agents and your own plug in through it.
    """

    def respond(self, game: StatefulGame, rule: np.ndarray, state: np.ndarray, round_index: int,
                rng: np.random.Generator) -> np.ndarray:
        """This round's effort ``(d,)`` against ``rule`` ``(n,)`` in ``state`` ``(d,)``."""
        ...


def PerRoundResponse(model) -> Lookahead:  # noqa: N802 (the previous release's class name)
    """The game's own per-round agent of name ``model`` (``"myopic"``, ``"forecasting"``) as its
    :class:`~stratgym.games.behaviour.Lookahead` (``Lookahead(1)``, ``Lookahead(None)``), which is a
    :class:`ResponseModel`; ``ValueError`` otherwise."""
    return per_round_agent(model)


def as_response_model(agent) -> ResponseModel:
    """``agent`` as the :class:`ResponseModel` that answers one round's rule: a legacy name as its behaviour
    (``"myopic"`` ``Lookahead(1)``, ...), ``Learned(model)`` as a :class:`LearnedResponse`, objects with a callable
    ``respond`` (``Lookahead``, ``Quantal``, your own) as they are; ``ValueError`` otherwise (``"rational"`` answers
    whole policies only)."""
    agent = as_behaviour(agent)
    if isinstance(agent, Learned):
        return LearnedResponse(agent.model, agent.deterministic)
    if isinstance(agent, Rational):
        raise ValueError("agent 'rational' answers a whole policy, not one round's rule: use "
                         "stratgym/StatefulCommitment-v0, or a per-round agent such as Lookahead(k)")
    if not callable(getattr(agent, "respond", None)):
        raise ValueError(f"agent must be a behaviour (Lookahead(k), Quantal(beta, k), Learned(model), 'myopic', "
                         f"'forecasting') or an object with a respond(game, rule, state, round_index, rng) method, "
                         f"got {agent!r}")
    return agent


class LearnedResponse:
    """A trained ``StatefulAgent-v0`` model as a :class:`ResponseModel` (what the principal envs make of
    ``agent=Learned(model)``).

    Each round it builds the agent env's observation (:func:`~stratgym.envs.stateful.agent_observation`) for the
    belief that ``rule`` stays in force for the rest of the game, asks ``model`` for an action (deterministic by
    default; a stochastic policy samples from torch's generator, seeded with the model), and maps it to an effort
    exactly as the agent env does (:func:`agent_effort`). The model must come from an agent env of the same game
    shape (``T``, ``n``, ``d``).
    """

    def __init__(self, model, deterministic: bool = True):
        if not hasattr(model, "predict"):
            raise ValueError(f"model must have SB3's predict(obs, deterministic) method, got {type(model).__name__}")
        self.model, self.deterministic = model, deterministic

    def __deepcopy__(self, memo) -> "LearnedResponse":
        # make_env deep-copies env kwargs for every env; a frozen model is only read while it responds (and
        # a trained torch module cannot be deep-copied), so every copy shares it.
        return LearnedResponse(self.model, self.deterministic)

    def respond(self, game: StatefulGame, rule: np.ndarray, state: np.ndarray, round_index: int,
                rng: np.random.Generator | None = None) -> np.ndarray:
        """This round's effort ``(d,)`` chosen by the model against ``rule`` ``(n,)`` in ``state`` ``(d,)``."""
        expected = (1 + 2 * game.n_efforts + game.horizon * game.n_features,)
        if self.model.observation_space.shape != expected:
            raise ValueError(f"the agent model observes shape {self.model.observation_space.shape}, but this game's "
                             f"agent observation has shape {expected}: train it on the same (T, n, d)")
        belief = np.tile(np.asarray(rule, dtype=np.float64), (game.horizon, 1))
        action, _ = self.model.predict(agent_observation(game, belief, state, round_index),
                                       deterministic=self.deterministic)
        return agent_effort(game, action)


def agent_effort(game: StatefulGame, action) -> np.ndarray:
    """The effort ``(d,)`` an agent-env action ``(d + 1,)`` means: ``B`` times the first ``d`` simplex weights."""
    return box_to_simplex(np.clip(np.asarray(action, dtype=np.float64), -1.0, 1.0))[:-1] * game.budget


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
                                    name="effort returned by agent.respond")
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
    """The agent of ``StatefulPrincipalEnv`` and its vector env: ``agent`` (a behaviour, a legacy name or a
    :class:`ResponseModel`) answering rules one round at a time.

    ``respond(rules, states, rounds, rng, tie_tol)`` takes one rule ``(n,)`` or a batch ``(k, n)`` (states ``(k, d)``,
    rounds ``(k,)``). The game's own ``Lookahead(k)`` agents break ties within ``tie_tol`` round scales and, on a linear
    game, answer a batch at once; any other model's efforts are checked (:func:`check_round_effort`), one sub-env at a
    time.
    """

    def __init__(self, game: StatefulGame, agent):
        self.game = game
        self.agent = as_behaviour(agent, game)
        self.model = as_response_model(self.agent)
        # Exactly the game's own model: a subclass may override respond, so its efforts are checked.
        self.trusted = type(self.model) is Lookahead
        # The per-round tables are cached on the game under the agent's name: the fast key on the hot path.
        self._key = self.model.name if self.trusted else None
        self._batched = self.trusted and game.is_linear

    def _one(self, rule: np.ndarray, state: np.ndarray, round_index: int, rng: np.random.Generator,
             tie_tol: float) -> np.ndarray:
        if self.trusted:
            return respond_in_round(self.game, self.model, rule, state, round_index).effort[0]
        effort = self.model.respond(self.game, rule, state, round_index, rng)
        return check_round_effort(self.game, effort, name="effort returned by agent.respond")

    def respond(self, rules: np.ndarray, states: np.ndarray, rounds, rng: np.random.Generator,
                tie_tol: float = TIE_TOL) -> np.ndarray:
        """Efforts ``(d,)`` or ``(k, d)`` against ``rules`` (see the class docstring)."""
        if self._batched:  # one rule or a batch, in one call
            return per_round_response(self.game, self._key, rules, rounds, tie_tol)
        if rules.ndim == 1:
            return self._one(rules, states, rounds, rng, tie_tol)
        return np.array([self._one(rule, state, int(t), rng, tie_tol) for rule, state, t in
                         zip(rules, states, rounds)]).reshape(len(rules), self.game.n_efforts)


class PolicyResponses:
    """The agent of ``StatefulCommitmentEnv`` and its vector env: its effort policy ``(T, d)`` against a whole
    committed policy ``(T, n)`` (or ``(k, T, d)`` against ``(k, T, n)``).

    ``Rational()`` (``"rational"``) is the full-horizon best response; ``Lookahead(k)`` (``"myopic"``,
    ``"forecasting"``), other behaviours and custom :class:`ResponseModel` objects play the policy round by round
    (:func:`respond_to_policy`). The game's own agents break ties within ``tie_tol`` round scales; on a linear game
    they answer a batch with a few numpy calls (the rational agent's marginal values are one product with
    ``marginal_value_operator``, a lookahead agent's one :func:`~stratgym.games.stateful.per_round_response` over all
    rounds); otherwise one sub-env at a time, a custom model drawing from ``rng``.
    """

    def __init__(self, game: StatefulGame, agent):
        self.game = game
        self.agent = as_behaviour(agent, game)
        # The rational agent answers the whole policy at once; the others play it round by round.
        self.model = self.agent if type(self.agent) is Rational else as_response_model(self.agent)
        own = type(self.model) in (Rational, Lookahead)
        self._key = self.model.name if own else None
        self._batched = own and game.is_linear
        #: Whether the linear rational agent answers (a closed form for one policy or a batch).
        self._linear_rational = self._batched and type(self.model) is Rational
        #: The rollout memo of one policy's answers (``rollout_arrays(memo=...)``): the game's own agents of a linear
        #: game play budget vertices, so the same few effort policies come back; ``None`` for any other agent.
        self.rollout_memo = {} if self._batched else None
        T, n, d = game.horizon, game.n_features, game.n_efforts
        if self._linear_rational:
            # (d T, T n): rows in effort-major order, so that one product with a batch's policies laid out as columns
            # gives each effort type's values as one contiguous block (the tie rule reads them one type at a time).
            self._operator = marginal_value_operator(game).reshape(T, d, T * n).transpose(1, 0, 2).reshape(d * T, T * n)
            self._scales = round_scales(game)
        self._rounds = np.arange(T)

    def _one(self, theta: np.ndarray, tie_tol: float, rng: np.random.Generator) -> np.ndarray:
        game, model = self.game, self.model
        if type(model) is Rational:  # of a concave game (a linear one is answered in closed form by respond)
            return best_response(game, theta).effort
        if type(model) is Lookahead:
            return best_response(game, theta, model, tie_tol=tie_tol).effort
        return respond_to_policy(game, model, theta, rng)

    def respond(self, thetas: np.ndarray, tie_tol: float, rng: np.random.Generator) -> np.ndarray:
        """Effort policies against policies on the simplex ``thetas`` (see the class docstring)."""
        if thetas.ndim == 2:
            return linear_rational_effort(self.game, thetas, tie_tol) if self._linear_rational else \
                self._one(thetas, tie_tol, rng)
        game = self.game
        k, T, n, d = thetas.shape[0], game.horizon, game.n_features, game.n_efforts
        if self._linear_rational:
            # values[i, t, j] is block j, row t, column i of the product: a (k, T, d) view, each [..., j] contiguous
            values = matmul_columns(self._operator, thetas.reshape(k, T * n).T).reshape(d, T, k).transpose(2, 1, 0)
            return favoured_option(game, values, self._scales, tie_tol)
        if self._batched:  # a lookahead agent: each round answers its own rule
            rounds = np.tile(self._rounds, k)
            return per_round_response(game, self._key, thetas.reshape(k * T, n), rounds, tie_tol).reshape(k, T, d)
        return np.array([self._one(theta, tie_tol, rng) for theta in thetas]).reshape(k, T, d)
