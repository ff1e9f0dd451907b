"""The ``random`` benchmark suite: enough instances per principal env, each discriminating, drawn deterministically."""

import importlib.util
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from stratgym.agents.benchmark import SUITES
from stratgym.agents.instances import make_env
from stratgym.agents.random_suite import (DRAWN_SEEDS, FAMILIES, MARGIN, N_INSTANCES, SCHEME_TRAINING, bic_multiplier,
                                          family_reference, margin_of, meets_margin, random_instances,
                                          scan_seeds, scheme_training, score_distribution)
from stratgym.agents.references import Reference, reference_values
from stratgym.baselines.signaling import optimal_scheme
from stratgym.envs.spaces import simplex_to_box

PRINCIPAL_ENVS = ("stratgym/StatefulCommitment-v0", "stratgym/StatefulPrincipal-v0", "stratgym/PersuasionScheme-v0",
                  "stratgym/PersuasionRecommend-v0")


def test_suite_has_enough_distinct_instances_of_every_principal_env():
    suite = SUITES["random"]
    for env_id in PRINCIPAL_ENVS:
        envs = [env for env in suite.envs if env.env_id == env_id]
        assert len(envs) >= N_INSTANCES >= 10
        assert len({repr(env.env_kwargs) for env in envs}) == len(envs)
    # plan_runs (every learner fits its env) is checked for every suite by test_benchmark.py.


#: The recommend env's references simulate the learning receiver (about 7 s per instance): by default its first
#: three instances are checked, all ten with the slow tests.
_MARGIN_CASES = [*((name, DRAWN_SEEDS[name]) for name in sorted(FAMILIES) if name != "recommend"),
                 ("recommend", DRAWN_SEEDS["recommend"][:3]),
                 pytest.param("recommend", DRAWN_SEEDS["recommend"][3:], marks=pytest.mark.slow)]


@pytest.mark.parametrize(("name", "seeds"), _MARGIN_CASES)
def test_every_drawn_instance_meets_the_margin(name, seeds):
    family = FAMILIES[name]
    for seed in seeds:
        reference = family_reference(family, seed)
        assert meets_margin(reference), (name, seed, margin_of(reference))
        # The best baseline's normalized score is at most 1 - MARGIN.
        best = max([reference.uniform, *reference.baselines.values()])
        assert (best - reference.uniform) / (reference.optimum - reference.uniform) <= 1 - MARGIN + 1e-12


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_the_scan_reproduces_the_first_drawn_seeds(name):
    """Deterministic: scanning again from 0 gives the same first seeds (the full scan is the slow test below)."""
    assert scan_seeds(FAMILIES[name], n=2) == DRAWN_SEEDS[name][:2]


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_the_full_scan_reproduces_the_drawn_seeds(name):
    assert scan_seeds(FAMILIES[name]) == DRAWN_SEEDS[name]


def test_skipped_seeds_do_not_meet_the_margin():
    """The seeds the scan passed over between the first two kept ones fail the margin (checked on the commitment
    family, whose references are cheap)."""
    family, kept = FAMILIES["commitment"], DRAWN_SEEDS["commitment"]
    for seed in range(kept[0] + 1, kept[1]):
        assert not meets_margin(family_reference(family, seed))


def test_margin_is_measured_against_the_best_baseline_and_uniform():
    reference = Reference("stratgym/StatefulCommitment-v0", "principal", optimum=2.0,
                          baselines={"best constant rule": 1.7, "uniform rule": 0.0}, uniform=-2.0)
    assert margin_of(reference) == pytest.approx(0.3 / 4.0)  # scale max(|2|, 2 - (-2)) = 4
    assert not meets_margin(reference)
    assert meets_margin(reference, margin=0.07)
    negative = Reference("stratgym/StatefulCommitment-v0", "principal", optimum=-0.5,
                         baselines={"best constant rule": -1.0}, uniform=-3.0)
    assert margin_of(negative) == pytest.approx(0.5 / 2.5)


def test_labels_name_family_and_seed():
    labels = [label for label, _, _, _ in random_instances()]
    assert len(set(labels)) == len(labels)
    assert all(label.rsplit("-s", 1)[1].isdigit() for label in labels)


def test_score_distribution_median_p10_min_per_env_and_learner():
    scores = [0.2, 0.5, 0.9, 1.0, 0.95, None]
    rows = [SimpleNamespace(env_id="e", learner="ppo", normalized=s) for s in scores]
    rows.append(SimpleNamespace(env_id="f", learner="ppo", normalized=0.4))
    (first, second) = score_distribution(rows)
    defined = np.array([s for s in scores if s is not None])
    assert (first["n_instances"], first["n_scored"]) == (6, 5)
    assert first["median"] == pytest.approx(0.9)
    assert first["p10"] == pytest.approx(0.2 + 0.4 * (0.5 - 0.2))  # linear interpolation at 10% of 4 gaps
    assert first["min"] == pytest.approx(defined.min())
    assert second == {"env_id": "f", "learner": "ppo", "n_instances": 1, "n_scored": 1, "median": 0.4, "p10": 0.4,
                      "min": 0.4}


def test_scheme_training_kwargs_are_the_recomputed_ones():
    family = FAMILIES["scheme"]
    assert sorted(SCHEME_TRAINING) == sorted(DRAWN_SEEDS["scheme"])
    for seed, stored in SCHEME_TRAINING.items():
        assert scheme_training(make_env(family.env_id, family.instance_kwargs(seed)).unwrapped.regions) == stored


@pytest.mark.parametrize("seed", [2, 11])
def test_penalized_reward_above_the_multiplier_is_maximized_by_the_robust_optimum(seed):
    """Independent check of bic_multiplier: with a weight above it, the penalized reward of the margin LP's scheme
    (BIC with that margin, so no penalty) beats the penalized reward of the unconstrained LP optimum and of random
    schemes."""
    family = FAMILIES["scheme"]
    kwargs = family.instance_kwargs(seed)
    regions = make_env(family.env_id, kwargs).unwrapped.regions
    weight, margin = SCHEME_TRAINING[seed]
    multiplier = bic_multiplier(regions, margin)
    assert weight >= 2 * multiplier * (1 - 5e-3)  # 3 significant digits
    robust = optimal_scheme(regions, bic_margin=margin)
    env = make_env(family.env_id, {**kwargs, "reward": "penalized", "penalty_weight": weight, "bic_margin": margin})
    env.reset(seed=0)

    def penalized(scheme):
        env.reset()
        return env.step((2 * np.asarray(scheme) / np.asarray(scheme).max(axis=1, keepdims=True) - 1)
                        .astype(np.float32))[1]
    best = penalized(robust.scheme)
    assert best == pytest.approx(robust.principal_value, abs=1e-4)
    rng = np.random.default_rng(seed)
    for _ in range(200):
        assert penalized(rng.dirichlet(np.ones(regions.n_actions), regions.n_regions)) <= best + 1e-4


def test_benchmark_writes_the_distribution_over_instances(tmp_path):
    """Two commitment instances of the suite, one tiny PPO run each: summary.json and report.md carry the
    distribution of the rows' normalized scores."""
    import json

    from stratgym.agents.benchmark import adjust_suite, run_benchmark
    from dataclasses import replace

    suite = SUITES["random"]
    small = adjust_suite(replace(suite, envs=suite.envs[:2], n_curve_points=1), n_timesteps=64, n_eval_episodes=1)
    result = run_benchmark(small, tmp_path, progress=False)
    summary = json.loads((tmp_path / "summary.json").read_text())
    (distribution,) = summary["distribution"]
    scores = [row.normalized for row in result.rows]
    assert distribution["n_instances"] == 2 and distribution["min"] == pytest.approx(min(scores))
    assert distribution["median"] == pytest.approx(float(np.median(scores)))
    assert "## Normalized score over instances" in (tmp_path / "report.md").read_text()


def _landscape_script():
    path = Path(__file__).resolve().parent.parent / "scripts" / "random_suite_landscape.py"
    spec = importlib.util.spec_from_file_location("random_suite_landscape", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_landscape_segment_runs_from_the_uniform_rule_to_the_optimum():
    landscape = _landscape_script()
    family = FAMILIES["commitment"]
    kwargs = family.instance_kwargs(DRAWN_SEEDS["commitment"][0])
    env = make_env(family.env_id, kwargs)
    reference = reference_values(family.env_id, kwargs, 1, 0)
    start = np.zeros(env.action_space.shape)  # the all-zeros action: the uniform rule
    end = simplex_to_box(landscape.OPTIMAL_ROWS["commitment"](env)).astype(np.float64)
    lambdas, values = landscape.segment_rewards(lambda n: landscape.native_envs(family.env_id, kwargs, n), start, end,
                                                (0.0, 0.3), points=5, samples=64)
    np.testing.assert_allclose(lambdas, [0, 0.25, 0.5, 0.75, 1])
    exact, noiseless, noisy = values
    assert exact[0] == pytest.approx(reference.uniform, abs=1e-9)
    assert exact[-1] == pytest.approx(reference.optimum, rel=1e-6)  # the float32 optimum earns it
    np.testing.assert_allclose(noiseless, exact)
    assert np.all(noisy <= reference.optimum + 1e-9) and not np.allclose(noisy, exact)


def test_landscape_of_a_scheme_instance_ends_at_the_lp_value():
    landscape = _landscape_script()
    family = FAMILIES["scheme"]
    kwargs = family.instance_kwargs(DRAWN_SEEDS["scheme"][0])
    env = make_env(family.env_id, kwargs)
    end = simplex_to_box(landscape.OPTIMAL_ROWS["scheme"](env)).astype(np.float64)
    _, values = landscape.segment_rewards(lambda n: landscape.native_envs(family.env_id, kwargs, n),
                                          np.zeros_like(end), end, (), points=3, samples=8)
    assert values[0, -1] == pytest.approx(reference_values(family.env_id, kwargs, 1, 0).optimum, rel=1e-6)
    assert values[0, 0] == pytest.approx(0.0, abs=1e-12)  # the uniform scheme reveals nothing: no information
