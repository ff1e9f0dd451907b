"""The exact stateful MILP on the benchmark's instance family, and its time limit (issue 13, item 7).

``random_game(n_features=3, n_efforts=4)`` is what ``scripts/bench_stateful.py`` times; here the MILP's optimum is
checked against brute force on small horizons, and a solve stopped by its time limit must return a feasible policy
(re-checked against the agent's best response) whose certified gap brackets the true optimum. No test asserts a
time: only the structure of what a stopped solve returns.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stratgym.baselines.stateful import brute_force_optimum, milp_optimum
from stratgym.games.stateful import best_response, random_game, rollout


def tail_game(seed: int, horizon: int):
    return random_game(np.random.default_rng(seed), horizon=horizon, n_features=3, n_efforts=4)


def assert_feasible(game, result) -> None:
    """The result's effort is the agent's response to its rule, and its value that response's."""
    effort = best_response(game, result.theta, result.agent).effort
    np.testing.assert_array_equal(result.effort, effort)
    assert result.principal_value == pytest.approx(float(rollout(game, result.theta, effort).principal_utility),
                                                     abs=1e-12)


@given(seed=st.integers(0, 2**32 - 1), horizon=st.integers(1, 4), constant=st.booleans())
@settings(max_examples=20, deadline=None)
def test_milp_equals_brute_force_on_the_benchmark_family(seed, horizon, constant):
    game = tail_game(seed, horizon)
    exact = milp_optimum(game, constant=constant)
    enumerated = brute_force_optimum(game, constant=constant, max_policies=5**4)
    assert exact.is_optimal and exact.diagnostics["proven_optimal"]
    assert exact.principal_value == pytest.approx(enumerated.principal_value, abs=1e-9 * horizon)
    assert_feasible(game, exact)


@pytest.mark.parametrize("time_limit", [1e-3, 0.02])
def test_a_stopped_solve_returns_a_feasible_policy_and_a_gap_that_brackets_the_optimum(time_limit):
    """Seed 4 is one of the benchmark's hard instances (many branch-and-bound nodes at T = 15); a tiny time limit
    stops HiGHS early. Whatever it has then, the result is feasible, its gap is >= 0 and certified: the optimum lies
    in [value, value + gap]; ``is_optimal`` says whether the gap is 0."""
    game = tail_game(4, 15)
    stopped = milp_optimum(game, time_limit=time_limit)
    optimum = milp_optimum(game)
    assert optimum.is_optimal
    assert_feasible(game, stopped)
    assert stopped.certificate.optimality_gap >= 0.0
    assert stopped.is_optimal == (stopped.certificate.optimality_gap == 0.0) == stopped.diagnostics["proven_optimal"]
    assert stopped.principal_value <= optimum.principal_value + 1e-9
    assert optimum.principal_value <= stopped.principal_value + stopped.certificate.optimality_gap + 1e-9
    if not stopped.is_optimal:
        assert stopped.certificate.optimality_gap > 0.0
