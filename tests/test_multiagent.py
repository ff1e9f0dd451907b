"""Registry-wide tests of the PettingZoo envs (every module in ``stratgym.multiagent.ENVIRONMENTS``), run for real:
PettingZoo's ``api_test``, ``parallel_api_test``, ``seed_test`` and ``parallel_seed_test``, pickling, invalid
actions, the move order of the two shells; then each game's payoffs against the exact solvers."""

from __future__ import annotations

import doctest
import importlib
import pickle
import warnings

import numpy as np
import pytest
from gymnasium.utils.env_checker import data_equivalence
from pettingzoo import AECEnv, ParallelEnv
from pettingzoo.test import api_test, parallel_api_test, parallel_seed_test, seed_test

from stratgym.baselines.matrix import nash_equilibria
from stratgym.baselines.matrix import solve as solve_matrix
from stratgym.baselines.signaling import no_information, optimal_scheme
from stratgym.baselines.stateful import solve
from stratgym.envs.spaces import simplex_to_box
from stratgym.games.matrix import column_values, random_matrix_game, security_game, strong_response
from stratgym.games.persuasion import equivalence_regions, prosecutor, random_persuasion_game
from stratgym.games.stateful import best_response, classroom, classroom_project, rollout
from stratgym.multiagent import ENVIRONMENTS, matrix_v0, persuasion_v0, stateful_v0
from stratgym.multiagent.base import AGENT, PRINCIPAL, play_episode

MODULES = [importlib.import_module(f"stratgym.multiagent.{name}") for name in ENVIRONMENTS]
#: What api_test says about any principal–agent env: the two players observe different things, by design.
INHERENT_WARNINGS = {"Agents have different observation space sizes", "Observations are different shapes"}


@pytest.fixture(params=MODULES, ids=ENVIRONMENTS)
def module(request):
    return request.param


def _caught(function, *args, **kwargs) -> set[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        function(*args, **kwargs)
    return {str(warning.message) for warning in caught}


def test_every_module_is_listed_and_has_both_constructors():
    assert set(ENVIRONMENTS) == {"stateful_v0", "persuasion_v0", "matrix_v0"}
    for module in MODULES:
        assert isinstance(module.env(), AECEnv) and isinstance(module.parallel_env(), ParallelEnv)
        assert module.env().metadata["name"] == module.NAME == module.__name__.rsplit(".", 1)[1]


def test_pettingzoo_api_test_passes(module):
    assert _caught(api_test, module.env(), num_cycles=60) <= INHERENT_WARNINGS


def test_pettingzoo_parallel_api_test_passes(module):
    assert _caught(parallel_api_test, module.parallel_env(), num_cycles=60) == set()


def test_pettingzoo_seed_tests_pass(module):
    assert _caught(seed_test, module.env, num_cycles=30) == set()
    assert _caught(parallel_seed_test, module.parallel_env, num_cycles=30) == set()


def _random_rollout(shell, seed: int, steps: int) -> list:
    """A seeded AEC rollout with seeded sampled actions, over several episodes."""
    shell.reset(seed=seed)
    for i, player in enumerate(shell.possible_agents):
        shell.action_space(player).seed(seed + i)
    records = []
    for _ in range(steps):
        if not shell.agents:
            shell.reset()
        player = shell.agent_selection
        observation, reward, terminated, truncated, info = shell.last()
        records.append((player, observation, reward, terminated, truncated, info))
        shell.step(None if terminated or truncated else shell.action_space(player).sample())
    return records


def test_different_seeds_give_different_episodes_and_equal_seeds_equal_ones(module):
    first, second, other = (_random_rollout(module.env(), seed, 40) for seed in (1, 1, 2))
    assert data_equivalence(first, second, exact=True)
    assert not data_equivalence(first, other, exact=True)


def test_a_pickled_env_continues_exactly(module):
    shell = module.env()
    shell.reset(seed=4)
    shell.step(shell.action_space(PRINCIPAL).sample())
    copy = pickle.loads(pickle.dumps(shell))
    for player, space in ((p, shell.action_space(p)) for p in shell.possible_agents):
        space.seed(9)
        copy.action_space(player).seed(9)
    for _ in range(12):
        if not shell.agents:
            shell.reset()
            copy.reset()
        player = shell.agent_selection
        done = shell.terminations[player] or shell.truncations[player]
        action = None if done else shell.action_space(player).sample()
        assert data_equivalence(action, None if done else copy.action_space(player).sample(), exact=True)
        shell.step(action)
        copy.step(action)
        assert shell.agents == copy.agents
        if shell.agents:
            assert data_equivalence(shell.last(), copy.last(), exact=True)


def _invalid(space) -> list:
    if hasattr(space, "n"):
        return [space.n, -1, np.nan, np.array([0, 0])]
    nan = np.zeros(space.shape, dtype=np.float32)
    nan[0] = np.nan
    return [nan, np.full(space.shape, 1.5, dtype=np.float32), np.zeros(space.shape[0] + 1, dtype=np.float32)]


def test_invalid_actions_raise_value_error_and_change_nothing(module):
    shell, reference = module.env(), module.env()
    shell.reset(seed=0)
    reference.reset(seed=0)
    for player in (PRINCIPAL, AGENT):
        for action in _invalid(shell.action_space(player)):
            with pytest.raises(ValueError):
                shell.step(action)
        action = shell.action_space(player).sample()
        shell.step(action)
        reference.step(action)
        assert data_equivalence(shell.last(), reference.last(), exact=True)
    parallel, parallel_reference = module.parallel_env(), module.parallel_env()
    parallel.reset(seed=0)
    parallel_reference.reset(seed=0)
    good = {player: parallel.action_space(player).sample() for player in parallel.agents}
    for player in (PRINCIPAL, AGENT):
        for action in _invalid(parallel.action_space(player)):
            with pytest.raises(ValueError):
                parallel.step(dict(good, **{player: action}))
    with pytest.raises(ValueError, match="one action for each"):
        parallel.step({PRINCIPAL: good[PRINCIPAL]})
    assert data_equivalence(parallel.step(good), parallel_reference.step(good), exact=True)


def test_render_and_bad_arguments(module):
    shell = module.env(render_mode="ansi")
    shell.reset(seed=0)
    shell.step(shell.action_space(PRINCIPAL).sample())
    shell.step(shell.action_space(AGENT).sample())
    assert shell.render().startswith(f"{module.NAME}: round 1/")
    assert module.env().render() is None
    with pytest.raises(ValueError, match="render_mode"):
        module.env(render_mode="human")
    with pytest.raises(ValueError, match="game"):
        module.env(game="classroom")
    with pytest.raises(ValueError, match="seed"):
        module.env().reset(seed=-1)


def test_the_headers_run_as_doctests(module):
    assert doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE).failed == 0


# ---------------------------------------------------------------------------------------------
# Move order: only the AEC agent sees the principal's move of the round
# ---------------------------------------------------------------------------------------------

def test_the_aec_agent_sees_this_rounds_rule_and_the_parallel_agent_does_not():
    game = classroom(horizon=3)
    T, d = game.horizon, game.n_efforts
    rule = np.array([-1.0, 1.0], dtype=np.float32)
    shell = stateful_v0.env(game)
    shell.reset(seed=0)
    shell.step(rule)
    assert np.array_equal(shell.observe(AGENT)[T + 1 + d:], [0.0, 1.0])
    parallel = stateful_v0.parallel_env(game)
    observations, _ = parallel.reset(seed=0)
    assert np.array_equal(observations[AGENT][T + 1 + d:], [0.0, 0.0])
    observations, *_ = parallel.step({PRINCIPAL: rule, AGENT: np.zeros(d + 1, dtype=np.float32)})
    assert np.array_equal(observations[AGENT][T + 1 + d:], [0.0, 0.0])
    assert observations[AGENT][1] == 1.0 and observations[PRINCIPAL][1] == 1.0  # round 2 (one-hot)


def test_the_aec_persuasion_agent_hears_the_recommendation_and_the_parallel_one_hears_nothing():
    shell = persuasion_v0.env()
    shell.reset(seed=0)
    assert np.array_equal(shell.observe(AGENT), [0, 0, 1])
    shell.step(1)
    assert np.array_equal(shell.observe(AGENT), [0, 1, 0])
    parallel = persuasion_v0.parallel_env(rounds=2)
    observations, _ = parallel.reset(seed=0)
    observations, *_ = parallel.step({PRINCIPAL: 1, AGENT: 0})
    assert np.array_equal(observations[AGENT], [0, 0, 1])


def test_the_aec_follower_sees_the_commitment_and_its_type_and_the_parallel_one_only_its_type():
    game = random_matrix_game(np.random.default_rng(3), n_leader_actions=3, n_follower_actions=2, n_types=2)
    action = np.array([1.0, -1.0, -1.0], dtype=np.float32)  # x = e_0
    shell = matrix_v0.env(game, rounds=3)
    shell.reset(seed=0)
    before = shell.observe(AGENT)
    assert np.array_equal(before[:3], [0, 0, 0]) and before[3:].sum() == 1
    shell.step(action)
    assert np.array_equal(shell.observe(AGENT)[:3], [1, 0, 0])
    assert shell.unwrapped.game.follower_context(shell.observe(AGENT)) == int(np.argmax(before[3:]))
    parallel = matrix_v0.parallel_env(game, rounds=3)
    observations, _ = parallel.reset(seed=0)
    observations, *_ = parallel.step({PRINCIPAL: action, AGENT: 0})
    assert np.array_equal(observations[AGENT][:3], [0, 0, 0])
    assert observations[PRINCIPAL][1] == 1.0  # round 2 (one-hot)


# ---------------------------------------------------------------------------------------------
# Payoffs against the exact solvers
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("game", [classroom_project(5), classroom(4)], ids=["classroom_project", "classroom"])
def test_stateful_rewards_are_the_games_utilities_and_the_optimum_is_reached(game):
    optimum = solve(game, "rational")
    effort = best_response(game, optimum.theta, "rational").effort
    actions = simplex_to_box(np.c_[effort / game.budget, game.budget - effort.sum(axis=1)] + 0.0)
    rules = simplex_to_box(optimum.theta)
    returns = {PRINCIPAL: 0.0, AGENT: 0.0}
    shell = stateful_v0.env(game)
    shell.reset(seed=0)
    for t in range(game.horizon):
        shell.step(rules[t])
        shell.step(actions[t])
        for player in returns:
            returns[player] += shell.rewards[player]
    assert all(shell.terminations.values())
    assert returns[PRINCIPAL] == pytest.approx(optimum.principal_value)
    assert returns[AGENT] == pytest.approx(float(rollout(game, optimum.theta, effort).agent_utility))


def test_stateful_outcome_of_the_optimal_plan_and_best_response_has_no_regret():
    game = classroom_project(4)
    optimum = solve(game, "rational")
    effort = best_response(game, optimum.theta, "rational").effort
    plan_actions = simplex_to_box(optimum.theta)
    effort_actions = simplex_to_box(np.c_[effort, game.budget - effort.sum(axis=1)])
    T = game.horizon
    policies = {PRINCIPAL: lambda obs: plan_actions[int(np.argmax(obs[:T + 1]))],
                AGENT: lambda obs: effort_actions[int(np.argmax(obs[:T + 1]))]}
    result = stateful_v0.outcome(stateful_v0.env(game), policies)
    assert result["principal_value"] == pytest.approx(optimum.principal_value)
    assert result["agent_regret"] == pytest.approx(0.0, abs=1e-6)
    lazy = dict(policies, **{AGENT: lambda obs: np.full(game.n_efforts + 1, -1.0, dtype=np.float32)})
    lazy_result = stateful_v0.outcome(stateful_v0.parallel_env(game), lazy)  # the same on either shell
    assert lazy_result["agent_regret"] == pytest.approx(result["agent_best_value"] - lazy_result["agent_value"])
    assert lazy_result["agent_regret"] > 0.1


@pytest.mark.parametrize("seed", range(4))
def test_persuasion_outcome_matches_the_lp_and_sampled_rounds(seed):
    game = prosecutor() if seed == 0 else random_persuasion_game(np.random.default_rng(seed), prior="finite")
    regions = equivalence_regions(game)
    lp = optimal_scheme(regions)
    obedient = persuasion_v0.outcome(regions, lp.scheme, np.arange(regions.n_actions))
    assert obedient["principal_value"] == pytest.approx(lp.principal_value, abs=1e-7)
    assert obedient["agent_regret"] == pytest.approx(0.0, abs=1e-7)  # the LP's scheme is BIC
    blind = persuasion_v0.outcome(regions, lp.scheme, np.full(regions.n_actions, no_information(regions).scheme[0].argmax()),
                                  informed=False)
    assert blind["principal_value"] == pytest.approx(no_information(regions).principal_value, abs=1e-7)
    assert blind["agent_regret"] == pytest.approx(0.0, abs=1e-7)
    # Sampled rounds of the AEC env with the LP's scheme and obedience average to the LP value.
    rng = np.random.default_rng(seed + 100)  # not the env's seed: equal streams would correlate the two draws
    shell = persuasion_v0.env(game, regions, rounds=4000)
    policies = {PRINCIPAL: lambda obs: int(rng.choice(regions.n_actions, p=lp.scheme[int(np.argmax(obs))])),
                AGENT: lambda obs: int(np.argmax(obs))}
    infos = play_episode(shell, policies, seed=seed)
    values = np.array([info["principal_utility"] for info in infos])
    assert abs(values.mean() - lp.principal_value) <= 4 * values.std() / np.sqrt(len(values)) + 1e-9
    assert all(np.array_equal(info["agent_payoffs"], regions.agent_payoffs[info["region"]]) for info in infos)


def test_persuasion_rejects_bad_rounds_and_foreign_regions():
    with pytest.raises(ValueError, match="rounds"):
        persuasion_v0.env(rounds=0)
    with pytest.raises(ValueError, match="regions"):
        persuasion_v0.env(game=prosecutor(0.4), regions=equivalence_regions(prosecutor()))


@pytest.mark.parametrize("seed", range(6))
def test_matrix_rewards_are_the_expected_payoffs_and_the_strong_response_earns_the_stackelberg_value(seed):
    game = security_game() if seed == 0 else random_matrix_game(np.random.default_rng(seed), n_leader_actions=3,
                                                                n_follower_actions=3, n_types=1 + seed % 3)
    optimum = solve_matrix(game)
    follower, leader = column_values(game, optimum.theta)
    columns = strong_response(game, follower, leader)
    result = matrix_v0.outcome(game, optimum.theta, columns)
    assert result["principal_value"] == pytest.approx(optimum.principal_value, abs=1e-7)
    assert result["agent_regret"] == pytest.approx(0.0, abs=1e-7)
    # Every Nash equilibrium of the simultaneous game gives the leader at most the Stackelberg value.
    assert all(e.leader_value <= optimum.principal_value + 1e-7 for e in nash_equilibria(game))
    # Sampled rounds: each reward is x . A^k[:, j] of the drawn type k, and agent_payoffs is x . B^k.
    shell = matrix_v0.env(game, rounds=200)
    strategy = np.full(game.n_leader_actions, 1.0 / game.n_leader_actions)
    policies = {PRINCIPAL: lambda obs: np.zeros(game.n_leader_actions, dtype=np.float32),
                AGENT: lambda obs: int(np.argmax(obs[game.n_leader_actions:])) % game.n_follower_actions}
    infos = play_episode(shell, policies, seed=seed)
    follower, leader = column_values(game, strategy)
    assert all(info["principal_utility"] == pytest.approx(leader[info["type"], info["column"]])
               and np.allclose(info["agent_payoffs"], follower[info["type"]]) for info in infos)
    if game.n_types > 1:
        counts = np.bincount([info["type"] for info in infos], minlength=game.n_types) / len(infos)
        assert np.abs(counts - game.type_prior).max() < 0.15


def test_matrix_rejects_bad_rounds_games_and_columns():
    with pytest.raises(ValueError, match="rounds"):
        matrix_v0.env(rounds=0)
    with pytest.raises(ValueError, match="game"):
        matrix_v0.parallel_env(game=prosecutor())
    with pytest.raises(ValueError, match="columns"):
        matrix_v0.outcome(security_game(), np.full(security_game().n_leader_actions, 0.5), [0])
