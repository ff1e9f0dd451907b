"""The game's dynamics: state transitions, observations and the rollout of a policy pair (one or a batch)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stratgym.games.linalg import matmul_rows
from stratgym.games.stateful.model import CONVERSIONS, StatefulGame, derived, repeated_rows, row_tiles
from stratgym.games.stateful.policies import checked_policies

# ---------------------------------------------------------------------------------------------
# Dynamics
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Trajectory:
    """A played game. Leading batch axes ``...`` follow the policies given to :func:`rollout`.

    Attributes:
        states: ``(..., T + 1, d)``: ``s_1 .. s_{T+1}``.
        features: ``(..., T, n)``: ``o_t``.
        scores: ``(..., T)``: ``y_t``.
        agent_utility: ``(...)``: ``sum_t gamma^(t-1) y_t``.
        principal_utility: ``(...)``: ``sum_t lambda . e_t``.
    """

    states: np.ndarray
    features: np.ndarray
    scores: np.ndarray
    agent_utility: np.ndarray
    principal_utility: np.ndarray


def next_state(game: StatefulGame, state: np.ndarray, effort: np.ndarray) -> np.ndarray:
    """``s_{t+1} = p * s_t + omega * e_t``; shapes ``(..., d)``."""
    if getattr(state, "ndim", 0) == 2 and getattr(effort, "shape", None) == state.shape:  # a batch: see repeated_rows
        tiles, k = derived(game, row_tiles), len(state)
        return (repeated_rows(tiles, "persistence", game.persistence, k) * state
                + repeated_rows(tiles, "retention", game.retention, k) * effort)
    return game.persistence * state + game.retention * effort


def observe(game: StatefulGame, state: np.ndarray, effort: np.ndarray) -> np.ndarray:
    """Observable features ``g(W (s_t + e_t))``, shape ``(..., n)``."""
    latent = state + effort
    # One vector: W.dot(x), the product of x @ W.T (the same bits) at half its call overhead.
    latent = game.conversion_matrix.dot(latent) if latent.ndim == 1 else matmul_rows(latent, game.conversion_matrix.T)
    return CONVERSIONS[game.conversion][0](latent)


def rollout(game: StatefulGame, theta, effort, initial_state=None) -> Trajectory:
    """Play assessment policy ``theta`` ``(..., T, n)`` against effort policy ``effort`` ``(..., T, d)``.

    Leading batch axes broadcast against each other (an empty batch gives empty results). ``initial_state``
    ``(..., d)`` overrides ``s_1``. ``ValueError`` naming the argument for bad input.
    """
    return play(game, *checked_policies(game, theta, effort, initial_state))


def play(game: StatefulGame, theta: np.ndarray, effort: np.ndarray, initial_state=None) -> Trajectory:
    """:func:`rollout` of checked policies."""
    return Trajectory(*rollout_arrays(game, theta, effort, initial_state))


#: Effort policies a rollout memo (``rollout_arrays(memo=...)``) holds before it is emptied.
ROLLOUT_MEMO_SIZE = 4096


def rollout_arrays(game: StatefulGame, theta: np.ndarray, effort: np.ndarray, initial_state=None,
                   memo: dict | None = None) -> tuple:
    """:func:`rollout` of policies already checked (or valid by construction, as an env's), without the checks:
    ``(states, features, scores, agent_utility, principal_utility)`` as :class:`Trajectory`'s fields (envs read them
    without building the dataclass). Leading batch axes as in :func:`rollout`.

    Everything but ``g`` and the scores is linear in the effort and the initial state, so one product with
    the game's cached rollout map replaces the round-by-round loop.

    ``memo`` (used for one policy pair from ``s_1`` only): a dict the caller keeps for this game, where what depends on
    the effort alone (states, features, ``U_P``) is kept under the effort's bytes (at most ``ROLLOUT_MEMO_SIZE``
    policies, emptied when full) and returned as fresh copies. For callers that replay few effort policies: the
    game's own agents of a linear game play budget vertices, at most ``(d + 1)^T`` policies. The same numbers as
    without it.
    """
    maps = derived(game, rollout_map)
    effect, start, default_start, values, discounts, ones = maps
    if theta.ndim == 2 and effort.ndim == 2 and (initial_state is None or np.ndim(initial_state) == 1):
        if memo is None or initial_state is not None:
            states, features, principal_utility = _effort_parts(game, maps, effort, initial_state)
        else:
            key = effort.tobytes()
            known = memo.get(key)
            if known is None:
                if len(memo) >= ROLLOUT_MEMO_SIZE:
                    memo.clear()
                known = memo[key] = _effort_parts(game, maps, effort, None)
            states, features, principal_utility = known[0].copy(), known[1].copy(), known[2]
        scores = (theta * features).dot(ones)  # row sums: a third of np.sum's call overhead
        return states, features, scores, scores.dot(discounts), principal_utility
    # A batch: the policies and the initial states broadcast against each other.
    T, n, d = game.horizon, game.n_features, game.n_efforts
    batch = np.broadcast_shapes(theta.shape[:-2], effort.shape[:-2],
                                () if initial_state is None else np.shape(initial_state)[:-1])
    flat = np.broadcast_to(effort, batch + (T, d)).reshape(batch + (T * d,))
    # A batch of several rows multiplies by E^T laid out C-contiguous, which BLAS reads faster than the transposed
    # view, with the same numbers (a single row keeps the view: BLAS gives it other last bits then).
    linear = matmul_rows(flat, derived(game, _transposed_effect) if flat.size > flat.shape[-1] else effect.T)
    if initial_state is None:  # a batch of rows adds S s_1 repeated over its rows (see repeated_rows)
        linear += default_start if linear.ndim != 2 else repeated_rows(derived(game, row_tiles), "rollout start",
                                                                        default_start, len(linear))
    else:
        linear = linear + np.asarray(initial_state, dtype=np.float64) @ start.T
    features = CONVERSIONS[game.conversion][0](linear[..., (T + 1) * d:].reshape(batch + (T, n)))
    scores = matmul_rows(theta * features, ones)
    return (linear[..., :(T + 1) * d].reshape(batch + (T + 1, d)), features, scores, matmul_rows(scores, discounts),
            matmul_rows(flat, values))


def _effort_parts(game: StatefulGame, maps: tuple, effort: np.ndarray, initial_state) -> tuple:
    """What one rollout of :func:`rollout_arrays` gets from the effort policy ``(T, d)`` alone (and the initial state
    ``(d,)``, ``None``: ``s_1``), with the game's :func:`rollout_map` ``maps``: ``(states, features, principal_utility)``.
    ``ndarray.dot``, the product of @ at a third of its call overhead, and shapes read off the arguments."""
    effect, start, default_start, values = maps[:4]
    T, d = effort.shape
    flat = effort.reshape(T * d)
    linear = effect.dot(flat)
    if initial_state is None:
        linear += default_start
    else:
        linear = linear + np.asarray(initial_state, dtype=np.float64) @ start.T
    features = CONVERSIONS[game.conversion][0](linear[(T + 1) * d:].reshape(T, -1))
    return linear[:(T + 1) * d].reshape(T + 1, d), features, flat.dot(values)


def _transposed_effect(game: StatefulGame) -> np.ndarray:
    """``E^T`` ``(T d, (T + 1) d + T n)`` of :func:`rollout_map`, C-contiguous (cache it with :func:`derived`)."""
    transposed = np.ascontiguousarray(derived(game, rollout_map)[0].T)
    transposed.setflags(write=False)
    return transposed


def rollout_map(game: StatefulGame) -> tuple[np.ndarray, ...]:
    """What :func:`rollout_arrays` needs of the game (cache it with :func:`derived`): ``(E, S, S s_1, l, g, 1)``.

    ``E`` ``((T + 1) d + T n, T d)`` and ``S`` ``((T + 1) d + T n, d)`` map the flat effort policy and the
    initial state to the states ``s_1 .. s_{T+1}`` followed by the latent features ``W (s_t + e_t)``
    (:func:`accumulated_effort`'s kernel, with ``W`` applied); ``l`` ``(T d,)`` is ``lambda`` per round,
    ``g`` ``(T,)`` the discounts and ``1`` ``(n,)`` ones. Memory ``O(T^2 d (d + n))``.
    """
    T, n, d = game.horizon, game.n_features, game.n_efforts
    W = game.conversion_matrix
    to_state, decay = _state_kernel(game)
    to_stock = _transfer_kernel(game)[0]
    identity = np.eye(d)
    effect = np.concatenate([np.einsum("tuj,jk->tjuk", to_state, identity).reshape((T + 1) * d, T * d),
                             np.einsum("ij,tuj->tiuj", W, to_stock).reshape(T * n, T * d)])
    start = np.concatenate([np.einsum("tj,jk->tjk", decay, identity).reshape((T + 1) * d, d),
                            np.einsum("ij,tj->tij", W, decay[:T]).reshape(T * n, d)])
    arrays = (effect, start, start @ game.initial_state, np.tile(game.effort_value, T), discount_factors(game),
              np.ones(n))
    for array in arrays:
        array.setflags(write=False)
    return arrays


def accumulated_effort(game: StatefulGame, effort: np.ndarray, initial_state=None) -> np.ndarray:
    """``s_t + e_t`` for every round, shape ``(..., T, d)``: what the features convert.

    The state is linear in past effort, ``s_t = p^(t-1) s_1 + sum_{u<t} omega p^(t-1-u) e_u``, so one
    contraction with a per-game kernel replaces the round-by-round loop.
    """
    transfer, decay = derived(game, _transfer_kernel)
    state = game.initial_state if initial_state is None else np.asarray(initial_state, dtype=np.float64)
    return np.einsum("tuj,...uj->...tj", transfer, effort) + decay * state[..., None, :]


def _state_kernel(game: StatefulGame) -> tuple[np.ndarray, np.ndarray]:
    """``(S, P)`` with ``s_t = P[t] s_1 + sum_u S[t, u] e_u`` (0-based ``t = 0..T``): ``S[t, u] = omega p^(t-1-u)``
    if ``u < t``, else 0 (shape ``(T + 1, T, d)``), and ``P[t] = p^t`` (shape ``(T + 1, d)``)."""
    T = game.horizon
    lags = np.arange(T + 1)[:, None] - np.arange(T)[None, :] - 1  # t - 1 - u
    powers = game.persistence ** np.maximum(lags, 0)[..., None]
    return np.where((lags >= 0)[..., None], game.retention * powers, 0.0), game.persistence ** np.arange(T + 1)[:, None]


def _transfer_kernel(game: StatefulGame) -> tuple[np.ndarray, np.ndarray]:
    """``(K, P)`` with ``K[t, u] = 1`` if ``u = t``, ``omega p^(t-1-u)`` if ``u < t``, else 0 (shape ``(T, T, d)``),
    and ``P[t] = p^t`` (shape ``(T, d)``) (cache it with :func:`derived`)."""
    T = game.horizon
    to_state, decay = _state_kernel(game)
    return to_state[:T] + np.eye(T)[..., None], decay[:T]


def discount_factors(game: StatefulGame) -> np.ndarray:
    """``gamma^(t-1)`` for ``t = 1..T``, shape ``(T,)``."""
    return game.discount ** np.arange(game.horizon)
