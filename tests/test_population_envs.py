"""The population envs (stratgym.envs.population): the exact optima, played as float32 actions, earn their
value; metrics in info equal the solvers'; the principal observes averages, never efforts; splits hold out
applicants; bad arguments are rejected at construction."""

from __future__ import annotations

import doctest

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode

import stratgym  # noqa: F401
from stratgym.baselines.applicants import population_signaling
from stratgym.baselines.population import population_optimum
from stratgym.baselines.signaling import full_revelation, optimal_scheme
from stratgym.envs.persuasion.core import BIC_MARGIN
from stratgym.envs import population as population_envs
from stratgym.envs.spaces import simplex_to_box
from stratgym.games.applicants import expand_scheme
from stratgym.games.persuasion import evaluate_scheme
from stratgym.games.population import classroom_groups, random_population
from vector_reference import SharedStreamEnvs


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
    scale = env.unwrapped.rounds.feature_scale
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


@pytest.mark.parametrize("margin", [0.0, BIC_MARGIN])
def test_the_penalized_reward_is_exact_at_each_applicants_optimal_scheme(margin):
    """At the LP optimum tightened by the env's margin (BIC with that margin) the relaxation loses nothing: the
    penalized reward is the expected reward, and the expected reward is the LP value."""
    env = gym.make("stratgym/PersuasionPopulation-v0", split="evaluation", reward="penalized", bic_margin=margin)
    unwrapped = env.unwrapped
    for applicant in unwrapped.applicants[:4]:
        regions = unwrapped.population.regions(int(applicant))
        result = optimal_scheme(regions, bic_margin=margin)
        env.reset(options={"applicant": int(applicant)})
        _, reward, _, _, info = env.step(simplex_to_box(expand_scheme(regions, result.scheme)))
        assert info["bic_violation"] == pytest.approx(0.0, abs=1e-7)
        assert reward == pytest.approx(info["principal_value"], abs=1e-6)
        assert reward == pytest.approx(result.principal_value, abs=1e-6)


def test_the_penalized_reward_prices_posterior_violations():
    """Off the BIC set: obedient value minus the weight times ``sum_a P(a) max(0, max_b U_a(b) - U_a(a) + margin)``
    from the posteriors of evaluate_scheme (a second formulation of the core's sums)."""
    weight, margin = 3.0, 0.02
    env = gym.make("stratgym/PersuasionPopulation-v0", split="evaluation", reward="penalized",
                   penalty_weight=weight, bic_margin=margin)
    rng = np.random.default_rng(3)
    violated = 0
    for episode in range(12):
        _, info = env.reset(seed=episode)
        regions = env.unwrapped.population.regions(info["applicant"])
        action = rng.uniform(-1, 1, env.action_space.shape).astype(np.float32)
        _, reward, _, _, info = env.step(action)
        evaluation = evaluate_scheme(regions, info["scheme"])
        probability, posterior = evaluation.recommendation_probabilities, evaluation.posterior_agent_values
        obedient = violation = 0.0
        for a in range(regions.n_actions):
            obedient += (regions.masses * info["scheme"][:, a] * regions.principal_payoffs[:, a]).sum()
            if probability[a] > 0:
                others = max(posterior[a, b] for b in range(regions.n_actions) if b != a)
                violation += probability[a] * max(0.0, others - posterior[a, a] + margin)
        violated += violation > 0
        assert info["bic_violation"] == pytest.approx(violation, abs=1e-12)
        assert reward == pytest.approx(obedient - weight * violation, abs=1e-12)
        assert info["principal_value"] == pytest.approx(evaluation.principal_value, abs=1e-12)
    assert violated >= 6


@pytest.mark.parametrize("mode", [AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP], ids=lambda mode: mode.value)
@pytest.mark.parametrize("weight", [None, 5.0])
def test_the_penalized_vector_env_equals_the_scalar_env_bit_for_bit(weight, mode):
    kwargs = {"split": "evaluation", "reward": "penalized", "penalty_weight": weight}
    native = gym.make_vec("stratgym/PersuasionPopulation-v0", num_envs=3, vectorization_mode="vector_entry_point",
                          autoreset_mode=mode, **kwargs)
    scalar = SharedStreamEnvs("stratgym/PersuasionPopulation-v0", 3, mode, **kwargs)
    obs, _ = native.reset(seed=5)
    expected_obs, _ = scalar.reset(seed=5)
    np.testing.assert_array_equal(obs, expected_obs)
    native.action_space.seed(1)
    played_steps, penalized_steps = 0, 0
    for _ in range(8):
        actions = native.action_space.sample()
        obs, rewards, terminated, _, info = native.step(actions)
        expected_obs, expected_rewards, expected_terminated, _, infos, _ = scalar.step(actions,
                                                                                      native.single_action_space)
        np.testing.assert_array_equal(obs, expected_obs)
        np.testing.assert_array_equal(terminated, expected_terminated)
        stepped = [next((step for kind, step in entries if kind != "reset"), None) for entries in infos]
        step_info = info["final_info"] if mode is AutoresetMode.SAME_STEP else info
        for i, step in enumerate(stepped):  # bit for bit: the same arithmetic, not merely close
            if step is not None:
                assert rewards[i] == expected_rewards[i]
                assert step_info["bic_violation"][i] == step["bic_violation"]
                assert step_info["principal_value"][i] == step["principal_value"]
                played_steps += 1
                penalized_steps += rewards[i] != step["principal_value"]
    assert played_steps >= 12 and penalized_steps >= 6  # the penalty is what was compared


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
    ("stratgym/PersuasionPopulation-v0", {"reward": "sampled"}, "reward must be"),
    ("stratgym/PersuasionPopulation-v0", {"penalty_weight": 5.0}, "penalty_weight applies only"),
    ("stratgym/PersuasionPopulation-v0", {"bic_margin": 0.01}, "bic_margin applies only"),
    ("stratgym/PersuasionPopulation-v0", {"reward": "penalized", "penalty_weight": 0.0}, "penalty_weight"),
    ("stratgym/PersuasionPopulation-v0", {"reward": "penalized", "bic_margin": -1.0}, "bic_margin"),
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


def test_copies_of_the_env_share_the_population_and_its_regions():
    import copy

    env = gym.make("stratgym/PersuasionPopulation-v0", split="evaluation").unwrapped
    twin = copy.deepcopy(env)
    assert twin.population is env.population and twin is not env
    applicant = twin.reset(seed=0)[1]["applicant"]
    assert twin.population.regions(applicant) is env.population.regions(applicant)
