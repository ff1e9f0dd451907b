"""Shared argument checks (stratgym.games.validation): text and single booleans are not numbers, boolean
arrays are, and every rejection is a ValueError naming the parameter."""

from __future__ import annotations

import numpy as np
import pytest

from stratgym.games.validation import as_bool, as_float_array, as_nonnegative_float, as_real_array


@pytest.mark.parametrize("value", ["0.9", b"1", np.array(["1", "2"]), np.array(["1", 2.0], dtype=object),
                                   [object(), 1.0], [1.0, [2.0, 3.0]]])
def test_text_objects_and_ragged_input_are_rejected_naming_the_parameter(value):
    with pytest.raises(ValueError, match="^weights must be"):
        as_real_array(value, "weights")
    with pytest.raises(ValueError, match="^weights must be"):
        as_float_array(value, "weights")


@pytest.mark.parametrize("value", [True, False, np.True_, np.array(False)])
def test_a_single_boolean_is_not_a_number(value):
    with pytest.raises(ValueError, match="budget must be a number, not a boolean"):
        as_real_array(value, "budget", shape=())
    with pytest.raises(ValueError, match="budget"):
        as_nonnegative_float(value, "budget")


def test_boolean_arrays_are_zero_one_numbers():
    """Masks and labels (e.g. a principal utility returning booleans) keep working."""
    np.testing.assert_array_equal(as_real_array([True, False, True], "labels"), [1.0, 0.0, 1.0])
    np.testing.assert_array_equal(as_real_array(np.array([[True], [False]]), "mask", shape=(2, 1)), [[1.0], [0.0]])


def test_float_arrays_pass_through_without_a_copy_and_real_arrays_are_read_only_copies():
    array = np.array([1.0, 2.0])
    assert as_float_array(array, "x") is array
    checked = as_real_array(array, "x")
    assert checked is not array and not checked.flags.writeable and array.flags.writeable
    assert as_nonnegative_float(np.float32(2.5), "x") == 2.5 and as_nonnegative_float(3, "x") == 3.0


@pytest.mark.parametrize("value", ["no", 0, 1, None, np.array([True])])
def test_flags_must_be_booleans(value):
    with pytest.raises(ValueError, match="constant must be True or False"):
        as_bool(value, "constant")


def test_booleans_are_flags():
    assert as_bool(True, "flag") is True and as_bool(np.False_, "flag") is False
