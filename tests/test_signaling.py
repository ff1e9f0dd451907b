"""Signaling policies of the recourse persuasion game: a literature instance with a hand-computed
optimum, a closed form for two actions, a second LP formulation, theorem-level inequalities on random
instances, simulation against exact evaluation, and the sampled epsilon-BIC approximation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import norm

from stratgym.baselines import signaling
from stratgym.baselines.signaling import (BICViolationError, evaluate, full_revelation, no_information,
                                          obedient_scheme, optimal_scheme, sampled_mechanism, sampled_recommendation,
                                          simulate, solve_signaling_lp)
from stratgym.games.persuasion import (TIE_TOL, FiniteSupportPrior, GaussianPrior, PersuasionGame, decision_patterns,
                                       equivalence_regions, evaluate_scheme, random_persuasion_game, region_payoffs)

seeds = st.integers(0, 2**32 - 1)
TOL = 1e-7


def prosecutor(prior=None) -> PersuasionGame:
    """Two actions; 0.3 of the prior approves only if the agent acts, 0.7 rejects anyway; acting costs 0.5."""
    prior = FiniteSupportPrior([[-1.0, 2.0], [-1.0, 0.5]], [0.3, 0.7]) if prior is None else prior
    return PersuasionGame([1.0, 0.0], [[0.0, 0.0], [0.0, 1.0]], [0.0, 0.5], prior)


def gaussian_prosecutor() -> PersuasionGame:
    """The same instance with a Gaussian prior: theta = (-1, eta), eta ~ N(mu, 1), P(eta >= 1) = 0.3."""
    return prosecutor(GaussianPrior([-1.0, 1.0 - norm.ppf(0.7)], [[0.0, 0.0], [0.0, 1.0]]))


def random_instance(seed: int, prior: str, max_actions: int = 4, decision_dependent: bool = False):
    rng = np.random.default_rng(seed)
    n_features = int(rng.integers(2, 5))
    n_actions = int(rng.integers(2, max_actions + 1))
    game = random_persuasion_game(rng, n_features, n_actions, prior, decision_dependent=decision_dependent)
    return game, equivalence_regions(game, rng=np.random.default_rng(seed), n_samples=20_000)


# ---------------------------------------------------------------------------------------------
# Literature instance
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("build", [prosecutor, gaussian_prosecutor])
def test_prosecutor_instance(build):
    """Optimum: act always where it helps (0.3), and in 3/7 of the rest, keeping the agent indifferent:
    0.3 * 0.5 = 0.7 * q * 0.5. The principal gets 0.3 + 0.3 = 0.6; full revelation 0.3; no information 0."""
    regions = equivalence_regions(build())
    assert regions.patterns.tolist() == [[False, False], [False, True]]
    best, revealed, silent = optimal_scheme(regions), full_revelation(regions), no_information(regions)
    assert best.principal_value == pytest.approx(0.6, abs=1e-9)
    assert np.allclose(best.scheme, [[4 / 7, 3 / 7], [0.0, 1.0]], atol=1e-9)
    assert best.agent_value == pytest.approx(0.0, abs=1e-9)
    assert revealed.principal_value == pytest.approx(0.3) and revealed.agent_value == pytest.approx(0.15)
    assert silent.principal_value == 0.0 and silent.agent_value == 0.0
    for result, method in ((best, "lp"), (revealed, "full-revelation"), (silent, "no-information")):
        assert result.is_bic and result.method == method and result.solve_time >= 0
        assert result.responses.tolist() == [0, 1]
        assert result.mass_method == ("finite-sum" if build is prosecutor else "orthant")


# ---------------------------------------------------------------------------------------------
# Independent methods
# ---------------------------------------------------------------------------------------------

def two_action_optimum(masses, agent_payoffs) -> float:
    """Two actions, u_P = (0, 1): maximize P(recommend act) s.t. E[gain | act] >= 0, a fractional knapsack:
    take every region where acting pays (gain >= 0), then the losing regions cheapest-first on the budget
    sum pi * gain."""
    gain = agent_payoffs[:, 1] - agent_payoffs[:, 0]
    budget = float(np.sum(masses[gain >= 0] * gain[gain >= 0]))
    value = float(masses[gain >= 0].sum())
    for s in np.flatnonzero(gain < 0)[np.argsort(-gain[gain < 0], kind="stable")]:
        share = min(1.0, budget / (masses[s] * -gain[s])) if masses[s] > 0 else 0.0
        value += share * masses[s]
        budget -= share * masses[s] * -gain[s]
    return value


@settings(max_examples=30, deadline=None)
@given(seed=seeds, prior=st.sampled_from(["gaussian", "finite"]))
def test_two_actions_match_the_knapsack_closed_form(seed, prior):
    rng = np.random.default_rng(seed)
    game = random_persuasion_game(rng, int(rng.integers(2, 5)), 2, prior, n_atoms=8)
    game = game.replace(principal_utility=[0.0, 1.0])
    regions = equivalence_regions(game, rng=np.random.default_rng(seed), n_samples=5_000)
    best = optimal_scheme(regions)
    assert best.principal_value == pytest.approx(two_action_optimum(regions.masses, regions.agent_payoffs), abs=TOL)


@settings(max_examples=20, deadline=None)
@given(seed=seeds, decision_dependent=st.booleans())
def test_atom_level_lp_equals_region_lp(seed, decision_dependent):
    """Second formulation: one LP row per atom of a finite prior instead of per region."""
    game, regions = random_instance(seed, "finite", max_actions=5, decision_dependent=decision_dependent)
    principal, agent = region_payoffs(game, decision_patterns(game, game.prior.atoms))
    atom_scheme = solve_signaling_lp(principal, agent, game.prior.probabilities)
    atom_value = float(np.sum(game.prior.probabilities[:, None] * atom_scheme * principal))
    assert optimal_scheme(regions).principal_value == pytest.approx(atom_value, abs=TOL)


# ---------------------------------------------------------------------------------------------
# Theorems on random instances
# ---------------------------------------------------------------------------------------------

@settings(max_examples=25, deadline=None)
@given(seed=seeds, prior=st.sampled_from(["gaussian", "finite"]), decision_dependent=st.booleans())
def test_optimum_dominates_baselines_and_any_scheme(seed, prior, decision_dependent):
    game, regions = random_instance(seed, prior, decision_dependent=decision_dependent)
    best, revealed, silent = optimal_scheme(regions), full_revelation(regions), no_information(regions)
    for result in (best, revealed, silent):
        assert result.is_bic and result.bic_slack >= -TIE_TOL
        assert np.allclose(result.scheme.sum(axis=1), 1.0) and np.all(result.scheme >= 0)
        again = evaluate_scheme(regions, result.scheme)
        assert again.obedient and again.principal_value == pytest.approx(result.principal_value, abs=1e-12)
    assert best.principal_value >= revealed.principal_value - TOL
    assert best.principal_value >= silent.principal_value - TOL
    # The agent is never worse off than with no information (it could always ignore the recommendation).
    assert best.agent_value >= silent.agent_value - TOL
    assert revealed.agent_value >= best.agent_value - TOL  # nor better off than knowing the rule
    # Revelation principle: no scheme, obeyed or not, beats the optimum once the agent best-responds.
    rng = np.random.default_rng(seed)
    for concentration in (0.2, 1.0):
        for _ in range(20):
            scheme = rng.dirichlet(np.full(regions.n_actions, concentration), size=regions.n_regions)
            assert evaluate(regions, scheme).principal_value <= best.principal_value + TOL


@settings(max_examples=25, deadline=None)
@given(seed=seeds, prior=st.sampled_from(["gaussian", "finite"]))
def test_merging_recommendations_by_response_keeps_values_and_restores_bic(seed, prior):
    game, regions = random_instance(seed, prior, max_actions=5)
    scheme = np.random.default_rng(seed).dirichlet(np.full(regions.n_actions, 0.5), size=regions.n_regions)
    before = evaluate_scheme(regions, scheme)
    after = evaluate_scheme(regions, obedient_scheme(scheme, before.responses))
    assert after.obedient and after.bic_slack >= -TIE_TOL
    assert after.principal_value == pytest.approx(before.principal_value, abs=1e-12)
    assert after.agent_value == pytest.approx(before.agent_value, abs=1e-12)


@settings(max_examples=15, deadline=None)
@given(seed=seeds, prior=st.sampled_from(["gaussian", "finite"]))
def test_ties_among_optimal_schemes_go_to_the_agent(seed, prior):
    """With u_P constant every scheme is optimal; the agent-favouring tie-break must then reach the agent's
    best BIC value, full revelation's."""
    game, _ = random_instance(seed, prior)
    regions = equivalence_regions(game.replace(principal_utility=np.ones(game.n_actions)), n_samples=20_000)
    assert optimal_scheme(regions).agent_value == pytest.approx(full_revelation(regions).agent_value, abs=TOL)


@settings(max_examples=10, deadline=None, derandomize=True)
@given(seed=seeds, prior=st.sampled_from(["gaussian", "finite"]))
def test_simulation_agrees_with_exact_evaluation(seed, prior):
    game, _ = random_instance(seed, prior)
    regions = equivalence_regions(game, method="auto", rng=np.random.default_rng(seed), n_samples=200_000)
    rng = np.random.default_rng(seed + 1)
    schemes = [optimal_scheme(regions).scheme, rng.dirichlet(np.ones(regions.n_actions), size=regions.n_regions)]
    for scheme in schemes:
        exact = evaluate(regions, scheme)
        estimate = simulate(game, regions, scheme, rng, n_rounds=20_000)
        # 3 standard errors of the simulation plus the masses' own error, widened to 4 sigma.
        mass_error = float(regions.mass_errors.sum()) + 1e-12
        assert abs(estimate.principal_value - exact.principal_value) <= 4 / 3 * estimate.principal_error + mass_error
        assert abs(estimate.agent_value - exact.agent_value) <= 4 / 3 * estimate.agent_error + 2 * mass_error


def test_values_are_priced_at_the_agents_actual_response():
    regions = equivalence_regions(prosecutor())
    pushy = evaluate(regions, [[0.5, 0.5], [0.0, 1.0]])
    assert not pushy.is_bic and pushy.method == "given"
    assert pushy.responses.tolist() == [0, 0] and pushy.principal_value == 0.0


def test_the_first_optimum_is_kept_when_the_tie_break_lp_fails(monkeypatch):
    solve, calls = signaling._solve, []

    def failing_second(*args):
        calls.append(args)
        result = solve(*args)
        if len(calls) == 2:
            result.status = 2
        return result

    monkeypatch.setattr(signaling, "_solve", failing_second)
    assert optimal_scheme(prosecutor()).principal_value == pytest.approx(0.6, abs=1e-9)
    assert len(calls) == 2


def test_solvers_refuse_to_return_a_non_bic_scheme(monkeypatch):
    monkeypatch.setattr(signaling, "full_revelation_scheme", lambda regions, tie_tol: np.array([[0.5, 0.5], [0.0, 1.0]]))
    with pytest.raises(BICViolationError, match="full-revelation"):
        full_revelation(prosecutor())


def test_zero_mass_regions_are_dropped_safely():
    # Region 1 has no mass; it must recommend something the agent already follows, the principal's favourite.
    principal = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 1.0]])
    agent = np.array([[0.0, 0.5, -1.0], [0.0, -1.0, 0.5], [0.0, -0.5, -0.5]])
    scheme = solve_signaling_lp(principal, agent, [0.5, 0.0, 0.5])
    assert scheme[1].tolist() == [0.0, 1.0, 0.0]
    assert np.allclose(scheme[0], [0.0, 1.0, 0.0]) and np.allclose(scheme[2], [0.0, 1.0, 0.0])


@pytest.mark.parametrize("call, name", [
    (lambda: solve_signaling_lp([[0.0, 1.0]], [[0.0, 1.0], [0.0, 1.0]], [1.0]), "agent_payoffs"),
    (lambda: solve_signaling_lp([[0.0, 1.0]], [[0.0, 1.0]], [-1.0]), "masses"),
    (lambda: solve_signaling_lp([[0.0, 1.0]], [[0.0, 1.0]], [1.0], epsilon=-0.1), "epsilon"),
    (lambda: solve_signaling_lp([[0.0, 1.0]], [[0.0, 1.0]], [0.0]), "masses"),
    (lambda: optimal_scheme("prosecutor"), "game"),
    (lambda: evaluate(prosecutor(), np.ones((3, 2)) / 2), "scheme"),
    (lambda: simulate(prosecutor(), equivalence_regions(prosecutor()), np.ones((2, 2)) / 2, None), "rng"),
    (lambda: simulate(prosecutor(), equivalence_regions(prosecutor()), np.ones((2, 2)) / 2,
                      np.random.default_rng(0), 0), "n_rounds"),
    (lambda: sampled_recommendation(prosecutor(), [1.0, 2.0], np.random.default_rng(0), 0), "n_samples"),
    (lambda: sampled_recommendation(prosecutor(), [1.0], np.random.default_rng(0)), "theta"),
    (lambda: sampled_mechanism(prosecutor(), np.random.default_rng(0), n_trials=0), "n_trials"),
])
def test_bad_arguments_name_the_parameter(call, name):
    with pytest.raises(ValueError, match=name):
        call()


# ---------------------------------------------------------------------------------------------
# Sampled epsilon-BIC approximation (Dughmi–Xu)
# ---------------------------------------------------------------------------------------------

def test_sampled_recommendation_reads_the_realized_rules_row():
    game = prosecutor()
    acting = sampled_recommendation(game, [-1.0, 2.0], np.random.default_rng(0), n_samples=50, epsilon=0.0)
    assert acting.tolist() == [0.0, 1.0]  # acting pays here: always recommended
    # Alone among its samples (N = 1) the rule is simply revealed: the agent's best response; epsilon lets
    # the LP recommend acting against a loss of at most epsilon: q * 0.5 <= epsilon.
    alone = np.random.default_rng(0)
    assert sampled_recommendation(game, [-1.0, 0.5], alone, n_samples=1, epsilon=0.0).tolist() == [1.0, 0.0]
    assert sampled_recommendation(game, [-1.0, 0.5], alone, n_samples=1, epsilon=0.1)[1] == pytest.approx(0.2, abs=1e-9)
    # With N samples the losing region gets q = min(1, (p + 2 eps) / (1 - p)) for p the approving share.
    rng = np.random.default_rng(4)
    row = sampled_recommendation(game, [-1.0, 0.5], rng, n_samples=400, epsilon=0.01)
    share = decision_patterns(game, game.prior.sample(np.random.default_rng(4), 399))[:, 1].mean() * 399 / 400
    assert row[1] == pytest.approx(min(1.0, (share + 0.02) / (1 - share)), abs=1e-9)


@pytest.mark.parametrize("build, seed", [(prosecutor, 0), (gaussian_prosecutor, 1),
                                         (lambda: random_instance(11, "gaussian")[0], 2)])
def test_sampled_mechanism_approaches_the_lp_value(build, seed):
    game = build()
    regions = equivalence_regions(game)
    best, revealed = optimal_scheme(regions), full_revelation(regions)
    lone = sampled_mechanism(game, np.random.default_rng(seed), n_samples=1, epsilon=0.0, n_trials=200)
    many = sampled_mechanism(game, np.random.default_rng(seed), n_samples=2000, epsilon=0.0, n_trials=200)
    assert lone.method == many.method == "sampled-eps-bic" and many.mass_method == "monte-carlo"
    # N = 1 reveals the rule: the full-revelation value (up to simulation error).
    assert abs(lone.principal_value - revealed.principal_value) <= max(lone.value_error, 1e-12)
    # Large N: within simulation error plus a small sampling bias of the LP optimum.
    assert abs(many.principal_value - best.principal_value) <= many.value_error + 0.02
    assert many.bic_slack >= -0.1
    assert np.allclose(many.scheme.sum(axis=1), 1.0) and abs(many.masses.sum() - 1.0) < 1e-12
