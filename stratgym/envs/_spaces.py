"""Action spaces and checks shared by the environments.

Probability-vector actions (assessment rules, effort profiles, signaling schemes) come from a Box
``[-1, 1]^k`` (the range SB3 expects) through :func:`box_to_simplex`:

    w = (a + 1) / 2                        (each weight in [0, 1])
    x = w / sum(w)   if sum(w) > 0,   else the uniform vector.

Every point of the simplex is reached, vertices included (``a = 2 e_j - 1`` gives ``e_j``), and the
map is invariant to scaling ``w``, so a policy can express any rule without saturating.
"""

from __future__ import annotations

import numpy as np
from gymnasium import spaces


def simplex_box(*shape: int) -> spaces.Box:
    """The Box ``[-1, 1]^shape`` (float32) whose last axis is mapped onto a simplex by :func:`box_to_simplex`."""
    return spaces.Box(low=-1.0, high=1.0, shape=shape, dtype=np.float32)


def box_to_simplex(action: np.ndarray) -> np.ndarray:
    """Map ``action`` ``(..., k)`` in ``[-1, 1]`` onto the probability simplex along the last axis (float64)."""
    weights = (np.asarray(action, dtype=np.float64) + 1.0) / 2.0
    totals = weights.sum(axis=-1, keepdims=True)
    if totals.min() > 0:  # the usual case; the uniform fallback is only for rows of all -1
        return weights / totals
    uniform = np.full_like(weights, 1.0 / weights.shape[-1])
    return np.where(totals > 0, weights / np.where(totals > 0, totals, 1.0), uniform)


def simplex_to_box(point: np.ndarray) -> np.ndarray:
    """An action that :func:`box_to_simplex` maps to ``point`` ``(..., k)``: the inverse used by tests and wrappers."""
    point = np.asarray(point, dtype=np.float64)
    scaled = point / point.max(axis=-1, keepdims=True)
    return (2.0 * scaled - 1.0).astype(np.float32)


def check_action(space: spaces.Space, action, name: str = "action", atol: float = 1e-6) -> np.ndarray:
    """Return ``action`` as an array after checking it belongs to ``space``; raise ``ValueError`` saying why not.

    Box actions may exceed the bounds by ``atol`` (float32 round-off) and are then clipped.
    """
    if isinstance(space, spaces.Box):
        array = np.asarray(action, dtype=np.float64)
        if array.shape != space.shape:
            raise ValueError(f"{name} must have shape {space.shape}, got {array.shape}")
        # One vectorized test on the hot path (False for NaN too); the slow path says why.
        if not ((array >= space.low - atol) & (array <= space.high + atol)).all():
            if not np.all(np.isfinite(array)):
                raise ValueError(f"{name} must be finite, got {array}")
            raise ValueError(f"{name} must lie in [{space.low.min()}, {space.high.max()}], got {array}")
        return np.minimum(np.maximum(array, space.low), space.high)
    if isinstance(space, spaces.Discrete):
        array = np.asarray(action)
        if array.shape not in ((), (1,)) or not np.issubdtype(array.dtype, np.integer):
            raise ValueError(f"{name} must be an integer in [0, {space.n}), got {action!r}")
        value = int(array.reshape(()))
        if not space.contains(np.int64(value)):
            raise ValueError(f"{name} must be an integer in [{space.start}, {space.start + space.n}), got {value}")
        return np.asarray(value)
    if not space.contains(action):
        raise ValueError(f"{name} {action!r} is not in {space}")
    return np.asarray(action)
