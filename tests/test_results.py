"""The one result contract (stratgym.baselines.results): common fields, typed certificate, standard errors and
the deprecated names of the previous release."""

import numpy as np
import pytest

from stratgym.baselines.population import evaluate_population_rule
from stratgym.baselines.results import Z95, Certificate, SolverResult, StackelbergResult, ci95, standard_error
from stratgym.baselines.signaling import (SignalingResult, SimulationEstimate, full_revelation, optimal_scheme,
                                          sampled_mechanism, simulate)
from stratgym.baselines.stateful import search_optimum, solve, uniform_weights
from stratgym.games.persuasion import equivalence_regions, prosecutor
from stratgym.games.population import classroom_groups
from stratgym.games.stateful import classroom, classroom_project


def test_both_games_return_the_common_contract():
    stateful = solve(classroom(3))
    signaling = optimal_scheme(equivalence_regions(prosecutor()))
    for result, policy in ((stateful, stateful.theta), (signaling, signaling.scheme)):
        assert isinstance(result, SolverResult) and isinstance(result.certificate, Certificate)
        assert result.policy is policy
        assert isinstance(result.principal_value, float) and isinstance(result.agent_value, float)
        assert result.solve_time >= 0.0 and result.method
        assert result.principal_se == 0.0 and result.ci95() == (result.principal_value, result.principal_value)
    assert stateful.principal_value == 2.0 and stateful.is_optimal
    assert stateful.certificate.incentive_margins.shape == (3,) and stateful.certificate.bic_slack is None
    # BIC up to the agent's tie zone, which the optimum may use (it obeys ties)
    assert signaling.certificate.bic_slack >= -signaling.certificate.tie_tol
    assert signaling.certificate.incentive_margins is None
    with pytest.raises(ValueError, match="no BIC slack"):
        stateful.certificate.is_bic
    with pytest.raises(ValueError, match="player"):
        stateful.ci95("referee")


def test_gaps_and_bounds_live_in_the_certificate():
    game = classroom_project(5)  # the uniform rule earns 3 of the optimum's 5
    uniform = uniform_weights(game)
    assert uniform.certificate.optimum_bound == solve(game).principal_value == 5.0
    assert uniform.certificate.optimality_gap == pytest.approx(5.0 - uniform.principal_value) == 2.0
    assert not uniform.is_optimal
    concave = search_optimum(classroom(2, conversion="sqrt"), n_samples=2, n_refine=2)
    assert concave.certificate.optimality_gap == pytest.approx(concave.certificate.optimum_bound
                                                                - concave.principal_value)
    assert "best_source" in concave.diagnostics


def test_error_bars_are_standard_errors_with_a_95_percent_interval():
    values = np.array([1.0, 2.0, 4.0, 7.0])
    se = standard_error(values)
    assert se == pytest.approx(values.std(ddof=1) / 2.0) and standard_error(values[:1]) == np.inf
    assert ci95(1.0, 0.5) == pytest.approx((1.0 - 0.5 * Z95, 1.0 + 0.5 * Z95))
    game = prosecutor()
    regions = equivalence_regions(game)
    estimate = simulate(game, regions, optimal_scheme(regions).scheme, np.random.default_rng(0), n_rounds=4000)
    assert isinstance(estimate, SimulationEstimate)
    low, high = estimate.ci95("agent")
    assert high - low == pytest.approx(2 * Z95 * estimate.agent_se) and 0 < estimate.agent_se < 0.05
    sampled = sampled_mechanism(game, np.random.default_rng(0), n_samples=10, n_trials=200)
    assert 0 < sampled.principal_se < 0.1 and 0 < sampled.agent_se < 0.1


def test_old_names_warn_and_keep_their_meaning():
    stateful = solve(classroom(3))
    with pytest.deprecated_call(match="principal_value"):
        assert stateful.principal_utility == stateful.principal_value
    with pytest.deprecated_call(match="agent_value"):
        assert stateful.agent_utility == stateful.agent_value
    with pytest.deprecated_call(match="optimality_gap"):
        assert stateful.optimality_gap == 0.0
    with pytest.deprecated_call(match="agent"):
        assert stateful.response_model == "rational"
    with pytest.deprecated_call(match="incentive_margins"):
        np.testing.assert_array_equal(stateful.certificate["round_margins"], stateful.certificate.incentive_margins)
    with pytest.raises(KeyError, match="diagnostics"):
        stateful.certificate["milp_status"]
    regions = equivalence_regions(prosecutor(), method="monte-carlo", rng=np.random.default_rng(0), n_samples=2000)
    revealed = full_revelation(regions)
    assert revealed.principal_se > 0
    with pytest.deprecated_call(match="principal_se"):
        assert revealed.value_error == pytest.approx(3 * revealed.principal_se)  # it was 3 standard errors
    for old in ("bic_slack", "bic_slack_se", "bic_slack_bound", "epsilon", "tie_tol"):
        with pytest.deprecated_call(match=f"certificate.{old}"):
            assert getattr(revealed, old) == getattr(revealed.certificate, old)
    estimate = simulate(prosecutor(), regions, revealed.scheme, np.random.default_rng(1), n_rounds=100)
    with pytest.deprecated_call(match="principal_se"):
        assert estimate.principal_error == pytest.approx(3 * estimate.principal_se)
    with pytest.deprecated_call(match="agent_se"):
        assert estimate.agent_error == pytest.approx(3 * estimate.agent_se)
    population = evaluate_population_rule(classroom_groups(3), np.full((3, 3), 1 / 3))
    assert population.policy is population.theta
    with pytest.deprecated_call(match="PopulationResult.principal_utility .* principal_value"):
        assert population.principal_utility == population.principal_value
    with pytest.deprecated_call(match="PopulationResult.response_model .* agent"):
        assert population.response_model == "rational"


def test_result_types_are_the_subclasses():
    assert issubclass(StackelbergResult, SolverResult) and issubclass(SignalingResult, SolverResult)
