"""The stateful game core (stratgym.games.stateful): validation, dynamics, marginal values, responses.

Responses and marginal values are checked against independent computations: brute force over pure
effort policies scored by ``rollout``, finite differences of the agent's utility, the closed-form state.
"""

from __future__ import annotations

import itertools
import re
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stratgym.games.stateful import (GAP_TOL, StatefulGame, best_response, check_assessment_policy,
                                     check_effort_policy, classroom, favoured_choice, favoured_option, feature_slopes,
                                     frank_wolfe_gap, largest_marginal_values, marginal_value_operator,
                                     marginal_values, random_game, respond_in_round, rollout, rollout_arrays,
                                     round_scales, tied_options)
from stratgym.games.stateful import dynamics

seeds = st.integers(0, 2**32 - 1)
CONCAVE = ("sqrt", "log1p")


def small_game(seed: int, conversion: str = "linear", max_horizon: int = 3) -> StatefulGame:
    """A random instance with T, n, d in 1..3 drawn from ``seed``."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 4, size=2)
    return random_game(rng, horizon=int(rng.integers(1, max_horizon + 1)), n_features=int(sizes[0]),
                       n_efforts=int(sizes[1]), conversion=conversion)


def with_random_state(game: StatefulGame, rng: np.random.Generator) -> StatefulGame:
    return game.replace(initial_state=rng.uniform(0.0, 1.0, game.n_efforts))


def random_rules(rng: np.random.Generator, game: StatefulGame, *batch: int) -> np.ndarray:
    return rng.dirichlet(np.ones(game.n_features), size=(*batch, game.horizon))


def random_efforts(rng: np.random.Generator, game: StatefulGame, *batch: int, low: float = 0.0) -> np.ndarray:
    """Efforts with every entry in ``[low, B)`` and every round's total below ``B``."""
    shares = rng.dirichlet(np.ones(game.n_efforts + 1), size=(*batch, game.horizon))[..., :game.n_efforts]
    return game.budget * (low + (1.0 - low * (game.n_efforts + 1)) * shares)


# ---------------------------------------------------------------------------------------------
# Validation: every bad field gives a ValueError naming it
# ---------------------------------------------------------------------------------------------

VALID = dict(conversion_matrix=[[1.0, 0.4, 0.0], [0.0, 0.4, 1.0]], retention=[0.0, 1.0, 0.0],
             persistence=[1.0, 1.0, 1.0], initial_state=[0.0, 0.0, 0.0], budget=1.0, effort_value=[0.0, 1.0, 0.0],
             horizon=3, discount=1.0, conversion="linear")

BAD_FIELDS = [
    ("conversion_matrix", [1.0, 0.4, 0.0]), ("conversion_matrix", [[1.0, np.nan, 0.0], [0.0, 0.4, 1.0]]),
    ("conversion_matrix", [[1.0, -0.4, 0.0], [0.0, 0.4, 1.0]]), ("conversion_matrix", np.zeros((2, 0))),
    ("conversion_matrix", "W"),
    ("retention", None), ("retention", [0.0, 1.0]), ("retention", [0.0, np.nan, 0.0]), ("retention", [0.0, 1.5, 0.0]),
    ("retention", [-0.1, 1.0, 0.0]),
    ("persistence", [1.0, 1.0]), ("persistence", [1.0, np.inf, 1.0]), ("persistence", [1.0, 1.1, 1.0]),
    ("persistence", [1.0, -0.5, 1.0]),
    ("initial_state", [[0.0, 0.0, 0.0]]), ("initial_state", [0.0, np.nan, 0.0]), ("initial_state", [0.0, -1.0, 0.0]),
    ("budget", 0.0), ("budget", -1.0), ("budget", np.nan), ("budget", [1.0, 1.0]),
    ("effort_value", None), ("effort_value", [0.0, 1.0]), ("effort_value", [0.0, np.nan, 0.0]),
    ("horizon", 0), ("horizon", -2), ("horizon", 2.5), ("horizon", True),
    ("discount", 0.0), ("discount", 1.5), ("discount", -0.5), ("discount", np.nan),
    ("conversion", "cubic"), ("conversion", ["linear"]), ("conversion", None),
    ("effort_names", ("a", "b")), ("feature_names", ("a", "b", "c")),
    # Slips numpy would accept: booleans as numbers, numbers as text, a string as a sequence of names.
    ("budget", True), ("budget", "1"), ("discount", True), ("discount", "0.9"), ("retention", ["0", "1", "0"]),
    ("horizon", "3"), ("effort_names", 3), ("effort_names", "abc"), ("effort_names", (1, 2, 3)),
    ("feature_names", "xy"), ("feature_names", ("test", 2)),
]


@pytest.mark.parametrize(("field", "value"), BAD_FIELDS, ids=[f"{f}={v!r}" for f, v in BAD_FIELDS])
def test_bad_field_is_rejected_naming_it(field, value):
    with pytest.raises(ValueError, match=re.escape(field)):
        StatefulGame(**{**VALID, field: value})


def test_valid_fields_and_defaults():
    game = StatefulGame(conversion_matrix=VALID["conversion_matrix"], retention=VALID["retention"],
                        effort_value=VALID["effort_value"])
    np.testing.assert_array_equal(game.persistence, np.ones(3))
    np.testing.assert_array_equal(game.initial_state, np.zeros(3))
    assert (game.n_features, game.n_efforts, game.horizon) == (2, 3, 5)
    assert game.effort_names == ("effort0", "effort1", "effort2")
    assert game == StatefulGame(**{**VALID, "horizon": 5})
    assert game != game.replace(budget=2.0)
    with pytest.raises(ValueError, match="budget"):
        game.replace(budget=0.0)
    with pytest.raises(ValueError):  # stored arrays are read-only: the frozen game cannot be mutated in place
        game.retention[0] = 1.0


@pytest.mark.parametrize(("checker", "name", "bad"), [
    (check_assessment_policy, "theta", np.full((3, 3), 1 / 3)),  # wrong n
    (check_assessment_policy, "theta", np.full((2, 2), 0.5)),  # wrong T
    (check_assessment_policy, "theta", [[0.5, 0.5], [0.5, np.nan], [0.5, 0.5]]),
    (check_assessment_policy, "theta", [[0.7, 0.7], [0.5, 0.5], [0.5, 0.5]]),  # off the simplex
    (check_assessment_policy, "theta", [[1.5, -0.5], [0.5, 0.5], [0.5, 0.5]]),
    (check_effort_policy, "effort", np.zeros((3, 2))),
    (check_effort_policy, "effort", [[0.6, 0.6, 0.0]] * 3),  # over budget
    (check_effort_policy, "effort", [[-0.1, 0.5, 0.0]] * 3),
    (check_effort_policy, "effort", [[np.inf, 0.0, 0.0]] * 3),
])
def test_policy_checks_name_the_argument(checker, name, bad):
    with pytest.raises(ValueError, match=name):
        checker(StatefulGame(**VALID), bad)


def test_response_arguments_are_checked():
    game = StatefulGame(**VALID)
    with pytest.raises(ValueError, match="model"):
        best_response(game, np.full((3, 2), 0.5), model="clairvoyant")
    with pytest.raises(ValueError, match="theta"):
        best_response(game, np.full((2, 3, 2), 0.5))  # a batch is not one policy
    with pytest.raises(ValueError, match="model"):
        respond_in_round(game, "rational", np.array([0.5, 0.5]), np.zeros(3), 0)
    with pytest.raises(ValueError, match="round_index"):
        respond_in_round(game, "forecasting", np.array([0.5, 0.5]), np.zeros(3), 3)
    for rule, state, match in (([0.7, 0.7], np.zeros(3), "rule"), ([0.5, np.nan], np.zeros(3), "rule"),
                               ([1.0], np.zeros(3), "rule"), ([0.5, 0.5], [0.0, -1.0, 0.0], "state"),
                               ([0.5, 0.5], np.zeros(2), "state")):
        with pytest.raises(ValueError, match=match):
            respond_in_round(game, "myopic", rule, state, 0)


def test_boolean_arrays_stay_numbers_but_a_single_boolean_does_not():
    """Masks and 0/1 labels are legitimate boolean arrays (as_real_array callers pass them); a boolean scalar
    where a number is asked for is a slip."""
    game = StatefulGame(**{**VALID, "retention": np.array([False, True, False])})
    np.testing.assert_array_equal(game.retention, [0.0, 1.0, 0.0])
    assert game == StatefulGame(**VALID)


def test_names_are_kept_as_given():
    game = StatefulGame(**VALID, effort_names=["copy", "study", "lookup"], feature_names=np.array(["test", "hw"]))
    assert game.effort_names == ("copy", "study", "lookup") and game.feature_names == ("test", "hw")


@pytest.mark.parametrize(("call", "match"), [
    (lambda g: rollout(g, "uniform", np.zeros((3, 3))), "theta"),
    (lambda g: rollout(g, [[0.5, 0.5], [1.0], [0.5, 0.5]], np.zeros((3, 3))), "theta"),  # ragged
    (lambda g: rollout(g, np.full((2, 3, 2), 0.5), np.zeros((4, 3, 3))), "batch shapes"),
    (lambda g: rollout(g, np.full((3, 2), 0.5), np.zeros((2, 3, 3)), initial_state=np.zeros((3, 3))),
     "batch shapes"),
    (lambda g: rollout(g, np.full((3, 2), 0.5), [["a"] * 3] * 3), "effort"),
    (lambda g: marginal_values(g, np.full((3, 3), 1 / 3)), "theta"),  # wrong n
    (lambda g: marginal_values(g, [[0.5, np.nan]] * 3), "theta"),
    (lambda g: marginal_values(g, np.full((3, 2), 0.5), effort=np.ones((3, 3))), "effort"),  # over budget
    (lambda g: marginal_values(g.replace(conversion="sqrt"), np.full((3, 2), 0.5)), "effort"),  # required
    (lambda g: marginal_values(g, np.full((2, 3, 2), 0.5), np.zeros((3, 3, 3))), "batch shapes"),
    (lambda g: frank_wolfe_gap(g, np.full((3, 2), 0.5), np.zeros((3, 2))), "effort"),
    (lambda g: random_game(0), "rng must be a numpy Generator"),
    (lambda g: random_game(np.random.default_rng(0), n_features=2.5), "n_features"),
    (lambda g: random_game(np.random.default_rng(0), n_features=0), "n_features"),
    (lambda g: random_game(np.random.default_rng(0), n_efforts=True), "n_efforts"),
    (lambda g: random_game(np.random.default_rng(0), horizon="2"), "horizon"),
])
def test_function_arguments_are_checked_naming_them(call, match):
    with pytest.raises(ValueError, match=match):
        call(StatefulGame(**VALID))


def test_an_empty_batch_plays_to_empty_results():
    game = StatefulGame(**VALID)
    played = rollout(game, np.full((0, 3, 2), 0.5), np.zeros((0, 3, 3)))
    assert played.states.shape == (0, 4, 3) and played.agent_utility.shape == (0,)
    assert marginal_values(game, np.full((0, 3, 2), 0.5)).shape == (0, 3, 3)


@pytest.mark.parametrize(("field", "value", "expected"), [
    ("retention", [0.0, 1.5, 0.0], r"\[0.0, 1.0\]"), ("budget", [1.0, 1.0], "single number"),
    ("discount", 1.5, r"\(0.0, 1.0\]"), ("initial_state", [0.0, -1.0, 0.0], r"\[0.0, inf\)"),
])
def test_range_errors_state_the_expected_form(field, value, expected):
    with pytest.raises(ValueError, match=expected):
        StatefulGame(**{**VALID, field: value})


def test_replace_with_a_badly_shaped_w_names_it():
    for bad in ([1.0, 2.0, 3.0], [[1.0, 2.0], [3.0]]):
        with pytest.raises(ValueError, match="conversion_matrix"):
            classroom().replace(conversion_matrix=bad)


@given(seed=seeds)
@settings(max_examples=10, deadline=None)
def test_random_game_is_deterministic_under_a_seed(seed):
    assert small_game(seed) == small_game(seed)


# ---------------------------------------------------------------------------------------------
# Dynamics
# ---------------------------------------------------------------------------------------------

@given(seed=seeds, conversion=st.sampled_from(("linear",) + CONCAVE))
@settings(max_examples=25, deadline=None)
def test_rollout_batch_equals_per_instance_rollouts(seed, conversion):
    rng = np.random.default_rng(seed)
    game = with_random_state(small_game(seed, conversion), rng)
    theta, effort = random_rules(rng, game, 4), random_efforts(rng, game, 4)
    batched = rollout(game, theta, effort)
    broadcast = rollout(game, theta[0], effort)  # one policy against a batch of efforts
    for b in range(4):
        single = rollout(game, theta[b], effort[b])
        for field in ("states", "features", "scores", "agent_utility", "principal_utility"):
            np.testing.assert_allclose(getattr(batched, field)[b], getattr(single, field), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(broadcast.agent_utility[b], rollout(game, theta[0], effort[b]).agent_utility,
                                   rtol=1e-12)
    # One policy pair from a batch of initial states: each state's own rollout.
    starts = rng.uniform(0.0, 1.0, (3, game.n_efforts))
    from_starts = rollout(game, theta[0], effort[0], initial_state=starts)
    assert from_starts.states.shape == (3, game.horizon + 1, game.n_efforts)
    for b in range(3):
        single = rollout(game, theta[0], effort[0], initial_state=starts[b])
        for field in ("states", "features", "scores", "agent_utility", "principal_utility"):
            np.testing.assert_allclose(getattr(from_starts, field)[b], getattr(single, field), rtol=1e-12, atol=1e-12)


@given(seed=seeds, conversion=st.sampled_from(("linear",) + CONCAVE))
@settings(max_examples=15, deadline=None)
def test_a_rollout_memo_returns_the_numbers_without_it_as_fresh_arrays_and_stays_bounded(seed, conversion):
    rng = np.random.default_rng(seed)
    game = small_game(seed, conversion)
    efforts = random_efforts(rng, game, 3)
    memo = {}
    with mock.patch.object(dynamics, "ROLLOUT_MEMO_SIZE", 2):
        _replay_with_memo(game, rng, efforts, memo)
    assert rollout_arrays(game, random_rules(rng, game), efforts[1], memo=memo)[0].min() >= 0.0


def _replay_with_memo(game, rng, efforts, memo):
    for index in (0, 1, 0, 2, 1, 1):  # hits, misses, and a third policy that empties the full memo
        theta = random_rules(rng, game)
        expected = rollout_arrays(game, theta, efforts[index])
        got = rollout_arrays(game, theta, efforts[index], memo=memo)
        for got_field, expected_field in zip(got, expected):
            np.testing.assert_array_equal(got_field, expected_field)  # the same bits
        got[0][...] = -1.0  # a caller writing into the states and features changes no later rollout
        got[1][...] = -1.0
        assert len(memo) <= 2


@given(seed=seeds)
@settings(max_examples=25, deadline=None)
def test_rollout_matches_closed_form_state_and_utilities(seed):
    rng = np.random.default_rng(seed)
    game = with_random_state(small_game(seed), rng)
    theta, effort = random_rules(rng, game), random_efforts(rng, game)
    p, omega, W = game.persistence, game.retention, game.conversion_matrix
    played = rollout(game, theta, effort)
    for t in range(game.horizon + 1):
        # s_{t+1} = p^t s_1 + sum_{u <= t} p^(t-u) omega e_u  (0-based u)
        closed = p**t * game.initial_state + sum(p ** (t - 1 - u) * omega * effort[u] for u in range(t))
        np.testing.assert_allclose(played.states[t], closed, rtol=1e-12, atol=1e-12)
    scores = np.einsum("tn,tn->t", theta, (played.states[:-1] + effort) @ W.T)
    np.testing.assert_allclose(played.scores, scores, rtol=1e-12, atol=1e-12)
    assert played.agent_utility == pytest.approx(scores @ game.discount ** np.arange(game.horizon), rel=1e-12)
    assert played.principal_utility == pytest.approx(effort.sum(axis=0) @ game.effort_value, rel=1e-12, abs=1e-12)


# ---------------------------------------------------------------------------------------------
# Marginal values: the gradient of the agent's utility, and its linear operator
# ---------------------------------------------------------------------------------------------

@given(seed=seeds, conversion=st.sampled_from(("linear",) + CONCAVE))
@settings(max_examples=30, deadline=None)
def test_marginal_values_are_finite_differences_of_agent_utility(seed, conversion):
    rng = np.random.default_rng(seed)
    game = small_game(seed, conversion)
    theta = random_rules(rng, game)
    effort = random_efforts(rng, game, low=0.05)  # interior, so that every coordinate can move both ways
    step = 1e-6
    differences = np.empty_like(effort)
    for index in np.ndindex(effort.shape):
        up, down = effort.copy(), effort.copy()
        up[index] += step
        down[index] -= step
        differences[index] = (rollout(game, theta, up).agent_utility
                              - rollout(game, theta, down).agent_utility) / (2 * step)
    np.testing.assert_allclose(marginal_values(game, theta, effort), differences, rtol=1e-5, atol=1e-6)


@given(seed=seeds, conversion=st.sampled_from(("linear",) + CONCAVE))
@settings(max_examples=30, deadline=None)
def test_marginal_value_operator_equals_marginal_values(seed, conversion):
    rng = np.random.default_rng(seed)
    game = small_game(seed, conversion)
    theta, effort = random_rules(rng, game), random_efforts(rng, game, low=0.05)
    slopes = None if game.is_linear else feature_slopes(game, effort)
    operator = marginal_value_operator(game, slopes)
    assert operator.shape == (game.horizon, game.n_efforts, game.horizon, game.n_features)
    np.testing.assert_allclose(np.einsum("tjui,ui->tj", operator, theta), marginal_values(game, theta, effort),
                               rtol=1e-12, atol=1e-12)


def test_linear_marginal_values_closed_form():
    """``c_tau = gamma^(tau-1) W^T theta_tau + sum_{t>tau} gamma^(t-1) omega p^(t-1-tau) W^T theta_t`` (1-based)."""
    rng = np.random.default_rng(7)
    game = random_game(rng, horizon=4, n_features=2, n_efforts=3)
    theta = random_rules(rng, game)
    gamma, W, p, omega = game.discount, game.conversion_matrix, game.persistence, game.retention
    expected = [gamma**tau * W.T @ theta[tau]
                + sum(gamma**t * omega * p ** (t - 1 - tau) * (W.T @ theta[t]) for t in range(tau + 1, 4))
                for tau in range(4)]
    np.testing.assert_allclose(marginal_values(game, theta), expected, rtol=1e-12)


def test_sqrt_slopes_at_zero_reach_the_agent_only_through_used_channels():
    """sqrt's slope is infinite at 0; features nobody moves, zero weights, zero retention cut it off (0 * inf = 0)."""
    game = StatefulGame(conversion_matrix=[[1.0, 1.0], [0.0, 0.0]], retention=[0.0, 0.0], effort_value=[1.0, 0.0],
                        horizon=2, conversion="sqrt")
    theta = np.full((2, 2), 0.5)
    response = best_response(game, theta)  # feature 1 never moves: its infinite slope must not poison the gradient
    assert np.isfinite(response.duality_gap) and response.duality_gap <= GAP_TOL
    np.testing.assert_allclose(response.effort.sum(axis=1), game.budget, rtol=1e-9)
    one_feature = StatefulGame(conversion_matrix=np.eye(2), retention=[0.0, 0.0], effort_value=[1.0, 0.0], horizon=2,
                               conversion="sqrt")
    effort = np.array([[1.0, 0.0], [1.0, 0.0]])
    np.testing.assert_allclose(marginal_values(one_feature, [[1.0, 0.0]] * 2, effort), [[0.5, 0.0]] * 2)
    assert frank_wolfe_gap(one_feature, np.array([[1.0, 0.0]] * 2), effort) == 0.0
    assert np.isinf(frank_wolfe_gap(one_feature, np.array([[0.5, 0.5]] * 2), effort))


# ---------------------------------------------------------------------------------------------
# Responses vs brute force
# ---------------------------------------------------------------------------------------------

def pure_policies(game: StatefulGame, horizon: int) -> np.ndarray:
    """All ``(d+1)^horizon`` pure effort policies ``(P, horizon, d)``: each round the budget on one type, or nothing."""
    options = np.vstack([game.budget * np.eye(game.n_efforts), np.zeros(game.n_efforts)])
    return np.array([options[list(choice)] for choice in itertools.product(range(game.n_efforts + 1), repeat=horizon)])


def favourite(agent_values: np.ndarray, principal_values: np.ndarray, tol: float = 1e-9) -> int:
    """Index of the agent's best option, ties (within ``tol`` relative) to the principal, then to the first."""
    best = agent_values.max()
    tied = agent_values >= best - tol * max(1.0, abs(best))
    return int(np.argmax(np.where(tied, principal_values, -np.inf)))


@given(seed=seeds)
@settings(max_examples=30, deadline=None)
def test_rational_linear_response_is_the_brute_force_best_pure_policy(seed):
    rng = np.random.default_rng(seed)
    game = small_game(seed)
    theta = random_rules(rng, game)
    policies = pure_policies(game, game.horizon)
    played = rollout(game, theta, policies)
    best = favourite(played.agent_utility, played.principal_utility)
    response = rollout(game, theta, best_response(game, theta).effort)
    assert response.agent_utility == pytest.approx(played.agent_utility[best], rel=1e-9, abs=1e-12)
    assert response.principal_utility == pytest.approx(played.principal_utility[best], rel=1e-9, abs=1e-12)
    # The linear agent's utility is linear in effort, so no mixed policy beats the best pure one.
    mixed = random_efforts(rng, game, 64)
    assert np.all(rollout(game, theta, mixed).agent_utility <= response.agent_utility + 1e-12)


def tie_heavy_game(seed: int) -> tuple[StatefulGame, np.ndarray]:
    """A linear game and rules built from dyadic numbers (W, theta on quarters, gamma, omega, p in {0, 1/2, 1}),
    so marginal values are computed exactly and options are often exactly tied."""
    rng = np.random.default_rng(seed)
    T, n, d = (int(k) for k in rng.integers(1, 4, size=3))
    halves = np.array([0.0, 0.5, 1.0])
    game = StatefulGame(conversion_matrix=rng.choice(halves, size=(n, d)), retention=rng.choice(halves, size=d),
                        persistence=rng.choice(halves, size=d), effort_value=rng.choice([-1.0, 0.0, 0.5, 1.0], size=d),
                        horizon=T, discount=float(rng.choice([0.5, 1.0])))
    counts = rng.multinomial(4, np.ones(n) / n, size=T)
    return game, counts / 4.0


@given(seed=seeds)
@settings(max_examples=60, deadline=None)
def test_rational_linear_response_breaks_exact_ties_like_brute_force(seed):
    """Among all pure policies the agent likes best (exact ties are common here), the principal's favourite."""
    game, theta = tie_heavy_game(seed)
    played = rollout(game, theta, pure_policies(game, game.horizon))
    best = favourite(played.agent_utility, played.principal_utility)
    response = rollout(game, theta, best_response(game, theta).effort)
    assert response.agent_utility == pytest.approx(played.agent_utility[best], rel=1e-12, abs=1e-12)
    assert response.principal_utility == pytest.approx(played.principal_utility[best], rel=1e-12, abs=1e-12)


@given(seed=seeds, log_scale=st.integers(-12, 8), discount=st.sampled_from([1e-3, 0.01, 0.5, 1.0]))
@settings(max_examples=60, deadline=None)
def test_responses_do_not_depend_on_the_units_of_w_or_on_discounting(seed, log_scale, discount):
    """Scaling W by any positive factor, or discounting late rounds steeply, rescales each round's marginal values,
    so it must not change which options the agent ties or prefers (ties are relative to ``round_scales``)."""
    game, theta = tie_heavy_game(seed)
    game = game.replace(discount=discount)
    scaled = game.replace(conversion_matrix=game.conversion_matrix * 10.0 ** log_scale)
    for model in ("rational", "myopic", "forecasting"):
        np.testing.assert_array_equal(best_response(scaled, theta, model).effort, best_response(game, theta, model).effort)
    # Each round alone, the rational agent's choice is the brute-force favourite of that round's marginal values.
    values = marginal_values(game, theta)
    options = np.append(values, np.zeros((game.horizon, 1)), axis=1)
    principal = np.append(game.effort_value, 0.0)
    effort = best_response(game, theta).effort
    for tau in range(game.horizon):
        row = options[tau] / round_scales(game)[tau]  # exact ties stay exact; strict preferences stay strict
        chosen = favourite(row, principal)
        assert principal[chosen] * game.budget == pytest.approx(effort[tau] @ game.effort_value, abs=1e-12)


def test_round_scales_are_the_largest_marginal_values_any_rule_gives():
    rng = np.random.default_rng(3)
    for _ in range(20):
        game = random_game(rng, horizon=int(rng.integers(1, 5)), n_features=2, n_efforts=3)
        vertices = [np.eye(2)[list(choice)] for choice in itertools.product(range(2), repeat=game.horizon)]
        best = np.max([marginal_values(game, theta) for theta in vertices], axis=(0, 2))  # linear in theta: vertices
        np.testing.assert_allclose(largest_marginal_values(game), best, rtol=1e-12)
        np.testing.assert_allclose(round_scales(game), np.where(best > 0, best, 1.0), rtol=1e-12)


@pytest.mark.parametrize("value_scale", [1.0, 1e-12, 1e6])
def test_concave_ties_go_to_the_principal(value_scale):
    """Two effort types that convert into the same feature and are retained alike are perfect substitutes: the
    agent is indifferent between them, and its response puts everything on the principal's favourite, whatever
    the units of lambda (the tie-break LP must not drop tiny objective coefficients)."""
    for values in ([1.0, 0.0], [0.0, 1.0], [-1.0, -0.5]):
        values = value_scale * np.array(values)
        game = StatefulGame(conversion_matrix=[[1.0, 1.0], [0.3, 0.3]], retention=[0.5, 0.5], effort_value=values,
                            horizon=3, conversion="sqrt")
        theta = np.tile([0.7, 0.3], (3, 1))
        response = best_response(game, theta)
        favourite_type = int(np.argmax(values))
        assert np.all(response.effort[:, 1 - favourite_type] <= 1e-9)
        # The agent loses nothing: its utility equals the untie-broken optimum (same features), gap still certified.
        assert response.duality_gap <= 2 * GAP_TOL
        swapped = response.effort[:, ::-1]
        assert float(rollout(game, theta, response.effort).agent_utility) == pytest.approx(
            float(rollout(game, theta, swapped).agent_utility), abs=1e-9)


@given(seed=seeds, conversion=st.sampled_from(CONCAVE))
@settings(max_examples=15, deadline=None)
def test_concave_responses_keep_their_certificate_after_the_tie_break(seed, conversion):
    """Duplicating an effort type (same W column, retention, persistence) adds an exact tie: the response then
    leaves the duplicate the principal likes less unused, and is still certified by its Frank–Wolfe gap."""
    rng = np.random.default_rng(seed)
    base = small_game(seed, conversion)
    j = int(rng.integers(base.n_efforts))
    duplicate = lambda array: np.append(array, array[..., j:j + 1], axis=-1)  # noqa: E731
    values = duplicate(base.effort_value)
    values[-1] = values[j] - 0.5  # the copy is worth less to the principal
    game = StatefulGame(conversion_matrix=duplicate(base.conversion_matrix), retention=duplicate(base.retention),
                        persistence=duplicate(base.persistence), effort_value=values, horizon=base.horizon,
                        discount=base.discount, conversion=conversion)
    theta = random_rules(rng, game)
    response = best_response(game, theta)
    assert np.all(response.effort[:, -1] <= 1e-7)
    assert frank_wolfe_gap(game, theta, response.effort) <= response.duality_gap + 1e-9
    assert response.duality_gap <= 2 * GAP_TOL


@given(seed=seeds, model=st.sampled_from(("myopic", "forecasting")))
@settings(max_examples=30, deadline=None)
def test_myopic_and_forecasting_responses_follow_their_definitions(seed, model):
    """Each round: enumerate the agent's plans for the rounds it plans (1, or the rest of the horizon) under the
    current rule kept constant, score them with ``rollout`` from the current state, play the best plan's first
    round (ties to the principal's value of the plan)."""
    rng = np.random.default_rng(seed)
    game = with_random_state(small_game(seed), rng)
    theta = random_rules(rng, game)
    state, played = game.initial_state, []
    for t in range(game.horizon):
        planned = game.replace(horizon=1 if model == "myopic" else game.horizon - t, initial_state=state)
        plans = pure_policies(game, planned.horizon)
        scored = rollout(planned, np.tile(theta[t], (planned.horizon, 1)), plans)
        played.append(plans[favourite(scored.agent_utility, scored.principal_utility)][0])
        state = game.persistence * state + game.retention * played[-1]
    response = best_response(game, theta, model).effort
    np.testing.assert_allclose(response, played, atol=1e-12)


@given(seed=seeds, conversion=st.sampled_from(CONCAVE))
@settings(max_examples=15, deadline=None)
def test_concave_best_response_beats_random_efforts_within_its_gap(seed, conversion):
    rng = np.random.default_rng(seed)
    game = small_game(seed, conversion)
    theta = random_rules(rng, game)
    response = best_response(game, theta)
    assert 0.0 <= response.duality_gap <= GAP_TOL
    assert frank_wolfe_gap(game, theta, response.effort) <= GAP_TOL
    best = rollout(game, theta, response.effort).agent_utility
    others = np.concatenate([random_efforts(rng, game, 64), pure_policies(game, game.horizon)[:64]])
    utilities = rollout(game, theta, others).agent_utility
    assert np.all(utilities <= best + 1e-12)
    # Concavity: the Frank–Wolfe gap of any effort bounds its distance to the optimum.
    gaps = np.array([frank_wolfe_gap(game, theta, effort) for effort in others[:16]])
    assert np.all(best - utilities[:16] <= gaps + 1e-9)


# ---------------------------------------------------------------------------------------------
# Classroom (the docstring's derivation)
# ---------------------------------------------------------------------------------------------

@given(horizon=st.integers(1, 6), seed=seeds)
@settings(max_examples=20, deadline=None)
def test_classroom_study_is_worth_point_four_per_remaining_round(horizon, seed):
    game = classroom(horizon)
    theta = random_rules(np.random.default_rng(seed), game)
    values = marginal_values(game, theta)
    np.testing.assert_allclose(values[:, 1], 0.4 * (horizon - np.arange(horizon)), rtol=1e-12)
    np.testing.assert_allclose(values[:, [0, 2]], theta, rtol=1e-12)  # cheating pays only in its own round


def test_classroom_one_round_never_studies():
    game = classroom(1)
    for share in np.linspace(0.0, 1.0, 101):
        assert best_response(game, [[share, 1.0 - share]]).effort[0, 1] == 0.0


@given(seed=seeds)
@settings(max_examples=40, deadline=None)
def test_single_vector_tie_break_equals_the_batched_rule(seed):
    """favoured_option has a plain-Python path for one vector (the envs' hot path); it must agree with the
    batched numpy rule, ties included (values from a small set, so exact and near ties are common)."""
    rng = np.random.default_rng(seed)
    game = random_game(rng, n_efforts=int(rng.integers(1, 5)))
    game = game.replace(effort_value=rng.choice([-1.0, 0.0, 0.5, 1.0], size=game.n_efforts))
    values = rng.choice([-0.5, 0.0, 0.3, 0.5, 1.0], size=(8, game.n_efforts))
    values = values * (1.0 + rng.choice([0.0, 1e-12, 1e-6], size=values.shape))
    scales = rng.choice([1e-12, 0.5, 1.0, 3.0], size=len(values))  # below, at and above the values' size
    batched = favoured_option(game, values, scales)
    assert np.array_equal(batched, np.array([favoured_option(game, row, scale) for row, scale in zip(values, scales)]))
    # The pick is the principal's favourite among the options tied_options (the solvers' test) puts in the zone.
    tied = tied_options(values, scales)
    choice = favoured_choice(game, values, scales)
    assert tied[np.arange(len(values)), choice].all()
    favour = np.append(game.effort_value, 0.0)
    assert np.all(favour[choice] == np.where(tied, favour, -np.inf).max(axis=1))


def test_replace_with_new_shapes_relabels_by_default():
    game = classroom().replace(conversion_matrix=np.ones((3, 2)), retention=[0, 1], persistence=[1, 1],
                               initial_state=[0, 0], effort_value=[0, 1])
    assert game.feature_names == ("feature0", "feature1", "feature2")
    assert game.effort_names == ("effort0", "effort1")
    with pytest.raises(ValueError, match="feature_names"):
        classroom().replace(feature_names=("only one",))


def test_copies_and_pickles_of_a_game_leave_out_the_batch_sized_row_tiles():
    import copy
    import pickle

    import gymnasium as gym

    envs = gym.make_vec("stratgym/StatefulPrincipal-v0", num_envs=4096, vectorization_mode="vector_entry_point")
    envs.reset(seed=0)
    for _ in range(3):
        envs.step(envs.action_space.sample())
    game = envs.unwrapped.single.game
    assert "row_tiles" in game.__dict__ and game.__dict__["row_tiles"]  # the vector env built tiles
    assert len(pickle.dumps(game)) < 100_000
    for clone in (copy.deepcopy(game), pickle.loads(pickle.dumps(game))):
        assert "row_tiles" not in clone.__dict__ and clone == game
