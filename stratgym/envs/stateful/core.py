"""The pure core of the stateful envs (as in gymnax): explicit episode state and step functions that take one
episode (batch shape ``()``) or a batch (``(k,)``), shared by the scalar envs and their native vector versions.

Nothing here keeps state or draws randomness on its own: a step takes the episode state and the round's rule
and effort, and returns the new state, the reward and the step's ``info`` arrays; randomness (plans of a random
principal) is drawn from the generator passed in. The game's own rules (dynamics, observations, ties) come from
:mod:`stratgym.games.stateful`; this module adds what an env shows: bounds that make the observation Boxes
honest, the observations themselves, and the episode bookkeeping.

Arithmetic that numpy would reduce over a short last axis (row dot products) is written as one pass per
column in a batch, which is many times faster for thousands of rows; a single episode uses ``ndarray.dot``. The
two differ at most in the last bits of a sum (tested: the vector envs equal the scalar envs step for step).
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

from stratgym.envs.base import RoundEnv
from stratgym.envs.spaces import row_sums
from stratgym.games.linalg import matmul_rows
from stratgym.games.stateful import (CONVERSIONS, StatefulGame, check_assessment_policy, classroom_project, clip_rows,
                                     largest_marginal_values, marginal_value_operator, next_state, observe)
from stratgym.games.stateful.model import repeated_rows
from stratgym.games.validation import as_real_array

PrincipalPlan = Callable[[np.random.Generator], np.ndarray]


def as_game(game) -> StatefulGame:
    """``game``, or ``classroom_project()`` for ``None``; ``ValueError`` for anything else."""
    if game is None:  # classroom() itself does not discriminate: its uniform rule is already optimal
        return classroom_project()
    if not isinstance(game, StatefulGame):
        raise ValueError(f"game must be a StatefulGame (or None for classroom_project()), got {type(game).__name__}")
    return game


def row_dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``sum(a * b, axis=-1)`` for ``a`` ``(..., m)`` and ``b`` broadcasting against it: ``ndarray.dot`` for one
    vector, one pass per column for a batch (see the module docstring)."""
    if a.ndim == 1:
        return a.dot(b)
    if b.ndim == 1:  # one vector for the whole batch: its entries as numbers
        weights = b.tolist()
        total = a[..., 0] * weights[0]
        for j in range(1, a.shape[-1]):
            total = total + a[..., j] * weights[j]
        return total
    b = np.broadcast_to(b, a.shape)
    total = a[..., 0] * b[..., 0]
    for j in range(1, a.shape[-1]):
        total = total + a[..., j] * b[..., j]
    return total


def common_round(rounds) -> int | None:
    """The round every episode of a batch is at, or ``None`` if they differ (one episode: its round). The envs of a
    vector env start together and last T rounds, so they stay in step: the batched paths index by one round then."""
    if isinstance(rounds, (int, np.integer)):
        return int(rounds)
    first = int(rounds[0]) if len(rounds) else 0
    return first if (rounds == first).all() else None


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


def reciprocal_scale(bound) -> np.ndarray:
    """``1 / bound`` where the bound is positive, else 1 (the quantity is then always 0)."""
    bound = np.asarray(bound, dtype=np.float64)
    return np.where(bound > 0, 1.0 / np.where(bound > 0, bound, 1.0), 1.0)


def describe_game(game: StatefulGame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The game as a fixed-length float32 vector with its bounds: ``(value, low, high)``.

    Layout (see :class:`~stratgym.envs.stateful.StatefulCommitmentEnv`): ``W / max(W)`` row-major, ``omega``, ``p``,
    ``lambda / max|lambda|``, ``s_1 / B``, ``gamma``, ``k / (1 + k)`` with ``k = max(W) B``, one-hot ``g``.
    Scale-free entries keep every game in ``[-1, 1]``, except ``s_1 / B``, bounded by ``max(1, max s_1 / B)``.
    """
    W = game.conversion_matrix
    scale = game.budget * W.max()
    pieces = [  # (values, low, high)
        (W.ravel() * reciprocal_scale(W.max()), 0.0, 1.0),
        (game.retention, 0.0, 1.0),
        (game.persistence, 0.0, 1.0),
        (game.effort_value * reciprocal_scale(np.abs(game.effort_value).max()), -1.0, 1.0),
        (game.initial_state / game.budget, 0.0, max(1.0, game.initial_state.max() / game.budget)),
        (np.array([game.discount, scale / (1.0 + scale)]), 0.0, 1.0),
        (np.array([float(name == game.conversion) for name in CONVERSIONS]), 0.0, 1.0),
    ]
    value = np.concatenate([values for values, _, _ in pieces]).astype(np.float32)
    low = np.concatenate([np.full(len(values), low) for values, low, _ in pieces]).astype(np.float32)
    high = np.concatenate([np.full(len(values), high) for values, _, high in pieces]).astype(np.float32)
    return value, low, high


class StatefulRoundEnv(RoundEnv):
    """What the three scalar envs share: the game (``None``: ``classroom_project()``), and :class:`RoundEnv`'s
    rendering and guards (T rounds)."""

    def __init__(self, game: StatefulGame | None, render_mode: str | None):
        self.game = as_game(game)
        super().__init__(render_mode, self.game.horizon)


# ---------------------------------------------------------------------------------------------
# One round of the game, for the round-by-round envs
# ---------------------------------------------------------------------------------------------

def play_round(game: StatefulGame, rules: np.ndarray, states: np.ndarray,
               efforts: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """One round from ``states`` ``(..., d)``: rule ``rules`` ``(..., n)``, effort ``efforts`` ``(..., d)``.

    Returns the step's ``info`` (``rule``, ``state`` before the round, ``effort``, ``features`` ``o_t``, ``score``
    ``y_t = theta_t . o_t``) and the states after the round."""
    features = observe(game, states, efforts)
    info = {"rule": rules, "state": states, "effort": efforts, "features": features, "score": row_dot(rules, features)}
    return info, next_state(game, states, efforts)


class PrincipalState(NamedTuple):
    """Episodes of :class:`~stratgym.envs.stateful.StatefulPrincipalEnv`, batch shape ``(...)``: rounds played
    ``(...)``, agent states ``(..., d)``, and what the principal saw last: features and rule ``(..., n)`` (0 before
    round 1)."""

    rounds: np.ndarray
    states: np.ndarray
    features: np.ndarray
    rules: np.ndarray


def principal_start(game: StatefulGame, batch: tuple[int, ...] = ()) -> PrincipalState:
    """New episodes of the principal env, batch shape ``batch``: round 0, the initial state, nothing seen yet."""
    n = game.n_features
    if not batch:
        return PrincipalState(0, game.initial_state.copy(), np.zeros(n), np.zeros(n))
    return PrincipalState(np.zeros(batch, dtype=np.int64), np.tile(game.initial_state, batch + (1,)),
                          np.zeros(batch + (n,)), np.zeros(batch + (n,)))


def principal_step(game: StatefulGame, episodes: PrincipalState, rules: np.ndarray,
                   efforts: np.ndarray) -> tuple[PrincipalState, np.ndarray, dict[str, np.ndarray]]:
    """One round of the principal env: ``(new episodes, rewards lambda . e_t, info)`` for the rules published and
    the agent's efforts."""
    info, states = play_round(game, rules, episodes.states, efforts)
    after = PrincipalState(episodes.rounds + 1, states, info["features"], rules)
    return after, row_dot(efforts, game.effort_value), info


def principal_observation(game: StatefulGame, feature_scale: np.ndarray, episodes: PrincipalState) -> np.ndarray:
    """Observations ``(..., 1 + 2n)`` float32: rounds played ``t / T``, last features ``o / feature_bounds``, last rule."""
    n = episodes.rules.shape[-1]
    obs = np.empty(episodes.rules.shape[:-1] + (1 + 2 * n,), dtype=np.float32)
    obs[..., 0] = episodes.rounds / game.horizon
    obs[..., 1:1 + n] = episodes.features * feature_scale  # float64 products, rounded once (faster than out= here)
    obs[..., 1 + n:] = episodes.rules
    return obs


# ---------------------------------------------------------------------------------------------
# The agent's side
# ---------------------------------------------------------------------------------------------

class AgentState(NamedTuple):
    """Episodes of :class:`~stratgym.envs.stateful.StatefulAgentEnv`, batch shape ``(...)``: rounds played ``(...)``,
    agent states ``(..., d)``, the plans faced ``(..., T, n)`` and their normalized marginal values per round
    ``(..., T + 1, d)`` (:meth:`AgentObservations.values`; the last row, after the game, 0)."""

    rounds: np.ndarray
    states: np.ndarray
    plans: np.ndarray
    values: np.ndarray


class AgentObservations:
    """The observations of :class:`~stratgym.envs.stateful.StatefulAgentEnv` for one game, its normalizing bounds
    computed once.

    ``values(plans)`` are the marginal values ``c_t / C`` a plan gives each round (computed once per episode);
    ``parts(values, plans, rounds)`` is everything observed at ``rounds`` except the state, and
    ``observe(parts, states)`` adds the states. All take batches; ``round_parts(plans)`` is ``parts`` at every
    round ``0..T`` at once (what a scalar env computes once per episode).
    """

    def __init__(self, game: StatefulGame):
        T, n, d = game.horizon, game.n_features, game.n_efforts
        self.game = game
        self._state_scale = reciprocal_scale(state_bounds(game).max(axis=0))
        # Marginal values are linear in the plan: one precomputed matrix maps theta (T n,) to c / C (T d,).
        self._value_map = (marginal_value_operator(game).reshape(T * d, T * n)
                           * float(reciprocal_scale(marginal_value_bound(game)))).T.copy()
        # [t, (u, i)]: 1 while round u is not played before round t, so rows already played read 0.
        self._unplayed = np.repeat(np.arange(T + 1)[:, None] <= np.arange(T)[None, :], n, axis=1).astype(np.float64)
        self._times = np.arange(T + 1) / T
        # Every round's observation before the values, the plan and the state are written in: the times, zeros.
        self._template = np.zeros((T + 1, 1 + 2 * d + T * n), dtype=np.float32)
        self._template[:, 0] = self._times
        self._unplayed32 = self._unplayed.astype(np.float32)
        self._sizes = T, n, d  # read on every call
        self._tiles: dict = {}  # the state scale repeated over a batch's rows (repeated_rows)

    def values(self, plans: np.ndarray) -> np.ndarray:
        """Normalized marginal values ``c_t / C`` ``(k, T + 1, d)`` of plans ``(k, T, n)``, 0 after the last round."""
        T, n, d = self._sizes
        flat = plans.reshape(-1, T * n)
        values = np.zeros((len(plans), T + 1, d))
        # One plan (a scalar env's reset): the product matmul_rows makes, by ndarray.dot (the same bits as @, at half
        # its call overhead), without the blocking arithmetic.
        values[:, :T] = (flat.dot(self._value_map) if len(flat) == 1 else matmul_rows(flat, self._value_map)).reshape(-1, T, d)
        return values

    def parts(self, values: np.ndarray, plans: np.ndarray, rounds=None) -> np.ndarray:
        """Everything observed at ``rounds`` ``(...)`` except the state (0 there): ``(..., obs_dim)`` float32, from this
        round's ``values`` ``(..., d)`` and the plans ``(..., T n)`` (flat), all computed in float64 and rounded once.
        ``rounds=None``: every round ``0..T``, on a last axis but one of length ``T + 1`` (``values`` ``(..., T + 1, d)``,
        ``plans`` ``(..., 1, T n)``)."""
        T, n, d = self._sizes
        if rounds is None:  # every round: the template (times, zero states), then the values and the plans
            obs = np.empty(values.shape[:-1] + self._template.shape[1:], dtype=np.float32)
            obs[...] = self._template
            obs[..., 1 + d:1 + 2 * d] = values
            # A 0/1 mask multiplies the plans exactly, so masking them in float32 gives the float64 product rounded
            # once, without casting the product.
            np.multiply(plans.astype(np.float32), self._unplayed32, out=obs[..., 1 + 2 * d:])
            return obs
        t = common_round(rounds)
        unplayed = None if t is not None else self._unplayed.take(rounds, axis=0)
        obs = np.empty(np.shape(rounds) + (1 + 2 * d + plans.shape[-1],), dtype=np.float32)
        obs[..., 0] = np.divide(rounds, T)
        obs[..., 1:1 + d] = 0.0
        obs[..., 1 + d:1 + 2 * d] = values
        if t is None:
            np.multiply(plans, unplayed, out=obs[..., 1 + 2 * d:], casting="unsafe")
        else:  # every episode at round t: zeros for the rows played, then the plan (a copy, not a product)
            played = 1 + 2 * d + t * n
            obs[..., 1 + 2 * d:played] = 0.0
            obs[..., played:] = plans[..., played - 1 - 2 * d:]
        return obs

    def round_parts(self, plans: np.ndarray, values: np.ndarray | None = None) -> np.ndarray:
        """:meth:`parts` at every round: ``(k, T + 1, obs_dim)`` float32 for plans ``(k, T, n)`` (``values``: their
        :meth:`values`, if already known)."""
        values = self.values(plans) if values is None else values
        return self.parts(values, plans.reshape(len(plans), 1, -1))

    def observe(self, parts: np.ndarray, states: np.ndarray, copy: bool = True) -> np.ndarray:
        """Observations ``(..., obs_dim)`` from parts ``(..., obs_dim)`` (written into unless ``copy``) and states
        ``(..., d)``."""
        obs = parts.copy() if copy else parts
        d = self._sizes[2]
        # float64 products rounded once into the float32 columns: for one state the product assigned (cheaper than
        # out= for d entries), for a batch written out (a product of same-shape arrays: repeated_rows)
        if states.ndim == 1:
            obs[..., 1:1 + d] = states * self._state_scale
        else:
            np.multiply(states, repeated_rows(self._tiles, "state", self._state_scale, len(states)),
                        out=obs[..., 1:1 + d], casting="unsafe")
        return obs

    def at(self, plan: np.ndarray, state, round_index: int) -> np.ndarray:
        """The observation at ``round_index`` (``0..T``) in ``state`` ``(d,)`` facing a checked ``plan`` ``(T, n)``."""
        T = self.game.horizon
        if isinstance(round_index, (bool, np.bool_)) or not 0 <= round_index <= T:
            raise ValueError(f"round_index must be an integer in [0, {T}], got {round_index!r}")
        state = as_real_array(state, "state", shape=(self.game.n_efforts,))
        return self.observe(self.round_parts(plan[None])[0, int(round_index)], state)

    def of(self, episodes: AgentState) -> np.ndarray:
        """The observations ``(k, obs_dim)`` of a batch of episodes at their current rounds."""
        k = len(episodes.rounds)
        parts = self.parts(_at_round(episodes.values, episodes.rounds), episodes.plans.reshape(k, -1), episodes.rounds)
        return self.observe(parts, episodes.states, copy=False)


def _at_round(per_round: np.ndarray, rounds: np.ndarray) -> np.ndarray:
    """Entry ``rounds`` of ``per_round`` ``(T', ...)`` for one episode, or row by row ``(k, T', ...)`` for a batch
    (one ``take`` on the flattened rows: a fraction of the cost of indexing with two arrays); a copy."""
    if isinstance(rounds, (int, np.integer)):
        return per_round[rounds].copy()
    t = common_round(rounds)
    if t is not None:
        return per_round[:, t].copy()
    k, length = per_round.shape[:2]
    flat = per_round.reshape((k * length,) + per_round.shape[2:])
    return flat.take(np.arange(0, k * length, length) + rounds, axis=0)


def checked_plan(game: StatefulGame, plan, name: str) -> np.ndarray:
    """``plan`` as a ``(T, n)`` float64 array with rows exactly on the simplex (``ValueError`` naming ``name``)."""
    return clip_rows(check_assessment_policy(game, plan, name=name, batch=False))


def as_principal(game: StatefulGame, principal) -> np.ndarray | str | PrincipalPlan:
    """The agent env's ``principal`` argument checked: a read-only plan ``(T, n)``, ``"random"`` or a callable."""
    if isinstance(principal, str):
        if principal != "random":
            raise ValueError(f"principal must be a (T, n) = ({game.horizon}, {game.n_features}) plan, 'random' or a "
                             f"callable plan(rng) -> (T, n), got {principal!r}")
        return principal
    if callable(principal):
        return principal
    plan = checked_plan(game, principal, "principal")
    plan.setflags(write=False)
    return plan


def draw_plans(game: StatefulGame, principal, rng: np.random.Generator, count: int) -> np.ndarray:
    """``count`` plans ``(count, T, n)`` of a checked ``principal`` (:func:`as_principal`) for new episodes, drawn
    from ``rng`` one episode after the other (``"random"``: Dirichlet(1) rows; a callable is called once each)."""
    T, n = game.horizon, game.n_features
    if isinstance(principal, np.ndarray):
        return np.broadcast_to(principal, (count, T, n)).copy()
    if isinstance(principal, str):
        # Normalized standard exponentials are Dirichlet(1) rows, drawn as numpy's own dirichlet draws them
        # (for n < 8 the very same numbers from the same stream) without its per-call argument checks.
        draws = rng.standard_exponential((count, T, n))
        return draws * (1.0 / row_sums(draws))[..., None]
    return np.array([checked_plan(game, principal(rng), "principal(rng)") for _ in range(count)]).reshape(count, T, n)


def agent_start(game: StatefulGame, observer: AgentObservations, plans: np.ndarray) -> AgentState:
    """New episodes of the agent env facing ``plans`` ``(k, T, n)``: round 0 from the initial state."""
    k = len(plans)
    return AgentState(np.zeros(k, dtype=np.int64), np.tile(game.initial_state, (k, 1)), plans, observer.values(plans))


def agent_step(game: StatefulGame, episodes: AgentState, efforts: np.ndarray) -> tuple[AgentState, np.ndarray, dict]:
    """One round of the agent env: ``(new episodes, rewards y_t, info)`` for the agent's efforts ``(..., d)``."""
    info, states = play_round(game, _at_round(episodes.plans, episodes.rounds), episodes.states, efforts)
    return AgentState(episodes.rounds + 1, states, episodes.plans, episodes.values), info["score"], info


def agent_observation(game: StatefulGame, plan, state, round_index: int) -> np.ndarray:
    """The observation ``(1 + 2d + T n,)`` float32 that :class:`~stratgym.envs.stateful.StatefulAgentEnv` shows at
    0-based ``round_index`` (``0..T``) in ``state`` ``(d,)`` facing ``plan`` ``(T, n)`` (rows on the simplex, used
    as given): how a trained agent is queried outside the env.

    The env builds its own observations with the same code; this function computes the game's bounds
    on every call. ``ValueError`` for a plan off the simplex, a wrong shape or an out-of-range round.
    """
    game = as_game(game)
    plan = check_assessment_policy(game, plan, name="plan", batch=False)
    return AgentObservations(game).at(plan, state, round_index)
