"""Stackelberg matrix games: validation, the exact solver against brute force and the literature, the theorem
"commitment is worth at least every Nash equilibrium", the envs (float32 ties, exact scores) and their references.

The brute force is independent of the LPs: the optimum of a (Bayesian) Stackelberg game is attained at a vertex of
the arrangement of the followers' indifference hyperplanes ``x . (B^k_j - B^k_j') = 0`` and the simplex's facets, so
every point where ``m - 1`` of those hyperplanes meet the simplex is evaluated with the game's own follower (ties to
the leader), and the best of them is the optimum.
"""

from __future__ import annotations

import itertools

import gymnasium as gym
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import stratgym  # noqa: F401
from stratgym.agents.evaluate import score_policy
from stratgym.agents.instances import make_env
from stratgym.agents.references import NoExactReference, reference_values
from stratgym.baselines.matrix import (best_pure_commitment, harsanyi_normal_form, incentive_lead, nash_equilibria,
                                       profile_lp, solve, uniform_commitment)
from stratgym.envs.spaces import simplex_to_box
from stratgym.envs.matrix import MatrixCommitmentEnv, follower_observation
from stratgym.games.matrix import (MatrixGame, QuantalFollower, battle_of_the_sexes, conitzer_sandholm,
                                   evaluate_commitment, follower_response, follower_scales, matching_pennies,
                                   paruchuri_example, random_matrix_game, random_security_game, security_game)
from stratgym.games.ties import TIE_TOL

COMMITMENT, FOLLOWER = "stratgym/MatrixCommitment-v0", "stratgym/MatrixFollower-v0"


# ---------------------------------------------------------------------------------------------
# The game
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("arguments, match", [
    ({"leader_payoffs": [1, 2], "follower_payoffs": [1, 2]}, "follower_payoffs must be"),
    ({"leader_payoffs": np.zeros((2, 3)), "follower_payoffs": np.zeros((3, 2))}, "leader_payoffs must have shape"),
    ({"leader_payoffs": [[np.nan]], "follower_payoffs": [[0.0]]}, "leader_payoffs must be finite"),
    ({"leader_payoffs": [[0.0]], "follower_payoffs": [[np.inf]]}, "follower_payoffs must be finite"),
    ({"leader_payoffs": [["a"]], "follower_payoffs": [[0.0]]}, "leader_payoffs must be real"),
    ({"leader_payoffs": np.zeros((2, 0)), "follower_payoffs": np.zeros((2, 0))}, "every size >= 1"),
    ({"leader_payoffs": np.zeros((2, 2, 2)), "follower_payoffs": np.zeros((2, 2, 2)), "type_prior": [1.0]},
     "type_prior must have shape"),
    ({"leader_payoffs": np.zeros((2, 2, 2)), "follower_payoffs": np.zeros((2, 2, 2)), "type_prior": [1.5, -0.5]},
     "type_prior must lie in"),
    ({"leader_payoffs": np.zeros((2, 2, 2)), "follower_payoffs": np.zeros((2, 2, 2)), "type_prior": [0.5, 0.4]},
     "type_prior must sum to 1"),
])
def test_bad_games_are_rejected_naming_the_field(arguments, match):
    with pytest.raises(ValueError, match=match):
        MatrixGame(**arguments)


def test_a_game_stores_types_first_and_shares_a_leader_matrix():
    game = MatrixGame([[1, 2], [3, 4]], np.zeros((3, 2, 2)), [0.2, 0.3, 0.5])
    assert game.leader_payoffs.shape == game.follower_payoffs.shape == (3, 2, 2)
    assert (game.n_types, game.n_leader_actions, game.n_follower_actions) == (3, 2, 2)
    np.testing.assert_array_equal(game.leader_payoffs[2], [[1, 2], [3, 4]])
    assert MatrixGame([[1.0]], [[2.0]]).type_prior.tolist() == [1.0]
    assert game == game.replace() and game != game.replace(type_prior=[0.5, 0.25, 0.25])
    with pytest.raises(ValueError):
        game.leader_payoffs[0, 0, 0] = 5.0  # read-only


def test_strategies_are_checked():
    game = conitzer_sandholm()
    for bad, match in [([0.5], "shape"), ([0.7, 0.7], "sum to 1"), ([1.2, -0.2], ">= 0"), ([np.nan, 1.0], "finite")]:
        with pytest.raises(ValueError, match=match):
            evaluate_commitment(game, bad)


def test_ties_go_to_the_leader_within_the_tie_zone_only():
    game = conitzer_sandholm()  # at (1/2, 1/2) the follower is indifferent; Right is better for the leader
    assert follower_response(game, np.array([0.5, 0.5])).tolist() == [1]
    assert follower_response(game, np.array([0.5 + 1e-10, 0.5 - 1e-10])).tolist() == [1]  # within TIE_TOL
    assert follower_response(game, np.array([0.5 + 1e-8, 0.5 - 1e-8])).tolist() == [0]  # beyond it
    assert follower_scales(MatrixGame([[1.0]], [[0.0]])).tolist() == [1.0]


# ---------------------------------------------------------------------------------------------
# The solver against the literature and brute force
# ---------------------------------------------------------------------------------------------

def test_literature_values():
    result = solve(conitzer_sandholm())
    assert result.principal_value == pytest.approx(3.5) and result.method == "lp"
    np.testing.assert_allclose(result.theta, [0.5, 0.5], atol=1e-9)
    assert result.effort.tolist() == [1] and result.is_optimal
    assert best_pure_commitment(conitzer_sandholm()).principal_value == pytest.approx(3.0)
    assert [e.leader_value for e in nash_equilibria(conitzer_sandholm())] == pytest.approx([2.0])
    assert solve(paruchuri_example()).principal_value == pytest.approx(11 / 3)
    np.testing.assert_allclose(solve(paruchuri_example()).theta, [2 / 3, 1 / 3], atol=1e-9)
    assert solve(battle_of_the_sexes()).principal_value == pytest.approx(2.0)
    assert sorted(e.leader_value for e in nash_equilibria(battle_of_the_sexes())) == pytest.approx([2 / 3, 1.0, 2.0])
    pennies = solve(matching_pennies())
    # 0 up to what the follower's tie zone (1e-9 of its scale, ties to the leader) lets the leader shift
    assert pennies.principal_value == pytest.approx(0.0, abs=1e-8) and pennies.principal_value >= 0
    np.testing.assert_allclose(pennies.theta, [0.5, 0.5], atol=1e-8)
    (equilibrium,) = nash_equilibria(matching_pennies())
    np.testing.assert_allclose(equilibrium.leader_strategy, [0.5, 0.5])


def test_the_default_security_game_values_are_the_documented_ones():
    game = security_game()
    result = solve(game)
    assert result.method == "milp" and result.principal_value == pytest.approx(279 / 265)
    np.testing.assert_allclose(result.theta, np.array([11, 25, 17]) / 53, atol=1e-9)
    assert result.effort.tolist() == [1, 2] and result.certificate.optimality_gap <= 1e-6
    assert uniform_commitment(game).principal_value == pytest.approx(1 / 3)
    assert best_pure_commitment(game).principal_value == 0.0
    assert [e.leader_value for e in nash_equilibria(game)] == pytest.approx([0.75])


def _vertices(game: MatrixGame):
    """Every point of the simplex where ``m - 1`` of the facets, the indifference hyperplanes and the edges of the
    follower's tie zone (the hyperplanes shifted by the solvers' lead, ``incentive_lead(0, TIE_TOL)``) meet."""
    m = game.n_leader_actions
    planes = [(np.eye(m)[i], 0.0) for i in range(m)]
    edge = -incentive_lead(0.0, TIE_TOL)
    for k in range(game.n_types):
        S = game.follower_payoffs[k] / follower_scales(game)[k]
        for a, b in itertools.combinations(range(game.n_follower_actions), 2):
            normal = S[:, a] - S[:, b]
            length = max(float(np.abs(normal).max()), 1e-300)  # nearly equal columns: a plane all the same
            planes += [(normal / length, offset / length) for offset in (0.0, edge, -edge)]
    for chosen in itertools.combinations(planes, m - 1):
        system = np.vstack([np.ones(m), *(normal for normal, _ in chosen)])
        if abs(np.linalg.det(system)) < 1e-12:
            continue
        point = np.linalg.solve(system, np.array([1.0, *(offset for _, offset in chosen)]))
        if point.min() >= -1e-12:
            yield np.maximum(point, 0.0) / np.maximum(point, 0.0).sum()


def brute_force_value(game: MatrixGame, tie_tol: float = TIE_TOL) -> float:
    return max(evaluate_commitment(game, x, tie_tol).leader_value for x in _vertices(game))


def _payoffs(draw, shape, integers: bool) -> np.ndarray:
    if integers:  # small integers: many exact ties and degenerate games
        return np.array(draw(st.lists(st.integers(-3, 3), min_size=int(np.prod(shape)), max_size=int(np.prod(shape)))),
                        dtype=float).reshape(shape)
    return np.array(draw(st.lists(st.floats(-1, 1, allow_nan=False, width=32), min_size=int(np.prod(shape)),
                                  max_size=int(np.prod(shape))))).reshape(shape)


@st.composite
def small_games(draw, max_types: int = 3) -> MatrixGame:
    k, m, n = draw(st.integers(1, max_types)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    integers = draw(st.booleans())
    prior = np.array(draw(st.lists(st.integers(1, 5), min_size=k, max_size=k)), dtype=float)
    return MatrixGame(_payoffs(draw, (k, m, n), integers), _payoffs(draw, (k, m, n), integers), prior / prior.sum())


@settings(max_examples=150, deadline=None)
@given(small_games())
def test_the_solver_equals_brute_force_over_vertices(game):
    result = solve(game)
    scale = max(1.0, float(np.abs(game.leader_payoffs).max()))
    assert result.principal_value == pytest.approx(brute_force_value(game), abs=2e-6 * scale)
    # The returned strategy induces the returned responses and value under the game's own follower.
    outcome = evaluate_commitment(game, result.theta)
    assert outcome.leader_value == result.principal_value and outcome.responses.tolist() == result.effort.tolist()
    assert result.principal_value >= best_pure_commitment(game).principal_value - 1e-9 * scale
    assert result.principal_value >= uniform_commitment(game).principal_value - 1e-9 * scale


def assert_reaches_the_zone_brute_force(game: MatrixGame) -> None:
    """The solver reaches the brute force with its own zone (a hair inside the follower's), earns no more than the
    brute force with the follower's zone unless unproven, and its strategy earns its value against the follower."""
    result = solve(game)
    assert result.principal_value >= brute_force_value(game, -incentive_lead(0.0, TIE_TOL)) - 2e-6
    assert result.principal_value <= brute_force_value(game) + 2e-6 or result.certificate.optimality_gap > 0
    assert evaluate_commitment(game, result.theta).leader_value == result.principal_value


@pytest.mark.parametrize("seed", range(40))
def test_near_ties_inside_the_followers_tie_zone_are_the_leaders(seed):
    """Column 1 is column 0 plus noise of 1e-10..1e-8 of the follower's scale, and the leader prefers it: where the
    follower counts the two as tied the optimum must use it, as the env's follower would. The solver's tie zone is
    ``-incentive_lead(0, TIE_TOL)``, a hair inside the follower's (LP tolerance): the brute force with that zone is
    what it must reach; its strategy, scored by the follower's own zone, may earn more, never less."""
    rng = np.random.default_rng([23, seed])
    k, m, n = int(rng.integers(2, 4)), int(rng.integers(2, 4)), int(rng.integers(2, 4))
    leader, follower = rng.random((k, m, n)), rng.random((k, m, n))
    follower[:, :, 1] = follower[:, :, 0] + 10.0 ** rng.uniform(-10, -8) * rng.standard_normal((k, m))
    leader[:, :, 1] = leader[:, :, 0] + rng.uniform(0, 1, (k, m))
    assert_reaches_the_zone_brute_force(MatrixGame(leader, follower, rng.dirichlet(np.ones(k))))


@pytest.mark.parametrize("seed", range(30))
@pytest.mark.parametrize("factor", [0.3, 1.1, 3.0])
def test_nearly_proportional_columns_tie_only_where_the_follower_ties_them(seed, factor):
    """Column 1 of the follower's payoffs is ``1 - factor * TIE_TOL`` times column 0, and the leader prefers it: the
    follower ties the two only where its payoff is small enough (or everywhere). Their incentive rows have
    coefficients of about 1e-9, which HiGHS drops; held in their own units, the LP and the MILP reach the brute
    force over the tie zone's edges (the LPs had lost up to 13% of the value before)."""
    rng = np.random.default_rng([seed, 5])
    k, m, n = int(rng.integers(1, 3)), int(rng.integers(2, 4)), int(rng.integers(2, 4))
    leader, follower = rng.random((k, m, n)), rng.random((k, m, n))
    follower[:, :, 1] = follower[:, :, 0] * (1.0 - factor * TIE_TOL)
    leader[:, :, 1] = leader[:, :, 0] + rng.uniform(0, 1, (k, m))
    assert_reaches_the_zone_brute_force(MatrixGame(leader, follower, rng.dirichlet(np.ones(k))))


@settings(max_examples=60, deadline=None)
@given(small_games(max_types=1), st.integers(2, 3))
def test_dobss_on_copies_of_one_type_equals_the_lp(game, copies):
    """A second formulation: K identical follower types make the MILP solve the single-type game, which the LPs solve."""
    copied = MatrixGame(np.repeat(game.leader_payoffs, copies, axis=0), np.repeat(game.follower_payoffs, copies, axis=0))
    scale = max(1.0, float(np.abs(game.leader_payoffs).max()))
    assert solve(copied).principal_value == pytest.approx(solve(game).principal_value, abs=2e-6 * scale)


def _is_equilibrium(game: MatrixGame, equilibrium, tolerance: float = 1e-7) -> bool:
    """No profitable deviation, checked from the game's matrices (not the Harsanyi form the enumeration used)."""
    x, y, p = equilibrium.leader_strategy, equilibrium.follower_strategy, game.type_prior
    rows = np.einsum("k,kij,kj->i", p, game.leader_payoffs, y)  # each row's payoff against the types' strategies
    columns = np.einsum("i,kij->kj", x, game.follower_payoffs)  # each type's payoff of each column
    leader_ok = rows.max() <= x @ rows + tolerance and abs(x @ rows - equilibrium.leader_value) <= tolerance
    follower_ok = np.all(columns.max(axis=1) <= np.sum(columns * y, axis=1) + tolerance)
    return bool(leader_ok and follower_ok and np.allclose(y.sum(axis=1), 1.0))


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 4), st.integers(1, 4), st.integers(1, 2))
def test_commitment_is_worth_at_least_every_nash_equilibrium(seed, m, n, k):
    """von Stengel and Zamir (2010): the leader's Stackelberg value is at least its value in every Nash equilibrium
    (random continuous payoffs: nondegenerate, so support enumeration finds them all; there is at least one)."""
    game = random_matrix_game(np.random.default_rng(seed), m, n, k)
    equilibria = nash_equilibria(game)
    assert equilibria and all(_is_equilibrium(game, e) for e in equilibria)
    value = solve(game).principal_value
    assert all(value >= e.leader_value - 1e-9 for e in equilibria)


def test_harsanyi_form_of_one_type_is_the_game_itself():
    game = paruchuri_example()
    leader, follower, profiles = harsanyi_normal_form(game)
    np.testing.assert_array_equal(leader, game.leader_payoffs[0])
    np.testing.assert_array_equal(follower, game.follower_payoffs[0])
    assert profiles.tolist() == [[0], [1]]


def test_robust_optimum_needs_strict_incentives():
    game = conitzer_sandholm()
    robust = solve(game, margin=1e-3)
    assert robust.principal_value < solve(game).principal_value and robust.principal_value == pytest.approx(3.5, abs=1e-2)
    assert np.all(robust.certificate.incentive_margins >= 1e-3 - 1e-9)
    twins = MatrixGame([[1.0, 2.0]], [[1.0, 1.0]])  # two identical columns: never a strict best response
    with pytest.raises(ValueError, match="margin"):
        solve(twins, margin=1e-3)
    with pytest.raises(ValueError, match="margin"):
        solve(MatrixGame(np.zeros((2, 2, 2)), np.zeros((2, 2, 2))), margin=1e-3)
    assert profile_lp(twins, [0], margin=1e-3) is None


def test_the_solver_rejects_what_is_not_a_game():
    with pytest.raises(ValueError, match="game must be a MatrixGame"):
        solve("security_game")
    with pytest.raises(ValueError, match="margin"):
        solve(security_game(), margin=-1.0)


# ---------------------------------------------------------------------------------------------
# The envs
# ---------------------------------------------------------------------------------------------

def tied_game(seed: int) -> MatrixGame:
    """Random instances of every shape, a third with integer payoffs (exact ties), a third security games."""
    rng = np.random.default_rng([13, seed])
    kind = seed % 3
    if kind == 2:
        return random_security_game(rng, int(rng.integers(2, 5)), int(rng.integers(1, 4)))
    game = random_matrix_game(rng, int(rng.integers(1, 5)), int(rng.integers(1, 5)), int(rng.integers(1, 4)))
    if kind == 1:
        return game.replace(leader_payoffs=rng.integers(-3, 4, game.leader_payoffs.shape),
                            follower_payoffs=rng.integers(-3, 4, game.follower_payoffs.shape))
    return game


@pytest.mark.parametrize("seed", range(200))
def test_the_float32_encoding_of_the_optimum_earns_it(seed):
    game = tied_game(seed)
    result = solve(game)
    env = MatrixCommitmentEnv(game)
    env.reset(seed=0)
    earned = env.step(simplex_to_box(result.theta))[4]["leader_value"]
    scale = max(abs(result.principal_value), float(np.abs(game.leader_payoffs).max()))
    assert abs(earned - result.principal_value) <= 1e-6 * scale + 1e-12, (earned, result.principal_value)


def test_commitment_rewards_average_to_the_value_over_types():
    env = gym.make(COMMITMENT)  # security_game: two types
    action = simplex_to_box(np.array([11, 25, 17]) / 53)
    rewards, values = [], []
    env.reset(seed=0)
    for _ in range(4000):
        _, reward, _, _, info = env.step(action)
        rewards.append(reward)
        values.append(info["leader_value"])
        env.reset()
    assert values == pytest.approx([279 / 265] * len(values)) and len(set(rewards)) == 2  # one reward per type
    standard_error = np.std(rewards) / np.sqrt(len(rewards))
    assert abs(np.mean(rewards) - 279 / 265) <= 4.5 * standard_error


def test_the_follower_env_scores_exactly_and_plays_the_drawn_row():
    env = gym.make(FOLLOWER)  # the optimal security-game commitment
    unwrapped = env.unwrapped
    np.testing.assert_allclose(unwrapped.strategy, solve(security_game()).theta)
    best = follower_response(unwrapped.game, unwrapped.strategy)
    types = unwrapped.game.n_leader_actions
    policy = lambda obs: int(best[int(np.argmax(obs[types:]))])  # noqa: E731
    exact = score_policy(policy, env)
    assert exact.basis == "exact" and exact.mean == pytest.approx(624 / 265)
    played = [env.step(policy(env.reset(seed=seed)[0]))[1] for seed in range(4000)]
    assert abs(np.mean(played) - exact.mean) <= 4.5 * np.std(played) / np.sqrt(len(played))
    observation, info = env.reset(seed=1)
    np.testing.assert_array_equal(observation, follower_observation(unwrapped.game, unwrapped.strategy, info["type"]))
    _, reward, _, _, step_info = env.step(2)
    assert reward == unwrapped.game.follower_payoffs[info["type"], info["row"], 2] == step_info["follower_utility"]


def test_the_follower_env_takes_named_and_given_leaders():
    uniform = gym.make(FOLLOWER, leader="uniform").unwrapped.strategy
    np.testing.assert_allclose(uniform, [1 / 3] * 3)
    given_leader = gym.make(FOLLOWER, game=conitzer_sandholm(), leader=[0.25, 0.75]).unwrapped.strategy
    np.testing.assert_allclose(given_leader, [0.25, 0.75])
    for leader, match in [("best", "leader must be one of"), ([0.5, 0.6, 0.1], "sum to 1"), ([1.0], "shape")]:
        with pytest.raises(ValueError, match=match):
            gym.make(FOLLOWER, leader=leader)


def test_a_quantal_follower_replaces_the_rational_one():
    game = conitzer_sandholm()
    strategy = np.array([0.6, 0.4])
    np.testing.assert_allclose(QuantalFollower(0.0).probabilities(game, strategy, 0), [0.5, 0.5])
    assert QuantalFollower(200.0).probabilities(game, strategy, 0)[0] > 1 - 1e-6  # Left is the best response
    with pytest.raises(ValueError, match="beta"):
        QuantalFollower(-1.0)
    env = make_env(COMMITMENT, {"game": "conitzer_sandholm", "follower": {"name": "quantal", "beta": 2.0}})
    assert isinstance(env.unwrapped.agent, QuantalFollower) and env.unwrapped.score_basis == "sampled"
    env.reset(seed=0)
    _, reward, _, _, info = env.step(simplex_to_box(strategy))
    assert "leader_value" not in info and reward == pytest.approx(strategy @ game.leader_payoffs[0, :, info["column"]])
    with pytest.raises(NoExactReference, match="rational follower"):
        reference_values(COMMITMENT, {"follower": {"name": "quantal", "beta": 2.0}})
    with pytest.raises(ValueError, match="the follower"):
        gym.make(COMMITMENT, agent="myopic")


def test_a_follower_returning_a_bad_column_is_an_error():
    class Stray:
        def respond(self, game, strategy, follower_type, rng):
            return 7

    env = gym.make(COMMITMENT, agent=Stray())
    env.reset(seed=0)
    with pytest.raises(ValueError, match="column returned by agent.respond"):
        env.step(np.zeros(3, dtype=np.float32))


# ---------------------------------------------------------------------------------------------
# References
# ---------------------------------------------------------------------------------------------

def test_references_of_the_default_instances():
    commitment = reference_values(COMMITMENT)
    assert commitment.optimum == pytest.approx(279 / 265) and commitment.uniform == pytest.approx(1 / 3)
    assert commitment.baselines == pytest.approx({"best pure commitment": 0.0, "uniform commitment": 1 / 3,
                                                  "best Nash equilibrium": 0.75})
    assert commitment.score_basis == "exact" and commitment.optimum > commitment.robust_optimum > 0.99 * commitment.optimum
    follower = reference_values(FOLLOWER)
    assert follower.side == "agent" and follower.optimum == pytest.approx(624 / 265)
    assert follower.uniform == pytest.approx(follower.baselines["uniformly random column"])
    assert all(value <= follower.optimum + 1e-12 for value in follower.baselines.values())


def test_named_games_build_from_json():
    game = make_env(COMMITMENT, {"game": {"name": "random", "seed": 4, "n_leader_actions": 2, "n_types": 3}}).unwrapped.game
    assert game == random_matrix_game(np.random.default_rng(4), 2, 3, 3)
    fields = make_env(COMMITMENT, {"game": {"leader_payoffs": [[1, 0]], "follower_payoffs": [[0, 1]]}}).unwrapped.game
    assert fields == MatrixGame([[1, 0]], [[0, 1]])
    with pytest.raises(ValueError, match="game name must be one of"):
        make_env(COMMITMENT, {"game": "chess"})


def test_the_env_docstring_examples_run():
    import doctest

    import stratgym.envs.matrix as matrix_envs

    result = doctest.testmod(matrix_envs, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 10 and result.failed == 0


def test_bench_matrix_quick_prints_tables():
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    before = (root / "BENCHMARKS.md").read_bytes()
    done = subprocess.run([sys.executable, str(root / "scripts" / "bench_matrix.py"), "--quick", "--no-progress"],
                          cwd=root, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "| env | kind | steps/s (median) | × CartPole-v1 | target |" in done.stdout
    for env_id in (COMMITMENT, FOLLOWER):
        assert f"`{env_id}` | scalar" in done.stdout
    assert "| 1 | 5 | LP per column |" in done.stdout and "| 2 | 5 | DOBSS MILP + LP |" in done.stdout
    assert (root / "BENCHMARKS.md").read_bytes() == before  # without --write nothing is written
