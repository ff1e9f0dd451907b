"""The population envs (stratgym.envs.population): the exact optima, played as float32 actions, earn their
value; metrics in info equal the solvers'; the principal observes averages, never efforts; splits hold out
applicants; bad arguments are rejected at construction."""

from __future__ import annotations

import doctest

import gymnasium as gym
import numpy as np
import pytest

import stratgym  # noqa: F401
from stratgym.baselines.applicants import population_signaling
from stratgym.baselines.population import population_optimum
from stratgym.baselines.signaling import full_revelation, optimal_scheme
from stratgym.envs import population as population_envs
from stratgym.envs.spaces import simplex_to_box
from stratgym.games.applicants import expand_scheme
from stratgym.games.population import classroom_groups, random_population


def test_docstring_examples():
    assert doctest.testmod(population_envs, optionflags=doctest.NORMALIZE_WHITESPACE).failed == 0


def play(env, theta, per_group):
    env.reset(seed=0)
    total, info = 0.0, {}
    for t in range(theta.shape[-2]):
        rule = theta[:, t] if per_group else theta[t]
        _, reward, terminated, _, info = env.step(simplex_to_box(rule))
        total += reward
    assert terminated
    return total, info


@pytest.mark.parametrize("model", ["myopic", "forecasting"])
@pytest.mark.parametrize("per_group", [False, True])
@pytest.mark.parametrize("population", [classroom_groups(), random_population(np.random.default_rng(4), 4, 2, 3)],
                         ids=["classroom_groups", "random4"])
def test_the_float32_optimum_earns_the_population_optimum(population, model, per_group):
    optimum = population_optimum(population, model, per_group=per_group)
    env = gym.make("stratgym/StatefulPopulation-v0", population=population, agent=model, per_group=per_group)
    total, info = play(env, optimum.theta, per_group)
    assert total == pytest.approx(optimum.principal_value, abs=1e-6)
    flat = optimum.metrics.flat()
    assert info["metrics"].keys() == flat.keys()
    for key, value in flat.items():
        assert info["metrics"][key] == pytest.approx(value, abs=1e-6, nan_ok=True), key


def test_no_rule_in_the_env_beats_the_optimum():
    population = classroom_groups(3)
    optimum = population_optimum(population, "forecasting").principal_value
    env = gym.make("stratgym/StatefulPopulation-v0", population=population)
    rng = np.random.default_rng(0)
    for theta in rng.dirichlet(np.ones(3), size=(50, 3)):
        assert play(env, theta, False)[0] <= optimum + 1e-9


def test_the_principal_observes_average_features_not_efforts():
    env = gym.make("stratgym/StatefulPopulation-v0", per_group=True)
    population = env.unwrapped.population
    env.reset(seed=0)
    observation, _, _, _, info = env.step(env.action_space.sample())
    n = population.n_features
    scale = env.unwrapped._feature_scale
    np.testing.assert_allclose(observation[1:1 + n], np.clip(info["average_features"] * scale, 0, 1), atol=1e-6)
    assert observation.shape == (1 + n + 2 * n + 2 * n,)
    np.testing.assert_allclose(observation[-2 * n:], info["rules"].ravel(), atol=1e-6)


@pytest.fixture(scope="module")
def evaluation_env():
    return gym.make("stratgym/PersuasionPopulation-v0", split="evaluation")


def test_the_float32_lp_scheme_earns_each_applicants_optimum(evaluation_env):
    unwrapped = evaluation_env.unwrapped
    for applicant in unwrapped.applicants[:5]:
        regions = unwrapped.population.regions(int(applicant))
        for solver in (optimal_scheme, full_revelation):
            result = solver(regions)
            evaluation_env.reset(options={"applicant": int(applicant)})
            _, reward, _, _, info = evaluation_env.step(simplex_to_box(expand_scheme(regions, result.scheme)))
            assert reward == pytest.approx(result.principal_value, abs=1e-6)
            assert info["metrics"]["principal"] == pytest.approx(reward)


def test_splits_hold_out_applicants():
    train = gym.make("stratgym/PersuasionPopulation-v0").unwrapped
    evaluation = gym.make("stratgym/PersuasionPopulation-v0", split="evaluation").unwrapped
    assert not set(train.applicants) & set(evaluation.applicants)
    assert len(train.applicants) + len(evaluation.applicants) == train.population.n_applicants
    assert len(evaluation.applicants) == 10
    drawn = {evaluation.reset(seed=seed)[1]["applicant"] for seed in range(40)}
    assert drawn <= set(evaluation.applicants.tolist()) and len(drawn) > 3
    with pytest.raises(ValueError, match="options\\['applicant'\\]"):
        evaluation.reset(options={"applicant": int(train.applicants[0])})


def test_episodes_average_to_the_population_reference():
    env = gym.make("stratgym/PersuasionPopulation-v0", split="all")
    population = env.unwrapped.population
    reference = population_signaling(population, ["full revelation"])["full revelation"]
    values = []
    for applicant in range(population.n_applicants):
        env.reset(options={"applicant": applicant})
        scheme = expand_scheme(population.regions(applicant), reference.results[applicant].scheme)
        values.append(env.step(simplex_to_box(scheme))[1])
    assert np.mean(values) == pytest.approx(reference.mean, abs=1e-6)


@pytest.mark.parametrize("env_id, kwargs, message", [
    ("stratgym/StatefulPopulation-v0", {"population": "nope"}, "population must be"),
    ("stratgym/StatefulPopulation-v0", {"agent": "rational"}, "agent"),
    ("stratgym/StatefulPopulation-v0", {"per_group": "yes"}, "per_group"),
    ("stratgym/PersuasionPopulation-v0", {"split": "test"}, "split must be"),
    ("stratgym/PersuasionPopulation-v0", {"evaluation_fraction": 1.0}, "evaluation_fraction"),
    ("stratgym/PersuasionPopulation-v0", {"population": 3}, "population must be"),
])
def test_bad_arguments_are_rejected(env_id, kwargs, message):
    with pytest.raises(ValueError, match=message):
        gym.make(env_id, **kwargs)


@pytest.mark.parametrize("env_id, kwargs", [("stratgym/StatefulPopulation-v0", {}),
                                            ("stratgym/StatefulPopulation-v0", {"per_group": True}),
                                            ("stratgym/PersuasionPopulation-v0", {})])
def test_population_references_report_a_robust_optimum_below_the_optimum(env_id, kwargs):
    from stratgym.agents.references import reference_values

    reference = reference_values(env_id, kwargs, n_episodes=4)
    assert reference.robust_optimum is not None, reference.robust_note
    assert reference.uniform < reference.robust_optimum <= reference.optimum + 1e-9
    assert "margin" in reference.robust_note
