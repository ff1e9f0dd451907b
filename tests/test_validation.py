"""Shared argument checks (stratgym.games.validation): text and single booleans are not numbers, boolean
arrays are, and every rejection is a ValueError naming the parameter; and what the parameter objects share
(stratgym.games.fields): equality by fields, sizes read off their arrays."""

from __future__ import annotations

import numpy as np
import pytest

from stratgym.games.matrix import MatrixGame, security_game
from stratgym.games.persuasion import FiniteSupportPrior, GaussianPrior, SamplerPrior, prosecutor
from stratgym.games.stateful import classroom
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


@pytest.mark.parametrize("make", [lambda: security_game(), lambda: classroom(3), lambda: prosecutor(),
                                  lambda: GaussianPrior([0.0, 1.0], 2.0), lambda: FiniteSupportPrior([[1.0, 2.0]]),
                                  lambda: SamplerPrior(_two_dimensional, 2)], ids=lambda make: type(make()).__name__)
def test_parameter_objects_are_equal_by_fields_and_unhashable(make):
    first, second = make(), make()
    assert first == second and first is not second and not first != second
    another_type = classroom(3) if isinstance(first, MatrixGame) else security_game()
    assert first != another_type
    with pytest.raises(TypeError, match="unhashable"):
        hash(first)


def test_sizes_are_read_off_the_arrays():
    game = security_game()
    assert (game.n_types, game.n_leader_actions, game.n_follower_actions) == game.follower_payoffs.shape
    assert (classroom(3).n_features, classroom(3).n_efforts) == classroom(3).conversion_matrix.shape
    assert GaussianPrior([0.0, 1.0, 2.0]).dimension == FiniteSupportPrior(np.ones((4, 3))).dimension == 3
    assert GaussianPrior.dimension.__doc__ == "``m``, the dimension of ``theta``."


def _two_dimensional(rng, n):
    return rng.standard_normal((n, 2))
