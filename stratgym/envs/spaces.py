"""Action spaces and checks shared by the environments.

Probability-vector actions (assessment rules, effort profiles, signaling schemes) come from a Box
``[-1, 1]^k`` (the range SB3 expects) through :func:`box_to_simplex`:

    w = (a + 1) / 2                        (each weight in [0, 1])
    x = w / sum(w)   if sum(w) > 0,   else the uniform vector.

Every point of the simplex is reached, vertices included (``a = 2 e_j - 1`` gives ``e_j``), and the
map is invariant to scaling ``w``, so a policy can express any rule without saturating.

Envs check and map one small action per step, where numpy's per-call overhead dominates, so actions
of at most ``PYTHON_CHECK_SIZE`` entries are checked in plain Python, and single vectors shorter than 8
are also mapped in plain Python (numpy sums such rows sequentially, as Python does, so both paths
give the same bits). Larger actions are checked by their largest magnitude; a vector env's batch of at least
``BATCH_ENTRIES`` entries by its smallest and largest entry (no temporary array), and has its short rows summed
one column at a time (the same bits again). A ``Discrete`` action that is an integer scalar in range is read in
plain Python too (:func:`discrete_action`).
"""

from __future__ import annotations

import functools

import numpy as np
from gymnasium import spaces

#: Tolerance (action units) by which Box actions may exceed their bounds (float32 round-off); they are then clipped.
ACTION_TOL = 1e-6
#: Largest action (in entries) checked in plain Python (about the measured break-even); see the module docstring.
PYTHON_CHECK_SIZE = 32
#: Arrays of at least this many entries are a batch (a vector env's): their short rows are summed one column at a
#: time, which numpy does many times faster than reducing each short row.
BATCH_ENTRIES = 2048
#: The dtypes whose arrays :func:`simplex_action` reads without converting them to float64 first.
_FLOAT_DTYPES = frozenset({np.dtype(np.float32), np.dtype(np.float64)})
#: The scalar types :func:`discrete_action` reads without numpy: Python's ``int`` (not ``bool``) and numpy's integers.
_INTEGER_SCALARS = frozenset({int} | {np.dtype(code).type for code in np.typecodes["AllInteger"]})


def simplex_box(*shape: int) -> spaces.Box:
    """The Box ``[-1, 1]^shape`` (float32) whose last axis is mapped onto a simplex by :func:`box_to_simplex`."""
    return spaces.Box(low=-1.0, high=1.0, shape=shape, dtype=np.float32)


def box_to_simplex(action: np.ndarray) -> np.ndarray:
    """Map ``action`` ``(..., k)`` in ``[-1, 1]`` onto the probability simplex along the last axis (float64)."""
    array = np.asarray(action, dtype=np.float64)
    if _maps_in_python(array):
        return _vector_to_simplex(array.tolist())
    return _normalized((array + 1.0) / 2.0)


def _maps_in_python(array: np.ndarray) -> bool:
    """Whether ``array`` is mapped in plain Python: a single vector shorter than 8 (see the module docstring)."""
    return array.ndim == 1 and 0 < array.shape[0] < 8


def _vector_to_simplex(values: list[float]) -> np.ndarray:
    """:func:`box_to_simplex` of a short vector given as a list, in plain Python (the same arithmetic, bit for bit)."""
    weights = [value + 1.0 for value in values]  # box_to_simplex's halving changes no quotient (exact in binary)
    total = sum(weights)
    return np.array([weight / total for weight in weights] if total > 0 else [1.0 / len(weights)] * len(weights))


def _normalized(weights: np.ndarray, positive: bool = False) -> np.ndarray:
    """Rows of ``weights`` divided by their totals; uniform where a total is not positive (``positive``: none is)."""
    by_columns = _by_columns(weights)  # decided once for the sums and the division
    totals = _sums(weights, True, by_columns)
    if positive or totals.min() > 0:  # the usual case; the uniform fallback is only for rows of all -1
        if by_columns:  # see row_sums: one long division per column, not one short one per row
            for j in range(weights.shape[-1]):
                np.divide(weights[..., j], totals[..., 0], out=weights[..., j])
            return weights
        return np.divide(weights, totals, out=weights)
    uniform = np.full_like(weights, 1.0 / weights.shape[-1])
    return np.where(totals > 0, weights / np.where(totals > 0, totals, 1.0), uniform)


def row_sums(array: np.ndarray, keepdims: bool = False) -> np.ndarray:
    """Sums over the last axis of ``array`` ``(..., k)`` (``(...)``, or ``(..., 1)`` with ``keepdims``), with
    ``np.add.reduce``'s bits. A batch of short rows (:func:`_by_columns`) is added one column at a time: numpy adds
    fewer than 8 entries in order too, and reducing thousands of short rows costs it many times more than a few
    passes over the batch."""
    return _sums(array, keepdims, _by_columns(array))


def _sums(array: np.ndarray, keepdims: bool, by_columns: bool) -> np.ndarray:
    """:func:`row_sums`, told whether ``array`` is added one column at a time (:func:`_by_columns`)."""
    if not by_columns:
        return np.add.reduce(array, axis=-1, keepdims=keepdims)
    column = (lambda j: array[..., j:j + 1]) if keepdims else (lambda j: array[..., j])
    if array.shape[-1] == 1:
        return column(0).copy()
    totals = column(0) + column(1)
    for j in range(2, array.shape[-1]):
        totals += column(j)
    return totals


def _by_columns(weights: np.ndarray) -> bool:
    """Whether ``weights`` is a batch of short rows, added and divided one column at a time (:func:`row_sums`)."""
    # The size test first: every scalar env's action fails it.
    return weights.size >= BATCH_ENTRIES and weights.ndim > 1 and weights.shape[-1] < 8


@functools.lru_cache(maxsize=None)
def _simplex_box_limit(atol: float) -> float:
    """The threshold ``check_action`` applies to a :func:`simplex_box`: ``|action| <= 1 + atol`` (in float32, like
    its bounds; the box is symmetric, and so is rounding, so one threshold serves both sides)."""
    return float((simplex_box(1).high + atol)[0])


def simplex_action(space: spaces.Box, action, name: str = "action", atol: float = ACTION_TOL) -> np.ndarray:
    """``box_to_simplex(check_action(space, action, name, atol))`` for ``space`` made by :func:`simplex_box`.

    The same checks, errors, clipping and result, with fewer calls: a float32 or float64 array is read as it is
    (float32 converts to float64 exactly, so its values and the float64 map are those of the converted array,
    without the conversion); small actions are checked in plain Python, larger ones by numpy reductions.
    """
    array = action if type(action) is np.ndarray and action.dtype in _FLOAT_DTYPES else _real_array(action, name)
    if array.shape == space.shape:
        if array.size <= PYTHON_CHECK_SIZE:
            values = array.ravel().tolist()
            total = sum(values)  # NaN or inf if any entry is
            magnitude = max(-min(values), max(values)) if total - total == 0.0 else np.nan
        elif array.size < BATCH_ENTRIES:
            magnitude = float(np.maximum.reduce(np.abs(array), axis=None))  # NaN if any entry is
        else:  # a batch: two reductions, without the temporary of abs (NaN if any entry is)
            magnitude = max(-float(array.min()), float(array.max()))
        if magnitude <= _simplex_box_limit(atol):
            if magnitude > 1.0:  # round-off within atol: clip like check_action
                array = np.minimum(np.maximum(array, -1.0), 1.0)
            if _maps_in_python(array):
                return _vector_to_simplex(array.tolist() if magnitude > 1.0 else values)
            # Halving every weight changes no quotient (exact in binary floating point at these magnitudes), and
            # without a -1 entry every weight, so every row total, is positive. A float32 action is converted to
            # float64 (exactly) before 1 is added: a ufunc that casts as it goes costs more than the two passes.
            if array.dtype == np.float64:
                weights = array + 1.0
            else:
                weights = array.astype(np.float64)
                weights += 1.0
            return _normalized(weights, positive=magnitude < 1.0)
    return box_to_simplex(check_action(space, array, name, atol))  # raises, saying why


def _real_array(action, name: str) -> np.ndarray:
    """``action`` as a float64 array; ``ValueError`` naming ``name`` if it holds something other than numbers."""
    try:
        return np.asarray(action, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} must be an array of real numbers, got {action!r}") from error


def simplex_to_box(point: np.ndarray) -> np.ndarray:
    """An action that :func:`box_to_simplex` maps to ``point`` ``(..., k)``: the inverse used by tests and wrappers.

    ``point`` needs entries ``>= 0`` with a positive one on the last axis (any positive scale: the map normalizes).
    """
    point = _real_array(point, "point")
    if not (np.all(np.isfinite(point)) and point.min(initial=0.0) >= 0.0 and np.all(point.max(axis=-1, initial=0.0) > 0.0)):
        raise ValueError(f"point must be finite and >= 0 with a positive entry in every row, got {point}")
    scaled = point / point.max(axis=-1, keepdims=True)
    return (2.0 * scaled - 1.0).astype(np.float32)


def discrete_action(space: spaces.Discrete, action, name: str = "action") -> int:
    """``int(check_action(space, action, name))`` for a ``Discrete`` ``space``, with the same checks and errors: an
    integer scalar in range (what a policy gives, once per step) is read in plain Python, anything else goes through
    :func:`check_action`."""
    if type(action) in _INTEGER_SCALARS:
        value = int(action)
        if space.start <= value < space.start + space.n:  # compared as numbers, even beyond int64
            return value
    return int(check_action(space, action, name))


def check_action(space: spaces.Space, action, name: str = "action", atol: float = ACTION_TOL) -> np.ndarray:
    """Return ``action`` as an array after checking it belongs to ``space``; raise ``ValueError`` saying why not.

    Box actions may exceed the bounds by ``atol`` (float32 round-off) and are then clipped.
    """
    if isinstance(space, spaces.Box):
        array = _real_array(action, name)
        if array.shape != space.shape:
            raise ValueError(f"{name} must have shape {space.shape}, got {array.shape}")
        # One vectorized test on the hot path (False for NaN too); the slow path says why.
        if not ((array >= space.low - atol) & (array <= space.high + atol)).all():
            if not np.all(np.isfinite(array)):
                raise ValueError(f"{name} must be finite, got {array}")
            raise ValueError(f"{name} must lie in [{space.low.min()}, {space.high.max()}], got {array}")
        return np.minimum(np.maximum(array, space.low), space.high)
    if isinstance(space, spaces.MultiDiscrete):  # a batch of Discrete actions (a vector env's)
        array = np.asarray(action)
        if array.shape != space.shape or not np.issubdtype(array.dtype, np.integer):
            raise ValueError(f"{name} must be integers of shape {space.shape}, got {action!r}")
        if not ((array >= space.start) & (array < space.start + space.nvec)).all():
            raise ValueError(f"{name} must lie in [{space.start.min()}, {(space.start + space.nvec).max()}), got {array}")
        return array.astype(np.int64, copy=False)
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
