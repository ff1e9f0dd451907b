"""Populations of the stateful game (stratgym.games.population) and their exact optimum
(stratgym.baselines.population).

The population MILP is checked against the single-agent MILP (a one-type population is today's game), against
brute force over every type's pure responses jointly, and against random rules scored by each type's own
``best_response`` (none may beat the optimum); per-group rules against the common rule; the metrics against
hand-derived values; bad input at construction.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stratgym.baselines.population import (evaluate_population_rule, population_baselines, population_brute_force,
                                           population_milp, population_optimum)
from stratgym.baselines.stateful import incentive_margins, solve
from stratgym.games.metrics import disparity, social_metrics
from stratgym.games.population import (StatefulPopulation, classroom_groups, population_outcome, random_population)
from stratgym.games.stateful import classroom, classroom_project, random_game, round_scales
from stratgym.games.ties import TIE_TOL

seeds = st.integers(0, 2**32 - 1)
models = st.sampled_from(("rational", "myopic", "forecasting"))


def small_population(seed: int, n_types: int = 2, horizon: int = 2) -> StatefulPopulation:
    rng = np.random.default_rng(seed)
    return random_population(rng, n_types=n_types, horizon=horizon, n_features=int(rng.integers(1, 4)),
                             n_efforts=int(rng.integers(1, 3)))


@pytest.mark.parametrize("game", [classroom(1), classroom(4), classroom_project(5)], ids=["classroom1", "classroom4",
                                                                                          "project5"])
@pytest.mark.parametrize("model", ["rational", "myopic", "forecasting"])
def test_one_type_population_is_the_single_agent_game(game, model):
    population = StatefulPopulation((game,), None, ("everyone",))
    result = population_milp(population, model)
    assert result.principal_value == pytest.approx(solve(game, model).principal_value, abs=1e-9)
    assert result.metrics.overall["principal"] == pytest.approx(result.principal_value)


@settings(max_examples=30, deadline=None)
@given(seeds, models)
def test_one_random_type_matches_single_agent_solve(seed, model):
    rng = np.random.default_rng(seed)
    game = random_game(rng, horizon=int(rng.integers(1, 5)), n_features=int(rng.integers(1, 4)),
                       n_efforts=int(rng.integers(1, 4))).replace(budget=float(rng.uniform(0.5, 2.0)))
    population = StatefulPopulation((game,), [1.0], ("g",))
    assert population_milp(population, model).principal_value == pytest.approx(
        solve(game, model).principal_value, abs=1e-7)


@settings(max_examples=30, deadline=None)
@given(seeds, models, st.integers(2, 3))
def test_milp_equals_brute_force_over_joint_vertex_responses(seed, model, n_types):
    population = small_population(seed, n_types, horizon=2 if n_types == 2 else 1)
    milp = population_milp(population, model)
    brute = population_brute_force(population, model)
    assert milp.principal_value == pytest.approx(brute.principal_value, abs=1e-7)


def nearly_proportional(game, factor: float):
    """``game`` with column 1 of ``W`` ``1 - factor * TIE_TOL`` times column 0 (same retention and persistence) and
    the principal favouring type 1: the agent ties the two only where their values are small enough, or always."""
    W, retention, persistence, values = (game.conversion_matrix.copy(), game.retention.copy(),
                                         game.persistence.copy(), game.effort_value.copy())
    W[:, 1] = W[:, 0] * (1.0 - factor * TIE_TOL)
    retention[1], persistence[1] = retention[0], persistence[0]
    values[1] = abs(values[1]) + 0.1
    return game.replace(conversion_matrix=W, retention=retention, persistence=persistence, effort_value=values)


@settings(max_examples=40, deadline=None)
@given(seeds, models, st.sampled_from([0.3, 1.1, 2.0, 3.0]))
def test_nearly_proportional_types_keep_the_single_agent_tie_rule(seed, model, factor):
    """The population solver uses the single agent's tie zone: with two nearly proportional effort types (the
    single-agent solvers' hardest ties, tests/test_milp_formulations.py) a one-type population is the single-agent
    game, and two such types give the brute-force optimum. Before, the population MILP allowed no tie zone, 40 of
    180 such one-type populations raised or disagreed with the single-agent solver."""
    rng = np.random.default_rng(seed)
    game = nearly_proportional(random_game(rng, horizon=int(rng.integers(1, 4)), n_features=int(rng.integers(1, 4)),
                                           n_efforts=int(rng.integers(2, 4))), factor)
    single = StatefulPopulation((game,), None, ("g",))
    assert population_milp(single, model).principal_value == pytest.approx(solve(game, model).principal_value,
                                                                           abs=1e-12)
    other = nearly_proportional(random_game(rng, horizon=game.horizon, n_features=game.n_features,
                                            n_efforts=game.n_efforts, discount=game.discount), factor)
    pair = StatefulPopulation((game, other.replace(effort_value=game.effort_value)), None, ("a", "b"))
    if (game.n_efforts + 1) ** (2 * game.horizon) <= 4096:
        assert population_milp(pair, model).principal_value == pytest.approx(
            population_brute_force(pair, model).principal_value, abs=1e-12)


@settings(max_examples=20, deadline=None)
@given(seeds, models)
def test_no_random_rule_beats_the_optimum(seed, model):
    population = small_population(seed, n_types=3, horizon=3)
    optimum = population_milp(population, model).principal_value
    rng = np.random.default_rng(seed)
    for theta in rng.dirichlet(np.ones(population.n_features), size=(40, population.horizon)):
        value = evaluate_population_rule(population, theta, model).principal_value
        assert value <= optimum + 1e-9


@settings(max_examples=20, deadline=None)
@given(seeds)
def test_per_group_rules_never_lose_and_add_up_over_groups(seed):
    population = small_population(seed, n_types=4, horizon=2)
    common = population_optimum(population).principal_value
    per_group = population_optimum(population, per_group=True)
    assert per_group.theta.shape == (2, population.horizon, population.n_features)
    assert per_group.principal_value >= common - 1e-9
    # Each group's rule is the optimum of that group alone (the groups' problems separate).
    for g, group in enumerate(population.group_names):
        alone = population_milp(population.subpopulation(group))
        evaluated = evaluate_population_rule(population.subpopulation(group), per_group.theta[g])
        assert evaluated.principal_value == pytest.approx(alone.principal_value, abs=1e-7)


def test_per_group_can_beat_a_common_rule():
    gains = [population_optimum(p, per_group=True).principal_value - population_optimum(p).principal_value
             for p in (small_population(seed, n_types=4, horizon=2) for seed in range(12))]
    assert max(gains) > 1e-6


def test_baselines_are_below_the_optimum():
    population = classroom_groups()
    optimum = population_optimum(population).principal_value
    for name, result in population_baselines(population).items():
        assert result.principal_value <= optimum + 1e-9, name
    assert population_baselines(population)["uniform rule"].principal_value < optimum


def test_metrics_of_the_classroom_optimum_by_hand():
    # classroom(3): the optimum has the agent study in rounds 1 and 2 and cheat in round 3 (model doc).
    population = StatefulPopulation((classroom(3),), None, ("all",), threshold=0.0)
    result = population_milp(population)
    assert result.metrics.overall["improvement"] == pytest.approx(2 / 3)
    assert result.metrics.overall["gaming"] == pytest.approx(1 / 3)
    assert result.metrics.overall["recourse"] == 1.0
    assert result.metrics.overall["principal"] == pytest.approx(2.0)
    assert result.metrics.overall["state_gain"] == pytest.approx(2.0)  # two rounds of study, fully retained
    assert result.metrics.disparity["principal"] == {"difference": 0.0, "ratio": 1.0}


def test_metrics_weighted_per_group_and_disparities():
    metrics = social_metrics({"principal": np.array([1.0, 3.0, 2.0])}, [0.25, 0.25, 0.5], ["a", "a", "b"])
    assert metrics.groups["a"]["principal"] == pytest.approx(2.0)
    assert metrics.groups["b"]["principal"] == pytest.approx(2.0)
    assert metrics.overall["principal"] == pytest.approx(2.0)
    assert disparity([0.5, 1.0]) == {"difference": 0.5, "ratio": 0.5}
    assert disparity([-1.0, -2.0])["ratio"] == pytest.approx(0.5)
    assert np.isnan(disparity([-1.0, 1.0])["ratio"])
    assert "group/a/principal" in metrics.flat() and "disparity/principal/ratio" in metrics.flat()


def test_batch_metrics_are_each_population_alone_bit_for_bit():
    # A batch of one and a batch of many average elementwise in subject order: the scalar env and its vector env
    # report the same bits; the one-population path (floats, the solvers') agrees to rounding.
    rng = np.random.default_rng(3)
    weights, groups = [0.3, 0.2, 0.3, 0.2], ["a", "b", "a", "b"]
    batch = {name: rng.normal(size=(50, 4)) for name in ("principal", "welfare")}
    together = social_metrics(batch, weights, groups).flat()
    for i in (0, 17, 49):
        alone = social_metrics({name: values[i:i + 1] for name, values in batch.items()}, weights, groups).flat()
        assert all(np.array_equal(alone[key], together[key][i:i + 1], equal_nan=True) for key in together)
        floats = social_metrics({name: values[i] for name, values in batch.items()}, weights, groups).flat()
        assert all(np.allclose(floats[key], together[key][i], equal_nan=True, rtol=1e-12) for key in together)


def test_outcome_uses_given_efforts():
    population = classroom_groups(3)
    theta = np.tile([0.0, 0.0, 1.0], (3, 1))
    exact = population_outcome(population, theta)
    nothing = population_outcome(population, theta, effort=np.zeros_like(exact.effort))
    assert exact.principal_utility > 0 and nothing.principal_utility == 0.0


@pytest.mark.parametrize("kwargs, message", [
    (dict(types=()), "types is empty"),
    (dict(types=(classroom(3), classroom(3)), weights=[0.5, 0.6], groups=("a", "b")), "weights must sum to 1"),
    (dict(types=(classroom(3), classroom(3)), weights=[1.5, -0.5], groups=("a", "b")), "weights must lie in"),
    (dict(types=(classroom(3), classroom(3)), weights=[1.0], groups=("a", "b")), "weights must have shape"),
    (dict(types=(classroom(3), classroom(4)), groups=("a", "b")), r"types\[1\].horizon"),
    (dict(types=(classroom(3), classroom_project(3)), groups=("a", "b")), r"types\[1\].n_features"),
    (dict(types=(classroom(3), classroom(3))), "groups is required"),
    (dict(types=(classroom(3), classroom(3)), groups=("a", "")), r"groups\[1\] is missing"),
    (dict(types=(classroom(3), classroom(3)), groups=("a", None)), r"groups\[1\] is missing"),
    (dict(types=(classroom(3),), groups=("a", "b")), "one label per member"),
    (dict(types=(classroom(3), "classroom"), groups=("a", "b")), r"types\[1\] must be a StatefulGame"),
])
def test_bad_populations_are_rejected_naming_the_field(kwargs, message):
    with pytest.raises(ValueError, match=message):
        StatefulPopulation(**kwargs)


def test_per_group_policy_shape_is_checked():
    with pytest.raises(ValueError, match="per_group"):
        evaluate_population_rule(classroom_groups(3), np.full((3, 3), 1 / 3), per_group=True)


# ---------------------------------------------------------------------------------------------
# The robust optimum (strict incentives for every type)
# ---------------------------------------------------------------------------------------------

@settings(max_examples=30, deadline=None)
@given(seeds, models, st.sampled_from((1e-3, 1e-2, 0.1)))
def test_one_type_robust_optimum_is_the_single_agent_robust_optimum(seed, model, relative):
    rng = np.random.default_rng(seed)
    game = random_game(rng, horizon=int(rng.integers(1, 4)), n_features=int(rng.integers(1, 4)),
                       n_efforts=int(rng.integers(1, 4)))
    margin = relative * float(round_scales(game, model).min())
    population = StatefulPopulation((game,), [1.0], ("g",))
    try:
        single = solve(game, model, margin=margin).principal_value
    except ValueError:
        with pytest.raises(ValueError, match="margin"):
            population_milp(population, model, margin=margin)
        return
    assert population_milp(population, model, margin=margin).principal_value == pytest.approx(single, abs=1e-7)


@settings(max_examples=20, deadline=None)
@given(seeds, models)
def test_the_robust_optimum_gives_every_type_a_strict_incentive_and_never_beats_the_optimum(seed, model):
    population = small_population(seed, n_types=3, horizon=2)
    margin = 1e-3 * min(float(round_scales(game, model).min()) for game in population.types)
    try:
        robust = population_optimum(population, model, margin=margin)
    except ValueError as error:
        assert "margin" in str(error)
        return
    assert robust.principal_value <= population_optimum(population, model).principal_value + 1e-9
    for game, effort in zip(population.types, robust.effort):
        assert incentive_margins(game, robust.theta, effort, model).min() >= margin * (1 - 1e-6)


def test_a_robust_optimum_exists_below_the_tie_optimum_on_the_classroom_groups():
    population = classroom_groups()
    margin = 1e-3 * min(float(round_scales(game, "rational").min()) for game in population.types)
    robust, exact = population_optimum(population, margin=margin), population_optimum(population)
    assert 0.0 < robust.principal_value <= exact.principal_value
    assert robust.principal_value == pytest.approx(exact.principal_value, rel=0.05)
    with pytest.raises(ValueError, match="margin"):
        population_milp(population, margin=-1.0)
