"""Signaling policies of the recourse persuasion game: a literature instance with a hand-computed
optimum, a closed form for two actions, a second LP formulation, theorem-level inequalities on random
instances, simulation against exact evaluation, and the sampled epsilon-BIC approximation."""

from __future__ import annotations

import dataclasses
import warnings
from datetime import timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stratgym.baselines import signaling
from stratgym.baselines.signaling import (BIC_DELTA, BICViolationError, BICViolationWarning, evaluate,
                                          ex_ante_bic_slack, full_revelation, no_information, obedient_scheme,
                                          optimal_scheme, sampled_mechanism, sampled_recommendation, simulate,
                                          solve_signaling_lp)
from stratgym.games.credit import synthetic_credit
from stratgym.games.persuasion import (TIE_TOL, FiniteSupportPrior, Regions, decision_patterns, equivalence_regions,
                                       evaluate_scheme, prosecutor, random_persuasion_game, region_payoffs)

seeds = st.integers(0, 2**32 - 1)
TOL = 1e-7


def gaussian_prosecutor():
    """The prosecutor with a Gaussian prior: theta = (-1, eta), eta ~ N(mu, 1), P(eta >= 1) = 0.3."""
    return prosecutor(gaussian=True)


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
        assert result.is_bic and result.certificate.bic_slack >= -TIE_TOL
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
        # 4 standard errors of the simulation plus the masses' own error.
        mass_error = float(regions.mass_errors.sum()) + 1e-12
        assert abs(estimate.principal_value - exact.principal_value) <= 4 * estimate.principal_se + mass_error
        assert abs(estimate.agent_value - exact.agent_value) <= 4 * estimate.agent_se + 2 * mass_error


def exact_ex_ante_slack(regions, scheme) -> float:
    """min over recommended a != b of sum_s pi_s q_s(a) (u_A(a, s) - u_A(b, s)), pair by pair."""
    agent, masses = regions.agent_payoffs, regions.masses
    return min(float(np.sum(masses * scheme[:, a] * (agent[:, a] - agent[:, b])))
               for a in range(regions.n_actions) for b in range(regions.n_actions)
               if a != b and masses @ scheme[:, a] > 0)


def test_ex_ante_bic_slack_against_a_brute_force_estimate():
    rng = np.random.default_rng(0)
    rows, agent = rng.dirichlet(np.ones(4), size=50), rng.normal(size=(50, 4))
    rows[:, 2] = 0.0  # never recommended: not a candidate
    rows /= rows.sum(axis=1, keepdims=True)
    gains = rows[:, :, None] * (agent[:, :, None] - agent[:, None, :])  # (n, a, b)
    mean, se = gains.mean(axis=0), gains.std(axis=0, ddof=1) / np.sqrt(50)
    candidates = ~np.eye(4, dtype=bool)
    candidates[2] = False
    pair = np.unravel_index(np.argmin(np.where(candidates, mean, np.inf)), mean.shape)
    costs = np.array([0.0, 0.3, 0.9, 0.1])
    slack, standard_error, bound = ex_ante_bic_slack(rows, agent, costs)
    assert (slack, standard_error) == pytest.approx((mean[pair], se[pair]), rel=1e-9, abs=1e-12)
    # The bound by hand: Maurer-Pontil's empirical Bernstein term per pair, Bonferroni over all 4 * 3 pairs.
    log_term = np.log(2 * 12 / BIC_DELTA)
    widths = np.array([[max(0.0, 1 - ca + cb) - min(0.0, -1 - ca + cb) for cb in costs] for ca in costs])
    by_hand = mean + np.sqrt(2 * gains.var(axis=0, ddof=1) * log_term / 50) + 7 * widths * log_term / (3 * 49)
    assert bound == pytest.approx(np.where(candidates, by_hand, np.inf).min(), rel=1e-9)
    assert ex_ante_bic_slack(rows[:1], agent[:1], costs)[1:] == (np.inf, np.inf)
    assert ex_ante_bic_slack(np.ones((3, 1)), np.zeros((3, 1)), [0.0]) == (np.inf, 0.0, np.inf)  # nothing to deviate to
    with pytest.raises(ValueError, match="agent_payoffs"):
        ex_ante_bic_slack(rows, agent[:, :3], costs)
    with pytest.raises(ValueError, match="costs"):
        ex_ante_bic_slack(rows, agent, costs[:3])


@settings(max_examples=200, deadline=None, derandomize=True)
@given(seed=seeds, mean_gain=st.floats(-0.3, 0.3), rare=st.floats(0.002, 0.05))
def test_ex_ante_bound_covers_heavy_tailed_slacks(seed, mean_gain, rare):
    """A sampled mechanism's gains are mostly small and negative with rare large positive ones (it spends epsilon on
    many draws and earns it back on rare ones): there the standard error is too small, but the bound still covers the
    true slack; and a clear violation is still caught."""
    rng = np.random.default_rng(seed)
    n = 300
    big = rng.random(n) < rare  # rare draws where following pays 1 - c
    true_small = (mean_gain - rare * 0.9) / (1 - rare)  # so that the true mean is mean_gain
    gains = np.where(big, 0.9, true_small)
    rows = np.column_stack([np.zeros(n), np.ones(n)])  # action 1 always recommended
    agent = np.column_stack([np.zeros(n), gains])  # u_A(1) - u_A(0) = gain, costs (0, 0.1): gains lie in [-1.1, 0.9]
    bound = ex_ante_bic_slack(rows, agent, [0.0, 0.1])[2]
    assert bound >= mean_gain  # even when no rare draw came up (mean + 4 standard errors would be true_small then)
    if mean_gain < -0.25:
        assert bound < 0.0


@settings(max_examples=10, deadline=None, derandomize=True)
@given(seed=seeds, prior=st.sampled_from(["gaussian", "finite"]))
def test_simulated_bic_slack_estimates_the_exact_ex_ante_slack(seed, prior):
    game, regions = random_instance(seed, prior)
    rng = np.random.default_rng(seed + 2)
    for scheme in (optimal_scheme(regions).scheme, rng.dirichlet(np.ones(regions.n_actions), size=regions.n_regions)):
        estimate = simulate(game, regions, scheme, rng, n_rounds=20_000)
        exact = exact_ex_ante_slack(regions, scheme)
        mass_error = float(regions.mass_errors.sum())  # the exact slack moves at most this with the masses
        assert abs(estimate.bic_slack - exact) <= 4 * estimate.bic_slack_se + mass_error + 1e-12
        assert estimate.bic_slack_bound >= exact - mass_error - 1e-12


def test_simulation_flags_a_violating_scheme_and_passes_the_optimum():
    game = prosecutor()
    regions = equivalence_regions(game)
    pushy = np.array([[0.5, 0.5], [0.0, 1.0]])  # ex ante E[q(act) (u_A(act) - u_A(none))] = -0.175 + 0.15
    assert exact_ex_ante_slack(regions, pushy) == pytest.approx(-0.025)
    estimate = simulate(game, regions, pushy, np.random.default_rng(0), n_rounds=20_000)
    assert estimate.bic_slack_bound < 0  # violating, with confidence
    best = simulate(game, regions, optimal_scheme(regions).scheme, np.random.default_rng(0), n_rounds=20_000)
    assert best.bic_slack_bound >= 0  # the optimum binds: slack 0 within the error bar
    assert abs(best.bic_slack) <= 4 * best.bic_slack_se


@settings(max_examples=10, deadline=None, derandomize=True)
@given(seed=seeds)
def test_value_error_propagates_monte_carlo_mass_errors(seed):
    """Full revelation is obeyed whatever the masses, so its values under Monte Carlo and exact masses differ only
    through the masses: by at most the propagated error bar (3 standard errors, as the masses' own)."""
    game, exact = random_instance(seed, "gaussian", max_actions=3)
    sampled = equivalence_regions(game, method="monte-carlo", rng=np.random.default_rng(seed), n_samples=2_000)
    assert sampled.mass_method == "monte-carlo" and np.array_equal(sampled.patterns, exact.patterns)
    revealed, truth = full_revelation(sampled), full_revelation(exact)
    assert abs(revealed.principal_value - truth.principal_value) <= 3 * (revealed.principal_se + truth.principal_se)
    spread = np.ptp(np.sum(revealed.scheme * sampled.principal_payoffs[:, revealed.responses], axis=1))
    assert (revealed.principal_se > 0) == (spread > 0)
    assert optimal_scheme(equivalence_regions(prosecutor())).principal_se == 0.0  # finite-sum masses are exact
    low, high = revealed.ci95()
    assert low < revealed.principal_value < high or spread == 0


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
    (lambda: sampled_mechanism(prosecutor(), np.random.default_rng(0), tie_tol=-1.0), "tie_tol"),
    (lambda: evaluate(prosecutor(), np.eye(2), tie_tol=-1.0), "tie_tol"),
    (lambda: solve_signaling_lp([[0.0, 1.0]], [[0.0, 1.0]], [1.0], epsilon=True), "epsilon"),
    (lambda: sampled_recommendation(prosecutor(), [1.0, 2.0], np.random.default_rng(0), epsilon=True), "epsilon"),
    (lambda: sampled_recommendation("prosecutor", [1.0, 2.0], np.random.default_rng(0)), "game must be a PersuasionGame"),
    (lambda: sampled_mechanism("prosecutor", np.random.default_rng(0)), "game must be a PersuasionGame"),
    (lambda: sampled_mechanism(prosecutor(), np.random.default_rng(0), epsilon=-0.1), "epsilon"),
    (lambda: sampled_mechanism(prosecutor(), np.random.default_rng(0), n_samples=0), "n_samples"),
    (lambda: sampled_mechanism(prosecutor(), np.random.default_rng(0), allow_violation="yes"), "allow_violation"),
    (lambda: sampled_mechanism(prosecutor(), np.random.default_rng(0), regions="all"), "regions must be a Regions"),
    (lambda: sampled_mechanism(prosecutor(), np.random.default_rng(0), regions=equivalence_regions(prosecutor(0.4))),
     "regions must be computed for this game"),
])
def test_bad_arguments_name_the_parameter(call, name):
    with pytest.raises(ValueError, match=name):
        call()


def test_simulate_refuses_regions_of_another_game():
    """Another game's regions (same shapes, other prior) used to give numbers about neither game."""
    game, half = prosecutor(), np.ones((2, 2)) / 2
    regions = equivalence_regions(game)
    by_hand = Regions(*(getattr(regions, name) for name in ("patterns", "witnesses", "masses", "mass_errors",
                                                              "mass_method", "principal_payoffs", "agent_payoffs")))
    for game_, regions_, message in ((game, equivalence_regions(prosecutor(0.4)), "computed for this game.*prior"),
                                     (game, by_hand, "record the game"), (game, "regions", "regions must be a Regions"),
                                     ("game", regions, "game must be a PersuasionGame")):
        with pytest.raises(ValueError, match=message):
            simulate(game_, regions_, half, np.random.default_rng(0), n_rounds=10)
    assert simulate(game.replace(action_names=("stay", "go")), regions, half, np.random.default_rng(0), 10).n_rounds == 10


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


def value_at_true_masses(result, regions) -> float:
    """The principal's value of a sampled mechanism's effective scheme (obeyed) under the exact masses: its estimated
    value without the noise of which regions the trials' rules fell in."""
    located = regions.locate(result.patterns)
    assert sorted(located) == np.flatnonzero(regions.masses > 0).tolist()  # every region was met
    return float(regions.masses[located] @ np.sum(result.scheme * regions.principal_payoffs[located], axis=1))


def persuadable_instance(seed: int):
    """The first random small instance drawn from default_rng(seed) where optimal signaling beats full revelation
    (the N = 1 mechanism) by at least 0.15; uniform over its atoms, so every region has mass >= 1/4."""
    rng = np.random.default_rng(seed)
    while True:
        game = random_persuasion_game(rng, 3, int(rng.integers(2, 4)), "finite", n_atoms=4)
        game = game.replace(prior=FiniteSupportPrior(game.prior.atoms))
        regions = equivalence_regions(game)
        best, revealed = optimal_scheme(regions), full_revelation(regions)
        if best.principal_value - revealed.principal_value >= 0.15:
            return game, regions, best, revealed


@settings(max_examples=5, deadline=None, derandomize=True)
@given(seed=seeds)
def test_sampled_mechanism_error_shrinks_with_the_number_of_samples(seed):
    game, regions, best, revealed = persuadable_instance(seed)
    errors = []
    for n_samples in (1, 16, 256):
        result = sampled_mechanism(game, np.random.default_rng(seed), n_samples=n_samples, epsilon=0.0, n_trials=30)
        assert result.method == "sampled-eps-bic" and result.mass_method == "monte-carlo" and result.is_bic
        assert np.allclose(result.scheme.sum(axis=1), 1.0) and abs(result.masses.sum() - 1.0) < 1e-12
        errors.append(abs(value_at_true_masses(result, regions) - best.principal_value))
    # N = 1 reveals the rule: exactly the full-revelation gap. Then the error falls (up to the noise of 30 trials).
    assert errors[0] == pytest.approx(best.principal_value - revealed.principal_value, abs=1e-7)
    assert errors[1] <= 0.5 * errors[0] and errors[2] <= 0.5 * errors[0]
    assert errors[2] <= errors[1] + 0.03


def test_sampled_mechanism_bic_is_judged_ex_ante_against_epsilon(monkeypatch):
    """theta is exchangeable with the samples, so epsilon = 0 is BIC in expectation: reported as BIC. A mechanism
    that always recommends acting (ex ante slack -0.2) must be reported as violating, even with epsilon = 0.01."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a BIC result comes without a warning, even when violations are allowed
        honest = sampled_mechanism(synthetic_credit(), np.random.default_rng(1), n_samples=100, epsilon=0.0,
                                   n_trials=200, allow_violation=True)
    assert honest.is_bic and honest.certificate.epsilon == 0.0 and 0 < honest.certificate.bic_slack_se < 0.05
    assert honest.certificate.bic_slack_bound >= 0.0
    monkeypatch.setattr(signaling, "sampled_recommendation", lambda game, theta, rng, n_samples, epsilon: np.eye(2)[1])
    # Refused like the exact solvers' violations, unless asked for; then returned with a warning, never silently.
    with pytest.raises(BICViolationError, match="allow_violation=True"):
        sampled_mechanism(prosecutor(), np.random.default_rng(0), n_samples=10, epsilon=0.01, n_trials=1000)
    with pytest.warns(BICViolationWarning, match="violates epsilon-BIC"):
        pushy = sampled_mechanism(prosecutor(), np.random.default_rng(0), n_samples=10, epsilon=0.01, n_trials=1000,
                                  allow_violation=True)
    assert pushy.certificate.bic_slack == pytest.approx(0.3 * 0.5 - 0.7 * 0.5, abs=4 * pushy.certificate.bic_slack_se)
    assert not pushy.is_bic and pushy.certificate.bic_slack_bound < -0.01
    with pytest.warns(BICViolationWarning):  # on the regions too, where the agent's refusal is priced: value 0
        priced = sampled_mechanism(prosecutor(), np.random.default_rng(0), n_samples=10, epsilon=0.01, n_trials=1000,
                                   regions=equivalence_regions(prosecutor()), allow_violation=True)
    assert not priced.is_bic and priced.responses.tolist() == [0, 0] and priced.principal_value == 0.0


def persuadable_gaussian_instance(seed: int):
    """The first random Gaussian instance (3 features, 2 or 3 actions, exact orthant masses) drawn from
    default_rng(seed) where optimal signaling beats full revelation by at least 0.1."""
    rng = np.random.default_rng(seed)
    for _ in range(200):
        game = random_persuasion_game(rng, 3, int(rng.integers(2, 4)), "gaussian")
        regions = equivalence_regions(game)
        best, revealed = optimal_scheme(regions), full_revelation(regions)
        if best.principal_value - revealed.principal_value >= 0.1:
            return game, regions, best, revealed
    raise AssertionError(f"no instance among 200 draws from default_rng({seed}) beats full revelation by 0.1")


def mechanism_value(game, regions, rng, n_samples: int, epsilon: float, per_region: int) -> tuple[float, float]:
    """Independent estimate of the sampled mechanism's value to the principal with the agent following, stratified
    by region: ``per_region`` runs of sampled_recommendation at each region's witness, weighted by the exact masses.
    Returns (value, standard error)."""
    means, errors = [], []
    for witness, payoffs in zip(regions.witnesses, regions.principal_payoffs):
        values = [sampled_recommendation(game, witness, rng, n_samples, epsilon) @ payoffs for _ in range(per_region)]
        means.append(np.mean(values))
        errors.append(np.std(values, ddof=1) / np.sqrt(per_region))
    return float(regions.masses @ means), float(np.sqrt(np.sum((regions.masses * errors) ** 2)))


@settings(max_examples=8, deadline=timedelta(seconds=60), derandomize=True)
@given(seed=seeds)
def test_sampled_mechanism_approaches_the_lp_on_gaussian_instances(seed):
    """With epsilon = 0 the mechanism's induced scheme is BIC (the realized rule is exchangeable with the samples, so
    each per-sample LP constraint holds in expectation), hence worth at most the LP optimum; with one sample it is
    full revelation; with many it approaches the optimum. Calibrated on 30 instances: at N = 256 the remaining gap
    was at most 0.14 of the full-revelation gap, so 0.3 leaves room without letting a mechanism that ignores its
    samples (gap 1) pass."""
    game, regions, best, revealed = persuadable_gaussian_instance(seed)
    rng = np.random.default_rng(seed)
    alone, alone_se = mechanism_value(game, regions, rng, 1, 0.0, per_region=2)
    assert alone_se == 0.0 and alone == pytest.approx(revealed.principal_value, abs=1e-9)
    value, se = mechanism_value(game, regions, rng, 256, 0.0, per_region=12)
    assert value <= best.principal_value + 4 * se + 1e-9
    assert best.principal_value - value <= 0.3 * (best.principal_value - revealed.principal_value) + 4 * se


@settings(max_examples=6, deadline=timedelta(seconds=60), derandomize=True)
@given(seed=seeds, epsilon=st.sampled_from([0.0, 0.02]))
def test_sampled_mechanism_on_the_regions_agrees_with_simulating_the_mechanism(seed, epsilon):
    """The region-aligned result is evaluated exactly (masses, the agent's actual responses); an independent
    simulation runs the mechanism itself on fresh rules and fresh samples, with the agent playing those responses.
    The two must agree within the simulation's error bar plus the result's (masses + estimate, 3 standard errors)."""
    game, regions, _, _ = persuadable_gaussian_instance(seed)
    result = sampled_mechanism(game, np.random.default_rng(seed), n_samples=16, epsilon=epsilon, n_trials=100,
                               regions=regions, allow_violation=True)
    assert np.array_equal(result.patterns, regions.patterns) and np.array_equal(result.masses, regions.masses)
    exact = evaluate(regions, result.scheme)
    assert np.array_equal(exact.responses, result.responses)
    assert exact.principal_value == result.principal_value and exact.agent_value == result.agent_value
    rng = np.random.default_rng(seed + 1)
    rules = game.prior.sample(rng, 300)
    principal, _ = region_payoffs(game, decision_patterns(game, rules))
    values = [sampled_recommendation(game, rule, rng, 16, epsilon) @ payoffs[result.responses]
              for rule, payoffs in zip(rules, principal)]
    simulated, simulated_se = float(np.mean(values)), float(np.std(values, ddof=1) / np.sqrt(len(values)))
    assert abs(simulated - result.principal_value) <= 4 * simulated_se + 3 * result.principal_se + 1e-12
    # simulate() plays the estimated scheme itself: the exact values within its error bars.
    played = simulate(game, regions, result.scheme, rng, n_rounds=20_000)
    mass_error = float(regions.mass_errors.sum()) + 1e-12
    assert abs(played.principal_value - result.principal_value) <= 4 * played.principal_se + mass_error
    assert abs(played.agent_value - result.agent_value) <= 4 * played.agent_se + 2 * mass_error


def _twin_game(seed: int, extra_cost: float):
    """A random game whose action 2 is action 1 at ``extra_cost`` more, and which the principal prefers."""
    game = random_persuasion_game(np.random.default_rng([seed, 3]), n_features=3, n_actions=4, prior="finite")
    effects, costs = game.effects.copy(), game.costs.copy()
    effects[2], costs[2] = effects[1], costs[1] + extra_cost
    return dataclasses.replace(game, effects=effects, costs=costs, principal_utility=np.array([0.0, 0.5, 1.0, 0.0]))


@pytest.mark.parametrize("seed", range(25))
def test_nearly_equal_actions_are_tied_exactly_where_the_agent_ties_them(seed):
    """Action 2 is action 1 at a cost ``f * TIE_TOL`` higher. Inside the agent's tie zone (f = 0.3) the agent obeys
    either, so the optimum is the exact twins' (f = 0); outside it (f = 2, 5) action 2 is never followed, as at a
    clearly higher cost (1e-3). The BIC rows between the two have coefficients of about 1e-9, which HiGHS dropped
    (the LP recommended action 2 where the agent would not follow it, and relabelling lost up to half the value),
    and the LP allowed no tie zone (so a twin inside the zone could not be used once the rows were exact)."""
    value = {f: optimal_scheme(equivalence_regions(_twin_game(seed, f * TIE_TOL))).principal_value
             for f in (0.0, 0.3, 2.0, 5.0)}
    dominated = optimal_scheme(equivalence_regions(_twin_game(seed, 1e-3))).principal_value
    assert value[0.3] == pytest.approx(value[0.0], abs=1e-8)
    assert value[2.0] == pytest.approx(dominated, abs=1e-8) and value[5.0] == pytest.approx(dominated, abs=1e-8)
