"""The Box-to-simplex action map: the envs' fast path (plain Python for small actions) must give the same
bits, checks and errors as the reference composition ``box_to_simplex(check_action(...))``; likewise
``discrete_action`` and ``int(check_action(...))`` on a ``Discrete`` space."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gymnasium import spaces

from stratgym.envs.spaces import (ACTION_TOL, PYTHON_CHECK_SIZE, box_to_simplex, check_action, discrete_action,
                                   simplex_action, simplex_box, simplex_to_box)

# Shapes on both sides of every threshold: single vectors shorter than 8 (mapped in Python), a longer
# vector, and tables at most / more than PYTHON_CHECK_SIZE entries (checked in Python / by numpy).
SHAPES = [(2,), (4,), (7,), (9,), (3, 4), (4, 8), (16, 4), (1024, 3), (64, 16, 4)]  # the last two: vector-env batches
assert any(np.prod(shape) > PYTHON_CHECK_SIZE for shape in SHAPES)
# Entries at and beyond the bounds: exactly +-1 (a vertex), within atol (clipped), beyond atol (rejected).
EDGES = [-1.0, 1.0, 1.0 + ACTION_TOL / 2, -1.0 - ACTION_TOL / 2, 1.0 + 4 * ACTION_TOL, -1.0 - 4 * ACTION_TOL,
         np.nan, np.inf, -np.inf]


def reference(space, action):
    """What the envs did before the fast path: the result, or the error message."""
    try:
        return box_to_simplex(check_action(space, action))
    except ValueError as error:
        return str(error)


def fast(space, action):
    try:
        return simplex_action(space, action)
    except ValueError as error:
        return str(error)


@settings(max_examples=150, deadline=None)
@given(shape=st.sampled_from(SHAPES), seed=st.integers(0, 2**32 - 1), n_edges=st.integers(0, 3),
       dtype=st.sampled_from([np.float32, np.float64]))
def test_simplex_action_matches_the_reference_bit_for_bit(shape, seed, n_edges, dtype):
    rng = np.random.default_rng(seed)
    space = simplex_box(*shape)
    action = rng.uniform(-1.0, 1.0, shape)
    flat = action.reshape(-1)
    flat[rng.integers(0, flat.size, n_edges)] = rng.choice(EDGES, n_edges)
    action = action.astype(dtype)
    expected, got = reference(space, action), fast(space, action)
    if isinstance(expected, str):
        assert got == expected
    else:
        assert got.dtype == np.float64 and got.shape == shape
        np.testing.assert_array_equal(got, expected)
        np.testing.assert_allclose(got.sum(axis=-1), 1.0, rtol=0, atol=1e-12)


@pytest.mark.parametrize("shape", SHAPES)
def test_every_vertex_and_the_all_minus_one_row_are_reached(shape):
    space = simplex_box(*shape)
    k = shape[-1]
    for j in range(k):
        vertex = np.zeros(shape)
        vertex[..., j] = 1.0
        np.testing.assert_array_equal(simplex_action(space, simplex_to_box(vertex)), vertex)
    np.testing.assert_array_equal(simplex_action(space, -np.ones(shape, dtype=np.float32)), np.full(shape, 1.0 / k))


@pytest.mark.parametrize("action, message", [
    (np.zeros(3), r"shape \(4,\)"),
    (np.zeros((1, 4)), r"shape \(4,\)"),
    ([0.0, 0.0, np.nan, 0.0], "finite"),
    ([0.0, 2.0, 0.0, 0.0], r"lie in \[-1.0, 1.0\]"),
    ([None, 0.0, 0.0, 0.0], "finite"),  # None converts to NaN
    ([object(), 0.0, 0.0, 0.0], "real numbers"),
    (["a", "b", "c", "d"], "real numbers"),
])
def test_simplex_action_errors_name_the_action(action, message):
    with pytest.raises(ValueError, match=message):
        simplex_action(simplex_box(4), action, name="rule")
    with pytest.raises(ValueError, match="^rule"):
        simplex_action(simplex_box(4), action, name="rule")


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), k=st.integers(2, 7))
def test_python_and_numpy_maps_agree_on_single_rows(seed, k):
    """A short single vector is mapped in Python, the same rows in a batch by numpy: the same bits."""
    rows = np.random.default_rng(seed).uniform(-1.0, 1.0, (5, k))
    rows[0] = -1.0  # the uniform fallback
    np.testing.assert_array_equal(np.array([box_to_simplex(row) for row in rows]), box_to_simplex(rows))


@pytest.mark.parametrize("point", [np.zeros(3), [0.5, -0.1, 0.6], [np.inf, 0.0, 1.0], [[0.5, 0.5, 0.0], [0.0, 0.0, 0.0]]])
def test_simplex_to_box_rejects_what_no_action_maps_to(point):
    with pytest.raises(ValueError, match="point"):
        simplex_to_box(point)


@pytest.mark.parametrize("space", [spaces.Discrete(4), spaces.Discrete(3, start=-1)])
@pytest.mark.parametrize("action", [0, 2, 3, 4, -1, -2, 2**70, -2**70, np.int64(1), np.int32(3), np.uint8(2),
                                    np.uint64(2**64 - 1), np.int8(-1), np.array(2), np.array([1]), np.array([1, 2]),
                                    True, np.bool_(False), 1.0, np.float64(2), "a", None])
def test_discrete_action_is_int_of_check_action(space, action):
    """The plain-Python path for integer scalars accepts, converts and rejects exactly as ``check_action``."""
    def outcome(check):
        try:
            value = check()
        except (ValueError, OverflowError) as error:
            return type(error), str(error)
        assert type(value) is int
        return value

    assert outcome(lambda: discrete_action(space, action, "column")) \
        == outcome(lambda: int(check_action(space, action, "column")))
