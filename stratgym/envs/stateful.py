"""Gymnasium environments of the stateful principal–agent game (Harris, Heidari, Wu, "Stateful
Strategic Regression", NeurIPS 2021; the model is ``stratgym.games.stateful``).

| Environment | Who learns | One step is | Opponent |
|---|---|---|---|
| ``StatefulCommitmentEnv`` (``stratgym/StatefulCommitment-v0``) | principal | the whole game: commit to ``theta`` (T×n) | rational agent (full-horizon best response), or a :class:`ResponseModel` |
| ``StatefulPrincipalEnv`` (``stratgym/StatefulPrincipal-v0``) | principal | one round: publish ``theta_t`` | a :class:`ResponseModel` (myopic, forecasting, learned, ...) |
| ``StatefulAgentEnv`` (``stratgym/StatefulAgent-v0``) | agent | one round: spend effort ``e_t`` | a principal plan (fixed, random, or a callable) |

The three envs have native vector versions (``StatefulCommitmentVectorEnv``, ``StatefulPrincipalVectorEnv``,
``StatefulAgentVectorEnv``) that step many episodes with one numpy call per operation.

Every env takes any :class:`~stratgym.games.stateful.StatefulGame` (``gym.make(id, game=...)``; ``None`` means
``classroom_project()``, on which the uniform rule is far from optimal), maps Box ``[-1, 1]`` actions onto the
simplex with :func:`~stratgym.envs._spaces.box_to_simplex`, rejects NaN, wrongly shaped or out-of-Box actions
with ``ValueError``, raises :class:`gymnasium.error.ResetNeeded` when stepped before ``reset`` or after the
episode ended, and draws randomness only from ``self.np_random``. Observations are float32 and normalized by
bounds computed from the game, so they always lie in the declared Box.
"""

from __future__ import annotations

from typing import Callable, Protocol, runtime_checkable

import numpy as np
from gymnasium import spaces
from gymnasium.error import ResetNeeded
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from stratgym.envs._base import RoundEnv
from stratgym.envs._spaces import simplex_action, simplex_box
from stratgym.games._validation import as_positive_int, as_real_array
from stratgym.games.stateful import (
    CONVERSIONS,
    RESPONSE_MODELS,
    StatefulGame,
    best_response,
    check_assessment_policy,
    classroom_project,
    clip_rows,
    favoured_option,
    largest_marginal_values,
    marginal_value_operator,
    next_state,
    observe,
    per_round_response,
    respond_in_round,
    round_scales,
)
from stratgym.games.ties import TIE_TOL, precision_slack
from stratgym.games.stateful import _linear_rational_effort, _played  # unchecked: for policies valid by construction

#: Tolerance (budget units) on efforts returned by a custom :class:`ResponseModel`; see ``check_round_effort``.
EFFORT_TOL = 1e-6


# ---------------------------------------------------------------------------------------------
# Who the principal faces
# ---------------------------------------------------------------------------------------------

@runtime_checkable
class ResponseModel(Protocol):
    """An agent that answers one published rule at a time (the opponent of :class:`StatefulPrincipalEnv`).

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
    :class:`StatefulPrincipalEnv` plays them; ``rng`` goes to every ``respond`` call. Each returned effort is
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


# ---------------------------------------------------------------------------------------------
# Bounds that every observation respects (computed from the game, so the Box is honest)
# ---------------------------------------------------------------------------------------------

def state_bounds(game: StatefulGame) -> np.ndarray:
    """Upper bounds ``(T + 1, d)`` on the states ``s_1 .. s_{T+1}`` under any efforts in ``E_B`` (states are ``>= 0``).

    Each effort type gets at most ``B`` per round, so ``S_{t+1} = p * S_t + omega * B`` from ``S_1 = s_1``.
    """
    bounds = [game.initial_state]
    for _ in range(game.horizon):
        bounds.append(next_state(game, bounds[-1], np.full(game.n_efforts, game.budget)))
    return np.array(bounds)


def feature_bounds(game: StatefulGame) -> np.ndarray:
    """Upper bounds ``(n,)`` on the features ``o_t`` of every round (features are ``>= 0``).

    ``W (s_t + e_t) <= W S_t + B max_j W_ij`` since ``e_t`` has total at most ``B``; ``g`` is non-decreasing.
    """
    latent = state_bounds(game)[:-1] @ game.conversion_matrix.T + game.budget * game.conversion_matrix.max(axis=1)
    return CONVERSIONS[game.conversion][0](latent.max(axis=0))


def marginal_value_bound(game: StatefulGame) -> float:
    """An upper bound on every entry of the linear marginal values ``c_tau(theta)`` over all plans on the simplex,
    attained by one: the largest of :func:`~stratgym.games.stateful.largest_marginal_values`."""
    return float(largest_marginal_values(game, "rational").max())


def _reciprocal_scale(bound: np.ndarray) -> np.ndarray:
    """``1 / bound`` where the bound is positive, else 1 (the quantity is then always 0)."""
    bound = np.asarray(bound, dtype=np.float64)
    return np.where(bound > 0, 1.0 / np.where(bound > 0, bound, 1.0), 1.0)


def describe_game(game: StatefulGame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The game as a fixed-length float32 vector with its bounds: ``(value, low, high)``.

    Layout (see :class:`StatefulCommitmentEnv`): ``W / max(W)`` row-major, ``omega``, ``p``,
    ``lambda / max|lambda|``, ``s_1 / B``, ``gamma``, ``k / (1 + k)`` with ``k = max(W) B``, one-hot ``g``.
    Scale-free entries keep every game in ``[-1, 1]``, except ``s_1 / B``, bounded by ``max(1, max s_1 / B)``.
    """
    W = game.conversion_matrix
    scale = game.budget * W.max()
    pieces = [  # (values, low, high)
        (W.ravel() * _reciprocal_scale(W.max()), 0.0, 1.0),
        (game.retention, 0.0, 1.0),
        (game.persistence, 0.0, 1.0),
        (game.effort_value * _reciprocal_scale(np.abs(game.effort_value).max()), -1.0, 1.0),
        (game.initial_state / game.budget, 0.0, max(1.0, game.initial_state.max() / game.budget)),
        (np.array([game.discount, scale / (1.0 + scale)]), 0.0, 1.0),
        (np.array([float(name == game.conversion) for name in CONVERSIONS]), 0.0, 1.0),
    ]
    value = np.concatenate([values for values, _, _ in pieces]).astype(np.float32)
    low = np.concatenate([np.full(len(values), low) for values, low, _ in pieces]).astype(np.float32)
    high = np.concatenate([np.full(len(values), high) for values, _, high in pieces]).astype(np.float32)
    return value, low, high


def _as_game(game) -> StatefulGame:
    if game is None:  # classroom() itself does not discriminate: its uniform rule is already optimal
        return classroom_project()
    if not isinstance(game, StatefulGame):
        raise ValueError(f"game must be a StatefulGame (or None for classroom_project()), got {type(game).__name__}")
    return game


class _StatefulEnv(RoundEnv):
    """What the three envs share: the game, and :class:`RoundEnv`'s rendering and guards (T rounds)."""

    def __init__(self, game: StatefulGame | None, render_mode: str | None):
        self.game = _as_game(game)
        super().__init__(render_mode, self.game.horizon)


# ---------------------------------------------------------------------------------------------
# The principal's Stackelberg problem in one step
# ---------------------------------------------------------------------------------------------

class StatefulCommitmentEnv(_StatefulEnv):
    """The principal commits to a whole assessment policy; a rational agent (or another model) responds.

    | | |
    |---|---|
    | Creation | ``gym.make("stratgym/StatefulCommitment-v0", game=None, response_model="rational")`` |
    | Actions | Box ``[-1, 1]^(T, n)``, row-wise onto the simplex: the policy ``theta`` |
    | Observations | Box ``(n d + 4 d + 2 + len(CONVERSIONS),)``: the game instance, normalized |
    | Players | principal (learns); rational agent (exact best response), or ``response_model`` |
    | Reference solver | ``stratgym.baselines`` ``solve(game, response_model)`` (exact MILP / per-round optimum for linear ``g``) |
    | Known optimum | default ``classroom_project(5)``: ``U_P* = 5`` (uniform rule: 3); ``classroom(T)``: ``U_P* = T - 1`` (study in rounds ``1..T-1``) |

    ## Description

    Harris, Heidari and Wu, "Stateful Strategic Regression" (NeurIPS 2021): a principal scores an
    agent with linear rules ``theta_t`` over ``T`` rounds; the agent's effort ``e_t`` changes both the
    observable features ``o_t = g(W (s_t + e_t))`` and, for retained effort types, an internal state
    ``s_{t+1} = p * s_t + omega * e_t``. The principal moves first (Stackelberg): it commits to
    ``theta_1..theta_T`` and the agent, knowing them, plays a full-horizon best response
    (``best_response(game, theta, "rational")``; concave ``g`` is solved to the duality gap ``GAP_TOL``). Ties
    (:mod:`stratgym.games.ties`): marginal values within ``TIE_TOL`` times the round's ``round_scales``, plus
    the error the precision of the action received can cause (``n * eps(action dtype)`` of that scale), are tied,
    and go to the principal, so the float32 encoding of the exact optimum earns it. The
    episode is this one decision, a contextual bandit; the same game is played every episode.

    Other agents face the same committed policy through ``response_model``: ``"myopic"`` and
    ``"forecasting"`` (``best_response(game, theta, model)``), or any :class:`ResponseModel` (a quantal or
    bounded-lookahead agent from ``stratgym.agents.responses``, a learned agent from
    ``stratgym.agents.freeze``), which answers one round at a time along the state path
    (:func:`respond_to_policy`), drawing its randomness from ``self.np_random``.

    ## Action Space

    ``Box(-1, 1, (T, n), float32)``. Row ``t`` is mapped by ``box_to_simplex`` (``w = (a + 1) / 2``,
    ``theta_t = w / sum(w)``, uniform if ``w = 0``) to the rule ``theta_t``: every rule is reachable,
    vertices included (``a = 2 e_i - 1`` puts all weight on feature ``i``).

    ## Observation Space

    A constant float32 vector describing the game instance (so a policy can be conditioned on it):

    | Num | Observation | Min | Max |
    |-----|-------------|-----|-----|
    | ``0 .. nd-1`` | ``W_ij / max(W)``, row-major (0 if ``W = 0``) | 0 | 1 |
    | ``nd .. nd+d-1`` | retention ``omega_j`` | 0 | 1 |
    | next ``d`` | persistence ``p_j`` | 0 | 1 |
    | next ``d`` | ``lambda_j / max|lambda|`` (0 if ``lambda = 0``) | -1 | 1 |
    | next ``d`` | initial state in budget units ``s_1j / B`` | 0 | ``max(1, max_j s_1j / B)`` |
    | next | discount ``gamma`` | 0 | 1 |
    | next | conversion scale ``k / (1 + k)``, ``k = max(W) B`` (where concave ``g`` bends) | 0 | 1 |
    | last ``len(CONVERSIONS)`` | one-hot conversion ``g`` (order of ``CONVERSIONS``: linear, sqrt, log1p) | 0 | 1 |

    ## Rewards

    The principal's utility ``U_P = sum_t lambda . e_t`` of the agent's response.

    ## Starting State

    Deterministic: the game's initial state ``s_1``. ``reset`` draws nothing (a stochastic
    ``response_model`` draws from ``self.np_random`` during the step).

    ## Episode End

    Termination after the single step. No truncation.

    ## Arguments

    ```python
    >>> import gymnasium as gym
    >>> import numpy as np
    >>> import stratgym
    >>> from stratgym.games.stateful import classroom
    >>> env = gym.make("stratgym/StatefulCommitment-v0", game=classroom(horizon=3))
    >>> obs, info = env.reset(seed=0)
    >>> obs, reward, terminated, truncated, info = env.step(np.zeros((3, 2), dtype=np.float32))
    >>> reward, terminated, info["effort"][:, 1]
    (2.0, True, array([1., 1., 0.]))

    ```

    | Parameter | Type | Default | Description |
    |---|---|---|---|
    | ``game`` | ``StatefulGame`` or ``None`` | ``None`` (``classroom_project()``) | the game instance |
    | ``response_model`` | ``"rational"``, ``"myopic"``, ``"forecasting"`` or a :class:`ResponseModel` | ``"rational"`` | the agent |
    | ``render_mode`` | ``"ansi"``, ``"rgb_array"`` or ``None`` | ``None`` | text, or a numpy-drawn frame of the last step (``RoundEnv.render``) |

    ``info`` after the step: ``theta`` ``(T, n)``, ``effort`` ``(T, d)``, ``states`` ``(T + 1, d)``,
    ``features`` ``(T, n)``, ``scores`` ``(T,)``, ``agent_utility``, ``principal_utility``.

    ## Vectorized environment

    :class:`StatefulCommitmentVectorEnv` steps many episodes at once with numpy (vector entry point
    ``stratgym.envs.stateful:StatefulCommitmentVectorEnv``, autoreset ``NEXT_STEP``).

    ## Version History

    * v0: Initial version.
    """

    def __init__(self, game: StatefulGame | None = None, render_mode: str | None = None,
                 response_model: str | ResponseModel = "rational"):
        super().__init__(game, render_mode)
        if isinstance(response_model, str) and response_model not in RESPONSE_MODELS:
            raise ValueError(f"response_model must be one of {RESPONSE_MODELS} or an object with a "
                             f"respond(game, rule, state, round_index, rng) method, got {response_model!r}")
        # "rational" answers the whole policy at once; the per-round models play it round by round.
        self.response_model = "rational" if response_model == "rational" else as_response_model(response_model)
        self._episode_length = 1
        game = self.game
        self.action_space = simplex_box(game.horizon, game.n_features)
        self._description, low, high = describe_game(game)
        self.observation_space = spaces.Box(low=low, high=high, dtype=np.float32)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self._round = 0
        self._last_info = {}
        return self._description.copy(), {}

    def _response(self, theta: np.ndarray, tie_tol: float, rng: np.random.Generator) -> np.ndarray:
        """The agent's effort policy ``(T, d)`` against the checked policy ``theta`` ``(T, n)``, the game's own models
        breaking ties within ``tie_tol`` round scales; a custom model draws from ``rng``."""
        game, model = self.game, self.response_model
        if isinstance(model, str):
            return (_linear_rational_effort(game, theta, tie_tol) if game.is_linear
                    else best_response(game, theta, model).effort)
        if type(model) is PerRoundResponse:
            return best_response(game, theta, model.model, tie_tol=tie_tol).effort
        return respond_to_policy(game, model, theta, rng)

    def step(self, action):
        self._begin_step()
        game = self.game
        theta = simplex_action(self.action_space, action)  # checked, and on the simplex by construction
        # The action's precision widens the ties.
        effort = self._response(theta, TIE_TOL + precision_slack(action, game.n_features), self.np_random)
        states, features, scores, agent_utility, principal_utility = _played(game, theta, effort)  # rollout()
        self._round = 1
        reward = float(principal_utility)
        info = {"theta": theta, "effort": effort, "states": states, "features": features, "scores": scores,
                "agent_utility": float(agent_utility), "principal_utility": reward}
        self._last_info = info
        return self._description.copy(), reward, True, False, info


# ---------------------------------------------------------------------------------------------
# The principal, round by round
# ---------------------------------------------------------------------------------------------

class StatefulPrincipalEnv(_StatefulEnv):
    """The principal publishes one rule per round to an agent that answers round by round.

    | | |
    |---|---|
    | Creation | ``gym.make("stratgym/StatefulPrincipal-v0", game=None, response_model="myopic")`` |
    | Actions | Box ``[-1, 1]^n`` onto the simplex: this round's rule ``theta_t`` |
    | Observations | Box ``(1 + 2n,)``: round, last round's features, last rule |
    | Players | principal (learns); agent = ``response_model`` (myopic, forecasting, or any :class:`ResponseModel`) |
    | Reference solver | ``stratgym.baselines`` ``solve(game, response_model)`` (myopic / forecasting) |
    | Known optimum | default ``classroom_project(5)``: ``U_P* = 5`` against myopic and forecasting (uniform rule: 0 and 3) |

    ## Description

    Harris, Heidari and Wu, "Stateful Strategic Regression" (NeurIPS 2021), played one round per step.
    At round ``t`` the principal publishes ``theta_t``; the agent answers with an effort ``e_t`` given
    its state ``s_t``; the state evolves as ``s_{t+1} = p * s_t + omega * e_t``. The agent is a
    :class:`ResponseModel`: ``"myopic"`` (maximizes this round's score), ``"forecasting"`` (re-plans as if
    ``theta_t`` stayed in force until ``T``), both with ties broken in the principal's favour (widened by the
    action's precision, as in :class:`StatefulCommitmentEnv`), or any
    object with ``respond(game, rule, state, round_index, rng)`` (a learned or bounded-rationality
    agent). The rational agent needs the whole policy in advance: see :class:`StatefulCommitmentEnv`.
    The response is applied exactly once per step.

    ## Action Space

    ``Box(-1, 1, (n,), float32)``, mapped by ``box_to_simplex`` (``w = (a + 1) / 2``,
    ``theta_t = w / sum(w)``, uniform if ``w = 0``) to the rule ``theta_t``; vertices are reachable.

    ## Observation Space

    What a principal can see: never the effort or the state.

    | Num | Observation | Min | Max |
    |-----|-------------|-----|-----|
    | 0 | rounds played ``t / T`` | 0 | 1 |
    | ``1 .. n`` | last round's features ``o_{t,i} / O_i`` (``O = feature_bounds(game)``; 0 before round 1) | 0 | 1 |
    | ``n+1 .. 2n`` | last rule ``theta_{t,i}`` (0 before round 1) | 0 | 1 |

    ## Rewards

    ``lambda . e_t``, the principal's value of this round's effort; the undiscounted return is ``U_P``.

    ## Starting State

    Deterministic: the game's initial state ``s_1`` (a custom response model may draw from ``np_random``).

    ## Episode End

    Termination after the ``T``-th round. No truncation.

    ## Arguments

    ```python
    >>> import gymnasium as gym
    >>> import numpy as np
    >>> import stratgym
    >>> env = gym.make("stratgym/StatefulPrincipal-v0", response_model="forecasting")
    >>> obs, info = env.reset(seed=0)
    >>> obs, reward, terminated, truncated, info = env.step(np.zeros(3, dtype=np.float32))
    >>> reward, info["effort"]
    (1.0, array([0., 1., 0.]))

    ```

    | Parameter | Type | Default | Description |
    |---|---|---|---|
    | ``game`` | ``StatefulGame`` or ``None`` | ``None`` (``classroom_project()``) | the game instance |
    | ``response_model`` | ``"myopic"``, ``"forecasting"`` or a :class:`ResponseModel` | ``"myopic"`` | the agent |
    | ``render_mode`` | ``"ansi"``, ``"rgb_array"`` or ``None`` | ``None`` | text, or a numpy-drawn frame of the last step (``RoundEnv.render``) |

    ``info`` of a step: ``rule`` ``theta_t`` ``(n,)``, ``state`` ``s_t`` ``(d,)``, ``effort`` ``e_t``
    ``(d,)``, ``features`` ``o_t`` ``(n,)``, ``score`` ``y_t`` (for logging and scoring; not observed).

    ## Vectorized environment

    :class:`StatefulPrincipalVectorEnv` steps many episodes at once with numpy (vector entry point
    ``stratgym.envs.stateful:StatefulPrincipalVectorEnv``, autoreset ``NEXT_STEP``).

    ## Version History

    * v0: Initial version.
    """

    def __init__(self, game: StatefulGame | None = None, response_model: str | ResponseModel = "myopic",
                 render_mode: str | None = None):
        super().__init__(game, render_mode)
        self.response_model = as_response_model(response_model)
        # Exactly the game's own model: a subclass may override respond, so its efforts are checked.
        self._trusted_response = type(self.response_model) is PerRoundResponse
        n = self.game.n_features
        self.action_space = simplex_box(n)
        self.observation_space = spaces.Box(low=0.0, high=1.0, shape=(1 + 2 * n,), dtype=np.float32)
        self._feature_scale = _reciprocal_scale(feature_bounds(self.game))
        self._state = self.game.initial_state

    def _respond(self, rule: np.ndarray, state: np.ndarray, round_index: int, rng: np.random.Generator,
                 tie_tol: float = TIE_TOL) -> np.ndarray:
        """The response model's effort ``(d,)``, checked unless the model is the game's own (which breaks ties within
        ``tie_tol`` round scales; custom models have their own rules)."""
        if self._trusted_response:
            return self.response_model.respond(self.game, rule, state, round_index, rng, tie_tol=tie_tol)
        effort = self.response_model.respond(self.game, rule, state, round_index, rng)
        return check_round_effort(self.game, effort, name="effort returned by response_model.respond")

    def _observation(self, rounds_played, features: np.ndarray, rules: np.ndarray) -> np.ndarray:
        """Observations ``(..., 1 + 2n)`` from the rounds played ``(...)``, last features and last rules ``(..., n)``."""
        n = self.game.n_features
        obs = np.empty(rules.shape[:-1] + (1 + 2 * n,), dtype=np.float32)
        obs[..., 0] = rounds_played / self.game.horizon
        obs[..., 1:1 + n] = features * self._feature_scale
        obs[..., 1 + n:] = rules
        return obs

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self._round = 0
        self._state = self.game.initial_state
        self._last_info = {}
        nothing = np.zeros(self.game.n_features)
        return self._observation(0, nothing, nothing), {}

    def step(self, action):
        t = self._begin_step()
        game = self.game
        rule = simplex_action(self.action_space, action)
        state = self._state
        effort = self._respond(rule, state, t, self.np_random, TIE_TOL + precision_slack(action, game.n_features))
        features = observe(game, state, effort)
        self._state = next_state(game, state, effort)
        self._round = t + 1
        # ndarray.dot: the same product as @ on vectors, at a third of the call overhead.
        info = {"rule": rule, "state": state.copy(), "effort": effort, "features": features,
                "score": float(rule.dot(features))}
        self._last_info = info
        reward = float(game.effort_value.dot(effort))
        return self._observation(self._round, features, rule), reward, self._round == game.horizon, False, info


# ---------------------------------------------------------------------------------------------
# The agent, round by round
# ---------------------------------------------------------------------------------------------

PrincipalPlan = Callable[[np.random.Generator], np.ndarray]


class _AgentObservations:
    """The observations of :class:`StatefulAgentEnv` for one game, its normalizing bounds computed once.

    ``round_parts(plans)`` is everything observed except the state, per round, for plans ``(k, T, n)``:
    ``(k, T + 1, 1 + 2d + T n)`` float32 (computed once per episode); ``observe(round_parts, states)``
    adds the states ``(..., d)``. Both take batches (the vector env uses them too).
    """

    def __init__(self, game: StatefulGame):
        T, n, d = game.horizon, game.n_features, game.n_efforts
        self.game = game
        self._state_scale = _reciprocal_scale(state_bounds(game).max(axis=0))
        # Marginal values are linear in the plan: one precomputed matrix maps theta (T n,) to c / C (T d,).
        self._value_map = (marginal_value_operator(game).reshape(T * d, T * n)
                           * float(_reciprocal_scale(marginal_value_bound(game))))
        # [t, (u, i)]: 1 while round u is not played before round t, so rows already played read 0.
        self._unplayed = np.repeat(np.arange(T + 1)[:, None] <= np.arange(T)[None, :], n, axis=1).astype(np.float64)
        self._blank_parts = np.zeros((1, T + 1, 1 + 2 * d + T * n), dtype=np.float32)
        self._blank_parts[0, :, 0] = np.arange(T + 1) / T

    def round_parts(self, plans: np.ndarray) -> np.ndarray:
        """Everything observed except the state, per round: ``(k, T + 1, obs_dim)`` float32 for plans ``(k, T, n)``."""
        T, n, d = self.game.horizon, self.game.n_features, self.game.n_efforts
        flat = plans.reshape(-1, T * n)
        parts = np.repeat(self._blank_parts, len(flat), axis=0)
        # Computed in float64 and rounded once, on assignment.
        parts[:, :T, 1 + d:1 + 2 * d] = (flat @ self._value_map.T).reshape(-1, T, d)
        parts[:, :, 1 + 2 * d:] = flat[:, None, :] * self._unplayed
        return parts

    def observe(self, round_parts: np.ndarray, states: np.ndarray) -> np.ndarray:
        """Observations ``(..., obs_dim)`` from this round's parts ``(..., obs_dim)`` and states ``(..., d)``."""
        obs = round_parts.copy()
        obs[..., 1:1 + self.game.n_efforts] = states * self._state_scale
        return obs

    def at(self, plan: np.ndarray, state, round_index: int) -> np.ndarray:
        """The observation at ``round_index`` (``0..T``) in ``state`` ``(d,)`` facing a checked ``plan`` ``(T, n)``."""
        T = self.game.horizon
        if isinstance(round_index, (bool, np.bool_)) or not 0 <= round_index <= T:
            raise ValueError(f"round_index must be an integer in [0, {T}], got {round_index!r}")
        state = as_real_array(state, "state", shape=(self.game.n_efforts,))
        return self.observe(self.round_parts(plan[None])[0, int(round_index)], state)


def agent_observation(game: StatefulGame, plan, state, round_index: int) -> np.ndarray:
    """The observation ``(1 + 2d + T n,)`` float32 that :class:`StatefulAgentEnv` shows at 0-based
    ``round_index`` (``0..T``) in ``state`` ``(d,)`` facing ``plan`` ``(T, n)`` (rows on the simplex, used as
    given): how a trained agent is queried outside the env.

    The env builds its own observations with the same code; this function computes the game's bounds
    on every call. ``ValueError`` for a plan off the simplex, a wrong shape or an out-of-range round.
    """
    game = _as_game(game)
    plan = check_assessment_policy(game, plan, name="plan", batch=False)
    return _AgentObservations(game).at(plan, state, round_index)


class StatefulAgentEnv(_StatefulEnv):
    """The agent spends its effort budget round by round against a principal's assessment plan.

    | | |
    |---|---|
    | Creation | ``gym.make("stratgym/StatefulAgent-v0", game=None, principal="random")`` |
    | Actions | Box ``[-1, 1]^(d + 1)`` onto the simplex; first ``d`` entries × ``B``: the effort ``e_t`` |
    | Observations | Box ``(1 + 2d + T n,)``: round, state, marginal values ``c_t``, remaining rules |
    | Players | agent (learns); principal = a fixed plan, a fresh random plan, or a callable |
    | Reference solver | ``best_response(game, plan, "rational")`` (``stratgym.games``; exact for linear ``g``) |
    | Known optimum | ``U_A`` of the rational best response to the plan faced; for linear ``g`` put the budget on ``argmax_j c_{t,j}`` |

    ## Description

    Harris, Heidari and Wu, "Stateful Strategic Regression" (NeurIPS 2021), from the decision
    subject's side. The principal's plan ``theta_1..theta_T`` is fixed at reset and fully visible (the
    Stackelberg agent knows the committed policy); each step the agent picks ``e_t`` in ``E_B``, is
    scored ``y_t = theta_t . g(W (s_t + e_t))`` and its state moves to ``s_{t+1} = p * s_t + omega * e_t``.
    The principal is given to the constructor: a fixed plan ``(T, n)``, ``"random"`` (a fresh plan each
    episode, every row Dirichlet(1), i.e. uniform on the simplex, drawn from ``np_random``), or a
    callable ``plan(rng) -> (T, n)`` called at each reset with ``np_random`` (e.g. a trained principal).

    ## Action Space

    ``Box(-1, 1, (d + 1,), float32)``. ``box_to_simplex`` maps it to ``x`` on the simplex of size
    ``d + 1`` (``w = (a + 1) / 2``, ``x = w / sum(w)``); the effort is ``e_t = B x[:d]`` and ``x[d]`` is the
    share of the budget left unused. Every effort in ``E_B`` is reachable, "all on type j"
    (``a = 2 e_j - 1``) and "no effort" included.

    ## Observation Space

    | Num | Observation | Min | Max |
    |-----|-------------|-----|-----|
    | 0 | rounds played ``t / T`` | 0 | 1 |
    | ``1 .. d`` | state ``s_{t,j} / S_j`` (``S_j = max_t state_bounds(game)[t, j]``, 1 if that is 0) | 0 | 1 |
    | ``d+1 .. 2d`` | marginal values ``c_t(theta) / C`` (``C = marginal_value_bound(game)``, one scale for all ``j``) | 0 | 1 |
    | ``2d+1 ..`` | the plan ``theta`` ``(T, n)`` row-major, rows already played set to 0 | 0 | 1 |

    ``c_t`` is the linear-``g`` marginal value of effort this round (``marginal_values``):
    ``c_t = gamma^(t-1) W^T theta_t + sum_{u>t} gamma^(u-1) (omega * p^(u-1-t)) * W^T theta_u``. For
    linear ``g`` ``U_A`` is linear in the effort policy and separable across rounds given the plan, so
    the optimal effort at round ``t`` is ``B`` on ``argmax_j c_{t,j}`` (nothing if the maximum is
    ``<= 0``) whatever the state: ``c_t`` alone is sufficient, and dividing all its entries by one scale
    keeps the argmax. For concave ``g`` the optimal continuation depends on the state and the remaining
    rules, both observed, so the observation is Markov for every game. After the last round ``c`` and
    the plan entries are all 0. :func:`agent_observation` builds the same observation outside the env
    (to query a trained agent), with the same code.

    ## Rewards

    The score ``y_t = theta_t . o_t``. With the RL discount set to the game's ``gamma`` the return
    ``sum_t gamma^(t-1) y_t`` is exactly the agent's utility ``U_A``.

    ## Starting State

    The game's initial state ``s_1``; the plan is the fixed one, a Dirichlet(1) draw per round
    (``"random"``), or ``principal(np_random)``.

    ## Episode End

    Termination after the ``T``-th round. No truncation.

    ## Arguments

    ```python
    >>> import gymnasium as gym
    >>> import numpy as np
    >>> import stratgym
    >>> env = gym.make("stratgym/StatefulAgent-v0", principal=np.full((5, 3), 1 / 3))
    >>> obs, info = env.reset(seed=0)
    >>> study = np.array([-1, 1, -1, -1], dtype=np.float32)  # all budget on effort type 1
    >>> obs, reward, terminated, truncated, info = env.step(study)
    >>> round(reward, 6), info["effort"]
    (0.15, array([0., 1., 0.]))

    ```

    | Parameter | Type | Default | Description |
    |---|---|---|---|
    | ``game`` | ``StatefulGame`` or ``None`` | ``None`` (``classroom_project()``) | the game instance |
    | ``principal`` | ``(T, n)`` array, ``"random"`` or ``callable(rng) -> (T, n)`` | ``"random"`` | the plan faced |
    | ``render_mode`` | ``"ansi"``, ``"rgb_array"`` or ``None`` | ``None`` | text, or a numpy-drawn frame of the last step (``RoundEnv.render``) |

    Plans must have rows on the simplex (tolerance 1e-6; rows are then clipped at 0 and renormalized).
    ``info`` of a reset: ``theta`` ``(T, n)``; of a step: ``rule`` ``theta_t`` ``(n,)``, ``state`` ``s_t``
    ``(d,)``, ``effort`` ``e_t`` ``(d,)``, ``features`` ``o_t`` ``(n,)``, ``score`` ``y_t``. Pickling the env
    pickles ``principal`` too, so a callable principal must be picklable for that.

    ## Vectorized environment

    :class:`StatefulAgentVectorEnv` steps many episodes at once with numpy (vector entry point
    ``stratgym.envs.stateful:StatefulAgentVectorEnv``, autoreset ``NEXT_STEP``).

    ## Version History

    * v0: Initial version.
    """

    def __init__(self, game: StatefulGame | None = None, principal: np.ndarray | str | PrincipalPlan = "random",
                 render_mode: str | None = None):
        super().__init__(game, render_mode)
        game = self.game
        T, n, d = game.horizon, game.n_features, game.n_efforts
        if isinstance(principal, str):
            if principal != "random":
                raise ValueError(f"principal must be a (T, n) = ({T}, {n}) plan, 'random' or a callable "
                                 f"plan(rng) -> (T, n), got {principal!r}")
        elif not callable(principal):
            principal = self._checked_plan(principal, "principal")
            principal.setflags(write=False)
        self.principal = principal
        self.action_space = simplex_box(d + 1)
        self.observation_space = spaces.Box(low=0.0, high=1.0, shape=(1 + 2 * d + T * n,), dtype=np.float32)
        self._observer = _AgentObservations(game)
        self._state = game.initial_state
        self._plan = np.zeros((T, n))
        self._round_parts = self._observer.round_parts(self._plan[None])[0]

    def _checked_plan(self, plan, name: str) -> np.ndarray:
        """``plan`` as a ``(T, n)`` float64 array with rows exactly on the simplex (``ValueError`` naming ``name``)."""
        return clip_rows(check_assessment_policy(self.game, plan, name=name, batch=False))

    def _draw_plans(self, rng: np.random.Generator, count: int) -> np.ndarray:
        """``count`` plans ``(count, T, n)`` of the principal for new episodes."""
        T, n = self.game.horizon, self.game.n_features
        if isinstance(self.principal, np.ndarray):
            return np.broadcast_to(self.principal, (count, T, n)).copy()
        if isinstance(self.principal, str):
            # Normalized standard exponentials are Dirichlet(1) rows, drawn as numpy's own dirichlet draws them
            # (for n < 8 the very same numbers from the same stream) without its per-call argument checks.
            draws = rng.standard_exponential((count, T, n))
            return draws * (1.0 / draws.sum(axis=-1, keepdims=True))
        return np.array([self._checked_plan(self.principal(rng), "principal(rng)") for _ in range(count)])

    def observation(self, plan, state, round_index: int) -> np.ndarray:
        """The observation ``(1 + 2d + T n,)`` this env shows at 0-based ``round_index`` (``0..T``) in
        ``state`` ``(d,)`` facing ``plan`` ``(T, n)`` (rows renormalized like a fixed ``principal``): how a
        trained agent is queried outside the env; :func:`agent_observation` without the renormalization."""
        return self._observer.at(self._checked_plan(plan, "plan"), state, round_index)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self._plan = self._draw_plans(self.np_random, 1)[0]
        self._round_parts = self._observer.round_parts(self._plan[None])[0]
        self._round = 0
        self._state = self.game.initial_state
        self._last_info = {}
        return self._observer.observe(self._round_parts[0], self._state), {"theta": self._plan.copy()}

    def step(self, action):
        t = self._begin_step()
        game = self.game
        effort = simplex_action(self.action_space, action)[:-1] * game.budget
        state = self._state
        features = observe(game, state, effort)
        rule = self._plan[t]
        self._state = next_state(game, state, effort)
        self._round = t + 1
        score = float(rule.dot(features))
        info = {"rule": rule.copy(), "state": state.copy(), "effort": effort, "features": features, "score": score}
        self._last_info = info
        obs = self._observer.observe(self._round_parts[self._round], self._state)
        return obs, score, self._round == game.horizon, False, info


# ---------------------------------------------------------------------------------------------
# Native vector envs: many episodes of the round-by-round envs stepped together with numpy
# ---------------------------------------------------------------------------------------------

class _RoundVectorEnv(VectorEnv):
    """``num_envs`` episodes of a round-by-round env stepped together (``AutoresetMode.NEXT_STEP``).

    A sub-env whose episode ended in the previous step is reset by this step instead: its action is
    ignored, its reward is 0, its flags are False and the observation is its new episode's first. The
    scalar env ``single`` supplies the spaces and the batch-capable observation helpers, so both
    compute observations the same way; randomness comes only from this env's ``np_random``.
    """

    metadata = {"render_modes": [], "autoreset_mode": AutoresetMode.NEXT_STEP}

    def __init__(self, single: _StatefulEnv, num_envs: int):
        self.num_envs = as_positive_int(num_envs, "num_envs")
        self.single = single
        self.game = single.game
        self.single_action_space = single.action_space
        self.single_observation_space = single.observation_space
        self.action_space = batch_space(single.action_space, self.num_envs)
        self.observation_space = batch_space(single.observation_space, self.num_envs)
        self._rounds: np.ndarray | None = None  # rounds played per sub-env; None before the first reset
        self._states = np.tile(self.game.initial_state, (self.num_envs, 1))
        self._ended = np.zeros(self.num_envs, dtype=bool)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self._rounds = np.zeros(self.num_envs, dtype=np.int64)
        self._ended = np.zeros(self.num_envs, dtype=bool)
        self._restart(np.ones(self.num_envs, dtype=bool))
        return self._observations(), {}

    def step(self, actions):
        if self._rounds is None:
            raise ResetNeeded("cannot call step() before reset()")
        mapped = simplex_action(self.action_space, actions, name="actions")
        if self._ended.any():
            self._restart(self._ended)
        playing = ~self._ended
        rewards = np.zeros(self.num_envs)
        info = self._play_round(mapped, np.flatnonzero(playing), rewards, actions)
        self._rounds[playing] += 1
        terminated = playing & (self._rounds == self.single._episode_length)
        self._ended = terminated
        return self._observations(), rewards, terminated, np.zeros(self.num_envs, dtype=bool), info

    def _restart(self, which: np.ndarray) -> None:
        """Start new episodes in the sub-envs ``which`` ``(num_envs,)`` bool."""
        self._rounds[which] = 0
        self._states[which] = self.game.initial_state

    def _play_round(self, mapped: np.ndarray, playing: np.ndarray, rewards: np.ndarray, actions) -> dict:
        """Play one round in sub-envs ``playing`` (indices) with simplex actions ``mapped`` (of the received
        ``actions``, whose precision widens the agent's ties); fill ``rewards``."""
        raise NotImplementedError

    def _observations(self) -> np.ndarray:
        raise NotImplementedError

    @staticmethod
    def _masked_info(values: dict[str, np.ndarray], playing: np.ndarray, num_envs: int) -> dict:
        """Gymnasium's vector-info layout: ``info[key]`` ``(num_envs, ...)`` and ``info["_" + key]`` the mask."""
        mask = np.zeros(num_envs, dtype=bool)
        mask[playing] = True
        info = {}
        for key, value in values.items():
            full = np.zeros((num_envs,) + value.shape[1:])
            full[playing] = value
            info[key], info["_" + key] = full, mask.copy()
        return info


class StatefulPrincipalVectorEnv(_RoundVectorEnv):
    """``num_envs`` :class:`StatefulPrincipalEnv` episodes stepped together (native vector env).

    Same game, spaces (batched), rewards and observations as :class:`StatefulPrincipalEnv`; autoreset
    ``NEXT_STEP`` (see ``_RoundVectorEnv``). The game's own models on a linear game answer all sub-envs
    in one batched call; concave games and custom :class:`ResponseModel` objects answer one sub-env at a
    time with this env's ``np_random``. ``info``: the scalar env's keys batched, ``rule`` ``(num_envs, n)``,
    ``state`` (before the round) ``(num_envs, d)``, ``effort`` ``(num_envs, d)``, ``features`` ``(num_envs, n)``,
    ``score`` ``(num_envs,)``, each with its mask ``_<key>`` (False for sub-envs that were reset).

    ```python
    >>> import numpy as np
    >>> from stratgym.envs.stateful import StatefulPrincipalVectorEnv
    >>> envs = StatefulPrincipalVectorEnv(num_envs=3, response_model="forecasting")
    >>> obs, info = envs.reset(seed=0)
    >>> obs, rewards, terminated, truncated, info = envs.step(np.zeros((3, 3), dtype=np.float32))
    >>> rewards
    array([1., 1., 1.])

    ```
    """

    def __init__(self, num_envs: int = 1, game: StatefulGame | None = None,
                 response_model: str | ResponseModel = "myopic"):
        single = StatefulPrincipalEnv(game, response_model)
        super().__init__(single, num_envs)
        n = self.game.n_features
        self._batched_response = single._trusted_response and self.game.is_linear
        self._last_features = np.zeros((self.num_envs, n))
        self._last_rules = np.zeros((self.num_envs, n))

    def _restart(self, which: np.ndarray) -> None:
        super()._restart(which)
        self._last_features[which] = 0.0
        self._last_rules[which] = 0.0

    def _play_round(self, mapped: np.ndarray, playing: np.ndarray, rewards: np.ndarray, actions) -> dict:
        game = self.game
        rules, states, rounds = mapped[playing], self._states[playing], self._rounds[playing]
        tie_tol = TIE_TOL + precision_slack(actions, game.n_features)
        if self._batched_response:
            efforts = self.single.response_model.respond(game, rules, states, rounds, self.np_random, tie_tol=tie_tol)
        else:
            efforts = np.array([self.single._respond(rule, state, int(t), self.np_random, tie_tol)
                                for rule, state, t in zip(rules, states, rounds)]).reshape(-1, game.n_efforts)
        features = observe(game, states, efforts)
        self._states[playing] = next_state(game, states, efforts)
        self._last_features[playing] = features
        self._last_rules[playing] = rules
        rewards[playing] = efforts @ game.effort_value
        scores = np.einsum("kn,kn->k", rules, features)
        return self._masked_info({"rule": rules, "state": states, "effort": efforts, "features": features,
                                  "score": scores}, playing, self.num_envs)

    def _observations(self) -> np.ndarray:
        return self.single._observation(self._rounds, self._last_features, self._last_rules)


class StatefulAgentVectorEnv(_RoundVectorEnv):
    """``num_envs`` :class:`StatefulAgentEnv` episodes stepped together (native vector env).

    Same game, principal argument, spaces (batched), rewards and observations as
    :class:`StatefulAgentEnv`; autoreset ``NEXT_STEP`` (see ``_RoundVectorEnv``). Each new episode
    draws its own plan (``"random"``: Dirichlet(1) rows; a callable is called once per new episode)
    from this env's ``np_random``. ``info``: the scalar env's keys batched, ``rule`` ``(num_envs, n)``, ``state``
    (before the round) ``(num_envs, d)``, ``effort`` ``(num_envs, d)``, ``features`` ``(num_envs, n)``, ``score``
    ``(num_envs,)``, each with its mask ``_<key>`` (False for sub-envs that were reset).

    ```python
    >>> import numpy as np
    >>> from stratgym.envs.stateful import StatefulAgentVectorEnv
    >>> envs = StatefulAgentVectorEnv(num_envs=2, principal=np.full((5, 3), 1 / 3))
    >>> obs, info = envs.reset(seed=0)
    >>> obs.shape
    (2, 22)

    ```
    """

    def __init__(self, num_envs: int = 1, game: StatefulGame | None = None,
                 principal: np.ndarray | str | PrincipalPlan = "random"):
        single = StatefulAgentEnv(game, principal)
        super().__init__(single, num_envs)
        self._plans = np.zeros((self.num_envs, self.game.horizon, self.game.n_features))
        self._round_parts = np.repeat(single._round_parts[None], self.num_envs, axis=0)

    def _restart(self, which: np.ndarray) -> None:
        super()._restart(which)
        plans = self.single._draw_plans(self.np_random, int(which.sum()))
        self._plans[which] = plans
        self._round_parts[which] = self.single._observer.round_parts(plans)

    def _play_round(self, mapped: np.ndarray, playing: np.ndarray, rewards: np.ndarray, actions) -> dict:
        game = self.game
        efforts = mapped[playing, :-1] * game.budget
        states, rounds = self._states[playing], self._rounds[playing]
        features = observe(game, states, efforts)
        self._states[playing] = next_state(game, states, efforts)
        rules = self._plans[playing, rounds]
        rewards[playing] = np.einsum("kn,kn->k", rules, features)
        return self._masked_info({"rule": rules, "state": states, "effort": efforts, "features": features,
                                  "score": rewards[playing]}, playing, self.num_envs)

    def _observations(self) -> np.ndarray:
        parts = self._round_parts[np.arange(self.num_envs), self._rounds]
        return self.single._observer.observe(parts, self._states)


class StatefulCommitmentVectorEnv(_RoundVectorEnv):
    """``num_envs`` :class:`StatefulCommitmentEnv` episodes stepped together (native vector env).

    Same game, response model, spaces (batched), rewards and observations as :class:`StatefulCommitmentEnv`;
    autoreset ``NEXT_STEP`` (see ``_RoundVectorEnv``): an episode is one step, so a sub-env that just played is
    reset by the next step. The game's own models on a linear game answer every sub-env with a few batched numpy
    calls (the rational agent's marginal values are one product with ``marginal_value_operator``, the per-round
    models' one :func:`~stratgym.games.stateful.per_round_response` over all rounds), with the ties of the scalar
    env; concave games and custom :class:`ResponseModel` objects answer one sub-env at a time with this env's
    ``np_random``. ``info``: the scalar env's keys batched (``theta`` ``(num_envs, T, n)``, ``effort``
    ``(num_envs, T, d)``, ``states``, ``features``, ``scores``, ``agent_utility``, ``principal_utility``), each with
    its mask ``_<key>``.

    ```python
    >>> import numpy as np
    >>> from stratgym.envs.stateful import StatefulCommitmentVectorEnv
    >>> from stratgym.games.stateful import classroom
    >>> envs = StatefulCommitmentVectorEnv(num_envs=2, game=classroom(horizon=3))
    >>> obs, info = envs.reset(seed=0)
    >>> obs, rewards, terminated, truncated, info = envs.step(np.zeros((2, 3, 2), dtype=np.float32))
    >>> rewards, terminated
    (array([2., 2.]), array([ True,  True]))

    ```
    """

    def __init__(self, num_envs: int = 1, game: StatefulGame | None = None,
                 response_model: str | ResponseModel = "rational"):
        single = StatefulCommitmentEnv(game, response_model=response_model)
        super().__init__(single, num_envs)
        game, model = self.game, single.response_model
        T, n, d = game.horizon, game.n_features, game.n_efforts
        self._batched_model = (model if isinstance(model, str) else model.model
                               if type(model) is PerRoundResponse else None) if game.is_linear else None
        if self._batched_model == "rational":
            self._operator = marginal_value_operator(game).reshape(T * d, T * n)
            self._scales = round_scales(game)
        self._round_indices = np.arange(T)

    def _efforts(self, thetas: np.ndarray, tie_tol: float) -> np.ndarray:
        """Effort policies ``(k, T, d)`` of the agent against checked policies ``thetas`` ``(k, T, n)``."""
        game = self.game
        k, T = thetas.shape[0], game.horizon
        if self._batched_model == "rational":
            values = (thetas.reshape(k, T * game.n_features) @ self._operator.T).reshape(k, T, game.n_efforts)
            return favoured_option(game, values, self._scales, tie_tol)
        if self._batched_model is not None:  # myopic / forecasting: each round answers its own rule
            rounds = np.tile(self._round_indices, k)
            efforts = per_round_response(game, self._batched_model, thetas.reshape(k * T, game.n_features), rounds, tie_tol)
            return efforts.reshape(k, T, game.n_efforts)
        return np.array([self.single._response(theta, tie_tol, self.np_random) for theta in thetas]).reshape(
            k, T, game.n_efforts)

    def _play_round(self, mapped: np.ndarray, playing: np.ndarray, rewards: np.ndarray, actions) -> dict:
        game = self.game
        thetas = mapped[playing]
        efforts = self._efforts(thetas, TIE_TOL + precision_slack(actions, game.n_features))
        states, features, scores, agent_utility, principal_utility = _played(game, thetas, efforts)
        rewards[playing] = principal_utility
        return self._masked_info({"theta": thetas, "effort": efforts, "states": states, "features": features,
                                  "scores": scores, "agent_utility": agent_utility,
                                  "principal_utility": principal_utility}, playing, self.num_envs)

    def _observations(self) -> np.ndarray:
        return np.repeat(self.single._description[None], self.num_envs, axis=0)
