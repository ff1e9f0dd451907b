"""Native vector envs beyond the default instances (tests/test_envs_registry.py covers those for every id): every
configuration equals scalar envs sharing its generator step for step; the batched rules of the pure cores equal
their one-env versions bit for bit (hypothesis); and SB3 trains on the native vector envs through
``stratgym.agents.vec``."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode
from hypothesis import example, given, settings
from hypothesis import strategies as st
from stable_baselines3 import DQN, PPO
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import DummyVecEnv, VecMonitor, VecNormalize

import stratgym  # noqa: F401  (registers the envs)
import stratgym.envs.persuasion as persuasion_envs
from stratgym.agents.responses import QuantalReceiver, QuantalResponse
from stratgym.agents.vec import EpisodeMonitor, NativeVecEnv, native_vec_env
from stratgym.envs.persuasion import (LearningReceiver, learning_follows, learning_update, penalized_value,
                                      quantal_choice, receiver_context, scheme_outcomes)
from stratgym.envs.persuasion.core import batch_last_simplex, cumulative_rows, draw_index, draw_indices
from stratgym.envs.spaces import box_to_simplex, simplex_to_box
from stratgym.games.behaviour import Lookahead
from stratgym.games.persuasion import best_responses, equivalence_regions, random_persuasion_game, weighted_payoffs
from stratgym.games.matrix import (MatrixGame, QuantalFollower, column_values, conitzer_sandholm, follower_scales,
                                   random_matrix_game, strong_response)
from stratgym.envs.population_core import PopulationRounds
from stratgym.games.population import StatefulPopulation, classroom_groups, population_outcome, random_population
from stratgym.games.stateful import classroom, classroom_project, random_game
from vector_reference import SharedStreamEnvs, compare

MODES = [AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP]


def _mixed_values_population() -> StatefulPopulation:
    """Three types of which two value efforts differently from the third (two orders of the tie rule), in groups."""
    types = (classroom_project(3), classroom_project(3, effort_value=[0.0, 1.0, 0.5], budget=0.5),
             classroom_project(3, initial_state=[0.0, 1.0, 0.0]))
    return StatefulPopulation(types, [0.5, 0.3, 0.2], ("a", "b", "a"))


def _concave_population() -> StatefulPopulation:
    types = (classroom_project(3, conversion="sqrt"), classroom_project(3, conversion="sqrt", budget=0.5))
    return StatefulPopulation(types, None, ("a", "b"))
seeds = st.integers(0, 2**32 - 1)


class NoisyAgent:
    """A custom stateful-game agent that draws: all budget on a random effort type, or nothing."""

    def respond(self, game, rule, state, round_index, rng):
        effort = np.zeros(game.n_efforts)
        choice = rng.integers(game.n_efforts + 1)
        if choice < game.n_efforts:
            effort[choice] = game.budget
        return effort


def random_plan(rng):
    return rng.dirichlet(np.ones(3), size=5)


class RandomFollower:
    """A custom matrix-game follower that draws: a uniformly random column (no batched rule covers it)."""

    def respond(self, game, strategy, follower_type, rng):
        return int(rng.integers(game.n_follower_actions))


#: Three follower types, four rows, five columns.
THREE_TYPES = random_matrix_game(np.random.default_rng(7), n_leader_actions=4, n_follower_actions=5, n_types=3)

CONFIGURATIONS = {
    "commitment myopic": ("stratgym/StatefulCommitment-v0", {"agent": "myopic"}),
    "commitment forecasting, classroom": ("stratgym/StatefulCommitment-v0",
                                          {"agent": "forecasting", "game": classroom(3)}),
    "commitment noisy agent": ("stratgym/StatefulCommitment-v0", {"agent": NoisyAgent()}),
    "commitment concave": ("stratgym/StatefulCommitment-v0", {"game": classroom(2, conversion="sqrt")}),
    "principal forecasting": ("stratgym/StatefulPrincipal-v0", {"agent": "forecasting"}),
    "principal quantal agent": ("stratgym/StatefulPrincipal-v0", {"agent": QuantalResponse(2.0, 1)}),
    "principal concave": ("stratgym/StatefulPrincipal-v0", {"game": classroom(2, conversion="log1p")}),
    "principal lookahead 2": ("stratgym/StatefulPrincipal-v0", {"agent": Lookahead(2)}),
    "commitment lookahead 2": ("stratgym/StatefulCommitment-v0", {"agent": Lookahead(2)}),
    "principal random game": ("stratgym/StatefulPrincipal-v0",
                              {"game": random_game(np.random.default_rng(4), horizon=4, n_features=3, n_efforts=2)}),
    "agent callable principal": ("stratgym/StatefulAgent-v0", {"principal": random_plan}),
    "agent concave": ("stratgym/StatefulAgent-v0", {"game": classroom(3, conversion="sqrt")}),
    "scheme sampled": ("stratgym/PersuasionScheme-v0", {"reward": "sampled"}),
    "scheme penalized": ("stratgym/PersuasionScheme-v0", {"reward": "penalized"}),
    "scheme quantal sampled": ("stratgym/PersuasionScheme-v0", {"reward": "sampled", "agent": 3.0}),
    "scheme quantal expected": ("stratgym/PersuasionScheme-v0", {"agent": 0.5}),
    "recommend without history": ("stratgym/PersuasionRecommend-v0", {"history": False}),
    "recommend pessimistic receiver": ("stratgym/PersuasionRecommend-v0",
                                       {"agent": LearningReceiver(initial_values=[0.0, 0.0, 0.0, 0.0])}),
    "recommend quantal receiver": ("stratgym/PersuasionRecommend-v0", {"agent": QuantalReceiver(4.0)}),
    "agent full revelation": ("stratgym/PersuasionAgent-v0", {"scheme": "full-revelation"}),
    "matrix commitment one type": ("stratgym/MatrixCommitment-v0", {"game": conitzer_sandholm()}),
    "matrix commitment three types": ("stratgym/MatrixCommitment-v0", {"game": THREE_TYPES}),
    "matrix commitment quantal": ("stratgym/MatrixCommitment-v0", {"agent": QuantalFollower(3.0)}),
    "matrix commitment quantal, one type": ("stratgym/MatrixCommitment-v0",
                                            {"game": conitzer_sandholm(), "agent": QuantalFollower(0.5)}),
    "matrix commitment quantal, three types": ("stratgym/MatrixCommitment-v0",
                                               {"game": THREE_TYPES, "agent": QuantalFollower(20.0)}),
    "matrix commitment custom follower": ("stratgym/MatrixCommitment-v0", {"agent": RandomFollower()}),
    "matrix follower one type": ("stratgym/MatrixFollower-v0", {"game": conitzer_sandholm(), "leader": [0.3, 0.7]}),
    "matrix follower three types": ("stratgym/MatrixFollower-v0", {"game": THREE_TYPES, "leader": "uniform"}),
    "agent no information": ("stratgym/PersuasionAgent-v0", {"scheme": "no-information"}),
    "stateful population per group": ("stratgym/StatefulPopulation-v0", {"per_group": True}),
    "stateful population myopic, three rounds": ("stratgym/StatefulPopulation-v0",
                                                 {"agent": "myopic", "population": classroom_groups(3)}),
    "stateful population, types valuing efforts differently": ("stratgym/StatefulPopulation-v0",
                                                               {"population": _mixed_values_population(),
                                                                "per_group": True}),
    "stateful population concave": ("stratgym/StatefulPopulation-v0", {"population": _concave_population()}),
    "stateful population random, myopic": ("stratgym/StatefulPopulation-v0",
                                           {"population": random_population(np.random.default_rng(3)),
                                            "agent": "myopic"}),
    "persuasion population, every applicant": ("stratgym/PersuasionPopulation-v0", {"split": "all"}),
    "persuasion population penalized": ("stratgym/PersuasionPopulation-v0",
                                        {"split": "evaluation", "reward": "penalized"}),
}


@pytest.mark.parametrize("mode", MODES, ids=lambda mode: mode.value)
@pytest.mark.parametrize("name", sorted(CONFIGURATIONS))
def test_every_configuration_equals_scalar_envs_sharing_the_generator(name, mode):
    env_id, kwargs = CONFIGURATIONS[name]
    native = gym.make_vec(env_id, num_envs=3, vectorization_mode="vector_entry_point", autoreset_mode=mode, **kwargs)
    steps = 110 if env_id == "stratgym/PersuasionRecommend-v0" else 14
    compare(native, SharedStreamEnvs(env_id, 3, mode, **kwargs), seed=11, n_steps=steps)


@pytest.mark.parametrize("population, per_group", [(classroom_groups(3), False), (_mixed_values_population(), True),
                                                   (_concave_population(), False)], ids=["classroom", "mixed", "concave"])
def test_stateful_population_core_steps_episodes_at_different_rounds_as_each_alone(population, per_group):
    # Vector envs keep their episodes in step; the core also takes a batch at different rounds (one marginal-value
    # table per episode), with each episode's own bits.
    rounds = PopulationRounds(population, Lookahead(None), per_group)
    rng = np.random.default_rng(5)
    rows = rounds.rule_rows

    def rules(k):
        return rng.dirichlet(np.ones(population.n_features), size=(k, rows))
    alone = [rounds.start(1) for _ in range(3)]
    for index in range(3):  # episode i plays i rounds first
        for _ in range(index):
            alone[index] = rounds.step(alone[index], rules(1), rng, 1e-9)[0]
    batch = type(alone[0])(*(np.concatenate(fields) for fields in zip(*alone)))
    assert sorted(batch.rounds.tolist()) == [0, 1, 2]
    faced = rules(3)
    after, rewards, info = rounds.step(batch, faced, rng, 1e-9)
    for index in range(3):
        one, reward, one_info = rounds.step(alone[index], faced[index:index + 1], rng, 1e-9)
        assert reward[0] == rewards[index]
        for field, value in zip(one, after):
            np.testing.assert_array_equal(field[0], value[index])
        for key in ("efforts", "features", "average_features"):
            np.testing.assert_array_equal(one_info[key][0], info[key][index])


@pytest.mark.parametrize("population, per_group, model", [
    (_mixed_values_population(), True, "forecasting"), (_mixed_values_population(), False, "myopic"),
    (random_population(np.random.default_rng(3)), True, "forecasting")], ids=["mixed per group", "mixed", "random"])
def test_stateful_population_vector_env_plays_what_the_solvers_play(population, per_group, model):
    # The core's stacked types and per-lambda tie rule against population_outcome (each type's own best response).
    env = gym.make_vec("stratgym/StatefulPopulation-v0", num_envs=4, vectorization_mode="vector_entry_point",
                       population=population, per_group=per_group, agent=model)
    env.reset(seed=0)
    rng = np.random.default_rng(2)
    shape = (len(population.group_names),) if per_group else ()
    theta = rng.dirichlet(np.ones(population.n_features), size=(4,) + shape + (population.horizon,))
    theta[0] = 1.0 / population.n_features  # the uniform rule: ties everywhere
    total, seen = np.zeros(4), []
    for t in range(population.horizon):
        _, reward, _, _, info = env.step(simplex_to_box(theta[..., t, :]))
        total += reward
        seen.append(info["rules"] if per_group else info["rules"][:, 0])  # the rules as the box maps them
    seen = np.stack(seen, axis=-2)
    for i in range(4):
        outcome = population_outcome(population, seen[i], model, per_group)
        assert total[i] == pytest.approx(outcome.principal_utility, abs=1e-9)
        for key, value in outcome.metrics.flat().items():
            assert info["metrics"][key][i] == pytest.approx(value, abs=1e-9, nan_ok=True), key


def test_an_info_where_nobody_plays_keeps_the_steps_layout_and_changing_it_changes_no_later_info():
    envs = gym.make_vec("stratgym/PersuasionScheme-v0", num_envs=2, vectorization_mode="vector_entry_point")
    envs.reset(seed=0)
    played = envs.step(envs.action_space.sample())[4]
    first = envs.step(envs.action_space.sample())[4]  # every sub-env is being reset (NEXT_STEP): nobody plays
    assert set(first) == set(played)
    assert not any(first[key].any() for key in first if key.startswith("_"))
    with pytest.raises(ValueError):
        first["_scheme"][0] = True  # read-only: the entries are shared between such steps
    first["episode"] = {"r": 1.0}  # as a statistics wrapper adds it
    envs.step(envs.action_space.sample())
    second = envs.step(envs.action_space.sample())[4]
    assert set(second) == set(played)


@pytest.mark.parametrize("mode", MODES, ids=lambda mode: mode.value)
@pytest.mark.parametrize("name", ["commitment myopic", "principal forecasting", "agent concave", "scheme sampled",
                                  "recommend without history", "matrix commitment three types",
                                  "stateful population per group", "persuasion population, every applicant"])
def test_without_info_the_episodes_are_the_same(name, mode):
    env_id, kwargs = CONFIGURATIONS[name]
    full, bare = (gym.make_vec(env_id, num_envs=3, vectorization_mode="vector_entry_point", autoreset_mode=mode,
                               **kwargs) for _ in range(2))
    bare.unwrapped.keep_info = False
    obs, info = full.reset(seed=5)
    bare_obs, bare_info = bare.reset(seed=5)
    np.testing.assert_array_equal(obs, bare_obs)
    assert bare_info == {}
    full.single_action_space.seed(1)
    for _ in range(12):
        actions = np.stack([full.single_action_space.sample() for _ in range(3)])
        out, bare_out = full.step(actions), bare.step(actions)
        for got, expected in zip(bare_out[:4], out[:4]):
            np.testing.assert_array_equal(got, expected)
        assert set(bare_out[4]) <= {"final_obs", "_final_obs", "final_info", "_final_info"}
        if "final_obs" in out[4]:
            np.testing.assert_array_equal(bare_out[4]["_final_obs"], out[4]["_final_obs"])
            for i in np.flatnonzero(out[4]["_final_obs"]):
                np.testing.assert_array_equal(bare_out[4]["final_obs"][i], out[4]["final_obs"][i])


def test_the_sb3_adapter_asks_for_no_info_unless_it_passes_some_on():
    assert native_vec_env("stratgym/StatefulAgent-v0", 2, monitor=False).envs.unwrapped.keep_info is False
    envs = gym.make_vec("stratgym/StatefulAgent-v0", num_envs=2, vectorization_mode="vector_entry_point",
                        autoreset_mode=AutoresetMode.SAME_STEP)
    assert NativeVecEnv(envs, info_keys=("effort",)).envs.unwrapped.keep_info is True


def test_the_vector_envs_autoreset_mode_is_checked():
    with pytest.raises(ValueError, match="autoreset_mode"):
        gym.make_vec("stratgym/StatefulPrincipal-v0", num_envs=2, vectorization_mode="vector_entry_point",
                     autoreset_mode=AutoresetMode.DISABLED)
    envs = gym.make_vec("stratgym/StatefulPrincipal-v0", num_envs=2, vectorization_mode="vector_entry_point",
                        autoreset_mode="SameStep")
    assert envs.metadata["autoreset_mode"] is AutoresetMode.SAME_STEP


def test_vector_docstring_examples_run():
    modules = [importlib.import_module(f"{persuasion_envs.__name__}.{info.name}")
               for info in pkgutil.iter_modules(persuasion_envs.__path__)]
    results = [doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE) for module in modules]
    assert sum(result.attempted for result in results) >= 4 and sum(result.failed for result in results) == 0


# ---------------------------------------------------------------------------------------------
# The batched rules of the cores, against their one-env versions
# ---------------------------------------------------------------------------------------------

def _random_regions(seed: int):
    rng = np.random.default_rng(seed)
    game = random_persuasion_game(rng, n_features=int(rng.integers(2, 4)), n_actions=int(rng.integers(2, 5)))
    return equivalence_regions(game), rng


@given(seed=seeds, widening=st.sampled_from([0.0, 1e-7, 1e-3]))
@example(seed=23, widening=1e-3)  # action 0 tied with a higher index: once decided for the higher one
@settings(max_examples=40, deadline=None)
def test_scheme_outcomes_equal_best_responses(seed, widening):
    """The same decisions, ties included (schemes from a small set of weights make exact and near ties common), and
    the same sums up to their last bits (one BLAS product for the batch, one per scheme for the scalar env)."""
    regions, rng = _random_regions(seed)
    weighted = weighted_payoffs(regions)
    raw = rng.choice([-1.0, 0.0, 1.0, 0.5], size=(6, regions.n_regions, regions.n_actions))
    schemes = box_to_simplex(raw)
    sums, responses, principal_value, agent_value, bic_slack = scheme_outcomes(weighted, schemes, 1e-9, widening)
    for k, scheme in enumerate(schemes):
        one = best_responses(weighted, scheme, 1e-9, widening)
        np.testing.assert_allclose(sums[k], one[0], rtol=1e-12, atol=1e-15)
        assert responses[k].tolist() == one[1]
        np.testing.assert_allclose([principal_value[k], agent_value[k], bic_slack[k]], one[2:], rtol=1e-12, atol=1e-15)


@given(seed=seeds, k=st.integers(1, 40), n_actions=st.integers(1, 5), dtype=st.sampled_from([np.float32, np.float64]))
@settings(max_examples=40, deadline=None)
def test_batch_last_schemes_are_box_to_simplex_bit_for_bit_and_score_alike(seed, k, n_actions, dtype):
    rng = np.random.default_rng(seed)
    actions = rng.uniform(-1, 1, (k, 3, n_actions)).astype(dtype)
    actions[0, 0] = np.nextafter(dtype(1), dtype(0))  # the largest and smallest entries inside the box
    actions[-1, -1] = np.nextafter(dtype(-1), dtype(0))
    schemes = batch_last_simplex(actions)
    assert schemes.base is not None and schemes.transpose(1, 2, 0).flags.c_contiguous  # laid out batch last
    np.testing.assert_array_equal(schemes, box_to_simplex(actions))
    weighted = rng.normal(size=(3, 2 * n_actions + 1))
    batch_last = scheme_outcomes(weighted, schemes, 1e-9)
    for got, expected in zip(batch_last, scheme_outcomes(weighted, box_to_simplex(actions), 1e-9)):
        np.testing.assert_array_equal(got, expected)


def test_scheme_vector_env_maps_the_box_edges_like_the_scalar_env():
    """Vertices (entries exactly -1 or 1) and all -1 rows (uniform) take simplex_action's path, not the batch-last
    one; both equal the scalar env."""
    native = gym.make_vec("stratgym/PersuasionScheme-v0", num_envs=3, vectorization_mode="vector_entry_point")
    reference = SharedStreamEnvs("stratgym/PersuasionScheme-v0", 3, AutoresetMode.NEXT_STEP)
    native.reset(seed=0)
    reference.reset(0)
    shape = native.single_action_space.shape
    vertices = np.where(np.arange(shape[1]) == np.arange(shape[0])[:, None] % shape[1], 1.0, -1.0)
    for actions in (np.stack([vertices, -np.ones(shape), np.zeros(shape)]).astype(np.float32),
                    np.random.default_rng(0).uniform(-1, 1, (3,) + shape).astype(np.float32)):
        for _ in range(2):  # a step, then the autoreset
            _, rewards, _, _, info = native.step(actions)
            _, expected, _, _, infos, _ = reference.step(actions, native.action_space)
            np.testing.assert_allclose(rewards, expected, rtol=1e-12)
            for i, entries in enumerate(infos):
                for kind, values in entries:
                    for key, value in values.items():
                        np.testing.assert_allclose(info[key][i], value, rtol=1e-12, err_msg=key)


@given(seed=seeds, beta=st.sampled_from([0.0, 0.7, 30.0]))
@settings(max_examples=25, deadline=None)
def test_quantal_and_penalized_values_of_a_batch_equal_one_scheme_at_a_time(seed, beta):
    regions, rng = _random_regions(seed)
    weighted = weighted_payoffs(regions)
    schemes = box_to_simplex(rng.uniform(-1, 1, (5, regions.n_regions, regions.n_actions)))
    sums = scheme_outcomes(weighted, schemes, 1e-9)[0]
    choice, principal, agent = quantal_choice(sums, beta)
    reward, violation = penalized_value(sums, 3.0, 0.01)
    for k in range(len(schemes)):
        one_choice, one_principal, one_agent = quantal_choice(sums[k], beta)
        np.testing.assert_array_equal(choice[k], one_choice)
        assert (principal[k], agent[k]) == (one_principal, one_agent)
        assert (reward[k], violation[k]) == penalized_value(sums[k], 3.0, 0.01)


def _strong_response_by_hand(game, follower, leader, tie_tol):
    """Each type's column in plain Python from its column values ``(K, n)``: the columns within ``tie_tol`` units of
    the best, the leader's best of them, then the lowest index."""
    columns = []
    for k in range(game.n_types):
        values, payoffs = follower[k].tolist(), leader[k].tolist()
        tied = [j for j, value in enumerate(values) if value >= max(values) - tie_tol * follower_scales(game)[k]]
        columns.append(max(tied, key=lambda j: (payoffs[j], -j)))
    return columns


@given(seed=seeds, tie_tol=st.sampled_from([0.0, 1e-9, 0.05]))
@settings(max_examples=40, deadline=None)
def test_strong_responses_of_a_batch_equal_one_strategy_by_hand(seed, tie_tol):
    """Integer payoffs and strategies on a coarse grid make exact ties common; one-hot and uniform ones included.
    One strategy's own product may differ from the batch's in the last bits, which only a zero tolerance sees."""
    rng = np.random.default_rng(seed)
    m, n, k = (int(size) for size in rng.integers(1, 5, size=3))
    game = MatrixGame(rng.integers(-2, 3, (k, m, n)), rng.integers(-2, 3, (k, m, n)))
    strategies = rng.integers(0, 3, (7, m)).astype(float) + np.eye(7, m)
    strategies[strategies.sum(axis=1) == 0] = 1.0
    strategies /= strategies.sum(axis=1, keepdims=True)
    follower, leader = column_values(game, strategies)
    responses = strong_response(game, follower, leader, tie_tol)
    assert responses.shape == (7, k)
    for index, (strategy, response) in enumerate(zip(strategies, responses)):
        assert response.tolist() == _strong_response_by_hand(game, follower[index], leader[index], tie_tol)
        # The same values through one strategy's path (plain Python): the same columns, at any tolerance.
        assert strong_response(game, follower[index], leader[index], tie_tol).tolist() == response.tolist()
        if tie_tol > 0:
            assert strong_response(game, *column_values(game, strategy), tie_tol).tolist() == response.tolist()


@given(seed=seeds)
@settings(max_examples=40, deadline=None)
def test_one_strategys_strong_response_keeps_numpys_nan_rule(seed):
    """NaN column values (not reachable from a checked strategy) pick the same columns in Python as numpy's
    maxima, which propagate NaN."""
    rng = np.random.default_rng(seed)
    k, n = (int(size) for size in rng.integers(1, 5, size=2))
    game = MatrixGame(rng.integers(-2, 3, (k, 2, n)), rng.integers(-2, 3, (k, 2, n)))
    follower, leader = rng.integers(-2, 3, (2, k, n)).astype(float)
    for values in (follower, leader):
        values[rng.random((k, n)) < 0.3] = np.nan
    one, batch = strong_response(game, follower, leader), strong_response(game, follower[None], leader[None])[0]
    assert one.tolist() == batch.tolist() and one.dtype == batch.dtype == np.int64


@given(seed=seeds, beta=st.sampled_from([0.0, 0.7, 30.0]))
@settings(max_examples=25, deadline=None)
def test_quantal_follower_probabilities_of_a_batch_equal_one_strategy_at_a_time(seed, beta):
    rng = np.random.default_rng(seed)
    game = random_matrix_game(rng, int(rng.integers(1, 5)), int(rng.integers(1, 6)), int(rng.integers(1, 4)))
    strategies = rng.dirichlet(np.ones(game.n_leader_actions), size=6)
    types = rng.integers(game.n_types, size=6)
    follower = QuantalFollower(beta)
    batch = follower.choice_probabilities(game, column_values(game, strategies)[0][np.arange(6), types], types)
    for strategy, follower_type, probabilities in zip(strategies, types, batch):
        np.testing.assert_allclose(probabilities, follower.probabilities(game, strategy, follower_type), rtol=1e-13)


@given(seed=seeds, size=st.integers(1, 9))
@settings(max_examples=40, deadline=None)
def test_batched_draws_equal_one_draw_at_a_time(seed, size):
    rng = np.random.default_rng(seed)
    rows = box_to_simplex(rng.choice([-1.0, 0.0, 1.0], size=(20, size)))
    cumulative = cumulative_rows(rows)
    np.testing.assert_array_equal(cumulative, np.cumsum(rows, axis=1))
    u = np.concatenate([rng.random(18), [0.0, np.nextafter(1.0, 0.0)]])
    u[:size] = cumulative[0, :size]  # exactly on the steps of the first row's CDF
    expected_rows = [draw_index(row.tolist(), x) for row, x in zip(cumulative, u)]
    np.testing.assert_array_equal(draw_indices(cumulative, u), expected_rows)
    np.testing.assert_array_equal(draw_indices(cumulative[0], u), [draw_index(cumulative[0].tolist(), x) for x in u])


@given(seed=seeds)
@settings(max_examples=25, deadline=None)
def test_learning_receivers_of_a_batch_learn_like_one_receiver_each(seed):
    rng = np.random.default_rng(seed)
    game = random_persuasion_game(rng, n_features=2, n_actions=int(rng.integers(2, 5)))
    regions = equivalence_regions(game)
    context = receiver_context(game, regions)
    receivers = [LearningReceiver() for _ in range(4)]
    for receiver in receivers:
        receiver.reset(context)
    values = np.array([r.values for r in receivers])
    counts = np.array([r.counts for r in receivers])
    for _ in range(30):
        recommendation = rng.integers(regions.n_actions, size=4)
        follows = learning_follows(values, context.default_action, receivers[0].benchmark)
        taken = np.where(follows[np.arange(4), recommendation], recommendation, context.default_action)
        utility = rng.choice([-0.5, 0.0, 0.5, 1.0], size=4)
        learning_update(values, counts, recommendation, taken, utility)
        for i, receiver in enumerate(receivers):
            assert receiver.respond(int(recommendation[i])) == taken[i]
            receiver.update(int(recommendation[i]), int(taken[i]), float(utility[i]))
            np.testing.assert_array_equal(values[i], receiver.values)
            np.testing.assert_array_equal(counts[i], receiver.counts)


# ---------------------------------------------------------------------------------------------
# Stable-Baselines3 on the native vector envs
# ---------------------------------------------------------------------------------------------

def test_the_adapter_needs_same_step_autoreset():
    envs = gym.make_vec("stratgym/StatefulPrincipal-v0", num_envs=2, vectorization_mode="vector_entry_point")
    with pytest.raises(ValueError, match="SAME_STEP"):
        NativeVecEnv(envs)
    with pytest.raises(ValueError, match="not registered"):
        native_vec_env("stratgym/Nothing-v0", 2)


@pytest.mark.parametrize("env_id", ["stratgym/StatefulPrincipal-v0", "stratgym/StatefulAgent-v0",
                                    "stratgym/StatefulCommitment-v0", "stratgym/PersuasionScheme-v0"])
def test_the_adapter_steps_like_sb3s_own_vec_env_where_nothing_is_drawn(env_id):
    """SB3's DummyVecEnv (make_vec_env) and the adapter on the same actions: the same observations, rewards, dones
    and terminal observations (a fixed plan for the agent env, so that neither draws)."""
    kwargs = {}
    if env_id == "stratgym/StatefulAgent-v0":
        kwargs["principal"] = np.full((5, 3), 1 / 3)
    ours = native_vec_env(env_id, 3, seed=0, env_kwargs=kwargs, monitor=False)
    theirs = make_vec_env(env_id, n_envs=3, seed=0, env_kwargs=kwargs)
    np.testing.assert_allclose(ours.reset(), theirs.reset(), rtol=3e-7)
    ours.action_space.seed(0)
    for _ in range(13):
        actions = np.array([ours.action_space.sample() for _ in range(3)])
        obs, rewards, dones, infos = ours.step(actions)
        obs_theirs, rewards_theirs, dones_theirs, infos_theirs = theirs.step(actions)
        np.testing.assert_allclose(obs, obs_theirs, rtol=3e-7, atol=1e-7)
        np.testing.assert_allclose(rewards, rewards_theirs, rtol=1e-6)
        np.testing.assert_array_equal(dones, dones_theirs)
        for mine, expected in zip(infos, infos_theirs):
            assert mine["TimeLimit.truncated"] == expected["TimeLimit.truncated"]
            assert ("terminal_observation" in mine) == ("terminal_observation" in expected)
            if "terminal_observation" in mine:
                np.testing.assert_allclose(mine["terminal_observation"], expected["terminal_observation"], rtol=3e-7)


def test_time_limits_reach_sb3_as_truncations():
    vec_env = native_vec_env("stratgym/PersuasionRecommend-v0", 2, seed=1, monitor=False)
    vec_env.reset()
    for step in range(100):
        _, _, dones, infos = vec_env.step(np.zeros(2, dtype=np.int64))
        assert dones.all() == (step == 99)
    assert all(info["TimeLimit.truncated"] for info in infos) and all("terminal_observation" in i for i in infos)


@pytest.mark.parametrize("env_id", sorted(env_id for env_id in gym.registry if env_id.startswith("stratgym/")))
def test_sb3_learns_on_every_native_vector_env(env_id):
    """A short PPO learn through the adapter (and VecNormalize over it), and DQN where the actions are discrete:
    SB3's rollout collection, episode logging (VecMonitor) and replay buffer accept it."""
    vec_env = VecNormalize(native_vec_env(env_id, 8, seed=0))
    model = PPO("MlpPolicy", vec_env, n_steps=128, batch_size=256, n_epochs=1, seed=0).learn(1024)
    assert model.num_timesteps == 1024 and len(model.ep_info_buffer) > 0  # episodes of up to 100 steps ended
    if isinstance(vec_env.action_space, gym.spaces.Discrete):
        model = DQN("MlpPolicy", native_vec_env(env_id, 4, seed=0), learning_starts=16, buffer_size=128, seed=0)
        assert model.learn(128).num_timesteps >= 128


@pytest.mark.parametrize("env_id", ["stratgym/StatefulCommitment-v0", "stratgym/StatefulPrincipal-v0"])
def test_episode_monitor_reports_what_vec_monitor_reports(env_id, tmp_path):
    """The adapter's EpisodeMonitor against SB3's VecMonitor over the same native env and actions: the same
    observations, rewards, dones and infos, episode returns and lengths of the same values and types, the same
    episode count and results file (one-round and multi-round episodes)."""
    def monitored(monitor, name):
        vec_env = monitor(NativeVecEnv(gym.make_vec(env_id, num_envs=5, vectorization_mode="vector_entry_point",
                                                    autoreset_mode=AutoresetMode.SAME_STEP)),
                          filename=str(tmp_path / name), info_keywords=("TimeLimit.truncated",))
        vec_env.seed(3)
        return vec_env, vec_env.reset()

    (ours, first), (theirs, reference) = monitored(EpisodeMonitor, "ours"), monitored(VecMonitor, "theirs")
    np.testing.assert_array_equal(first, reference)
    rng = np.random.default_rng(0)
    for _ in range(60):
        actions = rng.uniform(-1.0, 1.0, size=(5,) + ours.action_space.shape).astype(np.float32)
        ours.step_async(actions)
        theirs.step_async(actions)
        (obs, rewards, dones, infos), (obs_ref, rewards_ref, dones_ref, infos_ref) = ours.step_wait(), theirs.step_wait()
        for got, want in ((obs, obs_ref), (rewards, rewards_ref), (dones, dones_ref)):
            np.testing.assert_array_equal(got, want)
        for info, info_ref in zip(infos, infos_ref):
            assert info.keys() == info_ref.keys()
            if "episode" in info:
                for key in ("r", "l", "TimeLimit.truncated"):
                    assert info["episode"][key] == info_ref["episode"][key]
                    assert type(info["episode"][key]) is type(info_ref["episode"][key])
    assert ours.episode_count == theirs.episode_count > 0
    ours.close()
    theirs.close()
    rows = [np.loadtxt(tmp_path / f"{name}.monitor.csv", delimiter=",", skiprows=2, usecols=(0, 1))
            for name in ("ours", "theirs")]
    np.testing.assert_array_equal(*rows)


def test_training_runs_on_the_native_vector_env_with_more_than_one_env():
    from stratgym.agents.train import train

    hyperparams = {"n_envs": 4, "policy": "MlpPolicy", "n_steps": 8, "batch_size": 32, "n_epochs": 1}
    result = train("stratgym/StatefulPrincipal-v0", "ppo", seed=0, n_timesteps=64, hyperparams=hyperparams,
                   eval_freq=64, n_eval_episodes=1, progress_bar=False)
    env = result.model.get_env()
    assert isinstance(env, VecMonitor) and isinstance(env.venv, NativeVecEnv) and env.num_envs == 4
    again = train("stratgym/StatefulPrincipal-v0", "ppo", seed=0, n_timesteps=64, hyperparams=hyperparams,
                  eval_freq=64, n_eval_episodes=1, progress_bar=False)
    np.testing.assert_array_equal(result.curve.mean_returns, again.curve.mean_returns)
    single = train("stratgym/StatefulPrincipal-v0", "ppo", seed=0, n_timesteps=64, progress_bar=False,
                   hyperparams=dict(hyperparams, n_envs=1, batch_size=8), eval_freq=64, n_eval_episodes=1)
    assert isinstance(single.model.get_env(), DummyVecEnv)  # one env: SB3's make_vec_env, as before
