"""Exact solvers and reference policies of the stateful game (stratgym.baselines.stateful).

Each solver is checked against an independent method: the MILP against brute force over pure policies
(with the membership LP), the per-round decomposition against the MILP and against an exhaustive search
over candidate rules scored by the game's own ``best_response``; the membership oracle against the
game's best responses and, when ``n = 1`` (a single possible rule), against the agent's regret directly;
plus the classroom's derived optimum and theorem-level inequalities between reference policies.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stratgym.baselines.stateful import milp as milp_module
from stratgym.baselines.stateful import verify
from stratgym.baselines.stateful import (best_constant_rule, brute_force_optimum, incentive_margins,
                                         incentivizing_rule, milp_optimum, per_round_optimum, repeated_one_round_rule,
                                         response_operator, search_optimum, solve, uniform_weights)
from stratgym.games.stateful import (GAP_TOL, Response, StatefulGame, best_response, classroom, favoured_option,
                                     frank_wolfe_gap, random_game, rollout, round_scales, uniform_rule)

seeds = st.integers(0, 2**32 - 1)
models = st.sampled_from(("rational", "myopic", "forecasting"))
CONCAVE = ("sqrt", "log1p")


def small_game(seed: int, conversion: str = "linear", max_horizon: int = 4, n_features: int | None = None,
               n_efforts: int | None = None) -> StatefulGame:
    """A random instance with T in 1..max_horizon, n and d in 1..3 unless given, and a budget in [0.5, 2]."""
    rng = np.random.default_rng(seed)
    game = random_game(rng, horizon=int(rng.integers(1, max_horizon + 1)),
                       n_features=n_features or int(rng.integers(1, 4)),
                       n_efforts=n_efforts or int(rng.integers(1, 4)), conversion=conversion)
    return game.replace(budget=float(rng.uniform(0.5, 2.0)))


def random_rules(rng: np.random.Generator, game: StatefulGame) -> np.ndarray:
    return rng.dirichlet(np.ones(game.n_features), size=game.horizon)


def principal_value(game: StatefulGame, theta: np.ndarray, model: str) -> float:
    """The principal's utility of ``theta`` against ``model``, recomputed from scratch."""
    return float(rollout(game, theta, best_response(game, theta, model).effort).principal_utility)


def assert_rechecked(game: StatefulGame, result) -> None:
    """The result's effort is the agent's response to its theta, and the utilities are that response's."""
    response = best_response(game, result.theta, result.agent)
    np.testing.assert_allclose(result.effort, response.effort, atol=1e-12)
    played = rollout(game, result.theta, response.effort)
    assert result.principal_value == pytest.approx(float(played.principal_utility), abs=1e-9)
    assert result.agent_value == pytest.approx(float(played.agent_utility), abs=1e-9)


# ---------------------------------------------------------------------------------------------
# The agent's ranking operator
# ---------------------------------------------------------------------------------------------

@given(seed=seeds, model=models)
@settings(max_examples=30, deadline=None)
def test_response_operator_predicts_best_response(seed, model):
    rng = np.random.default_rng(seed)
    game = small_game(seed)
    theta = random_rules(rng, game)
    values = np.einsum("tjui,ui->tj", response_operator(game, model), theta)
    np.testing.assert_array_equal(favoured_option(game, values, round_scales(game, model)),
                                  best_response(game, theta, model).effort)


@given(seed=seeds)
@settings(max_examples=20, deadline=None)
def test_forecasting_operator_closed_form(seed):
    """Round tau (0-based) ranks by ``(W^T theta_tau) * h_tau``,
    ``h_tau = 1 + omega sum_{u=1}^{T-1-tau} gamma^u p^(u-1)`` (myopic: ``h = 1``)."""
    game = small_game(seed)
    operator = response_operator(game, "forecasting")
    myopic = response_operator(game, "myopic")
    gamma, p, omega, T = game.discount, game.persistence, game.retention, game.horizon
    for tau in range(T):
        h = 1.0 + omega * sum(gamma**u * p ** (u - 1) for u in range(1, T - tau))
        np.testing.assert_allclose(operator[tau, :, tau, :], game.conversion_matrix.T * h[:, None], rtol=1e-12)
        np.testing.assert_allclose(myopic[tau, :, tau, :], game.conversion_matrix.T, rtol=1e-12)
        others = [t for t in range(T) if t != tau]
        assert not operator[tau][:, others].any() and not myopic[tau][:, others].any()


# ---------------------------------------------------------------------------------------------
# Membership oracle
# ---------------------------------------------------------------------------------------------

@given(seed=seeds, model=models, conversion=st.sampled_from(("linear", "linear") + CONCAVE))
@settings(max_examples=40, deadline=None)
def test_best_responses_are_members_and_certificates_verify(seed, model, conversion):
    rng = np.random.default_rng(seed)
    game = small_game(seed, conversion, max_horizon=3)
    if not game.is_linear:
        model = "rational"  # concave membership is for the rational agent
    effort = best_response(game, random_rules(rng, game), model).effort
    certificate = incentivizing_rule(game, effort, model=model)
    assert certificate is not None
    response = best_response(game, certificate, model).effort
    if game.is_linear:
        # effort is one of the agent's best responses to the certificate: no positive margin is violated ...
        assert np.all(incentive_margins(game, certificate, effort, model) >= -1e-9)
        if model == "rational":  # ... so the two policies are worth the same to the agent
            assert rollout(game, certificate, effort).agent_utility == pytest.approx(
                rollout(game, certificate, response).agent_utility, rel=1e-9, abs=1e-12)
        # and the principal's favourite among those best responses is worth at least as much to the principal
        assert principal_value(game, certificate, model) >= effort.sum(axis=0) @ game.effort_value - 1e-9
    else:
        assert frank_wolfe_gap(game, certificate, effort) <= GAP_TOL * (1 + 1e-6)
        assert rollout(game, certificate, effort).agent_utility == pytest.approx(
            rollout(game, certificate, response).agent_utility, abs=2 * GAP_TOL)


@given(seed=seeds, conversion=st.sampled_from(("linear",) + CONCAVE), pure=st.booleans())
@settings(max_examples=40, deadline=None)
def test_membership_is_exact_when_there_is_a_single_rule(seed, conversion, pure):
    """With ``n = 1`` the only rule is ``theta = 1``: ``effort`` is a member iff its regret (Frank–Wolfe gap) is 0
    (linear g, up to rounding) or at most ``GAP_TOL`` (concave g)."""
    rng = np.random.default_rng(seed)
    game = small_game(seed, conversion, max_horizon=3, n_features=1)
    if pure:
        choice = rng.integers(0, game.n_efforts + 1, size=game.horizon)
        effort = game.budget * np.eye(game.n_efforts + 1)[choice][:, :game.n_efforts]
    else:
        effort = game.budget * rng.dirichlet(np.ones(game.n_efforts + 1), size=game.horizon)[:, :game.n_efforts]
    regret = frank_wolfe_gap(game, np.ones((game.horizon, 1)), effort)
    certificate = incentivizing_rule(game, effort)
    threshold = 1e-9 if game.is_linear else GAP_TOL
    if regret <= threshold / 10:
        assert certificate is not None
    if regret > threshold * 10:
        assert certificate is None


@given(seed=seeds, model=models)
@settings(max_examples=30, deadline=None)
def test_pure_policies_outside_the_membership_lp_are_never_responses(seed, model):
    """A pure policy is either certified (and the certificate verifies), or no sampled rule elicits it, and if some
    round's choice is dominated by another option under every rule, it is rejected."""
    rng = np.random.default_rng(seed)
    game = small_game(seed, max_horizon=3)
    choice = rng.integers(0, game.n_efforts + 1, size=game.horizon)
    effort = game.budget * np.eye(game.n_efforts + 1)[choice][:, :game.n_efforts]
    certificate = incentivizing_rule(game, effort, model=model)
    operator = response_operator(game, model)
    options = np.concatenate([operator, np.zeros((game.horizon, 1) + operator.shape[2:])], axis=1)
    # option o beats the chosen one under every rule if sum_t min_i (A_o - A_chosen)[t, i] > 0
    advantage = (options - options[np.arange(game.horizon), choice][:, None]).min(axis=-1).sum(axis=-1)
    if np.any(advantage > 1e-9):
        assert certificate is None
    if certificate is None:
        samples = np.concatenate([rng.dirichlet(np.ones(game.n_features), size=(200, game.horizon)),
                                  np.eye(game.n_features)[rng.integers(0, game.n_features, (50, game.horizon))]])
        for theta in samples:
            assert np.any(incentive_margins(game, theta, effort, model) < -1e-12)
    else:
        assert np.all(incentive_margins(game, certificate, effort, model) >= -1e-9)


@given(seed=seeds, model=models, margin=st.sampled_from((0.01, 0.05)))
@settings(max_examples=30, deadline=None)
def test_margin_certificates_give_strict_preferences(seed, model, margin):
    rng = np.random.default_rng(seed)
    game = small_game(seed, max_horizon=3)
    effort = best_response(game, random_rules(rng, game), model).effort
    certificate = incentivizing_rule(game, effort, margin, model=model)
    if certificate is None:
        return
    assert np.all(incentive_margins(game, certificate, effort, model) >= margin - 1e-9)
    np.testing.assert_array_equal(best_response(game, certificate, model).effort, effort)


def test_sqrt_features_left_at_zero_get_no_weight():
    """sqrt's slope is infinite at 0: weight on a feature the effort leaves at 0 would make moving effort there pay
    infinitely, so a certificate puts no weight on it, and if every feature is left at 0 there is none."""
    game = StatefulGame(conversion_matrix=np.eye(2), retention=[0.0, 0.0], effort_value=[1.0, 0.0], horizon=2,
                        conversion="sqrt")
    effort = np.array([[1.0, 0.0], [1.0, 0.0]])
    certificate = incentivizing_rule(game, effort)
    np.testing.assert_array_equal(certificate[:, 1], 0.0)
    assert frank_wolfe_gap(game, certificate, effort) <= GAP_TOL
    one_feature = StatefulGame(conversion_matrix=[[1.0, 0.0]], retention=[0.0, 0.0], effort_value=[1.0, 0.0],
                               horizon=2, conversion="sqrt")
    assert incentivizing_rule(one_feature, [[0.0, 1.0], [0.0, 1.0]]) is None


def test_constant_certificates_are_constant():
    game = classroom(4)
    effort = np.array([[0, 1, 0], [0, 1, 0], [0, 1, 0], [1, 0, 0]], dtype=float)
    certificate = incentivizing_rule(game, effort, constant=True)
    np.testing.assert_allclose(certificate, np.tile(certificate[0], (4, 1)))
    np.testing.assert_array_equal(best_response(game, certificate).effort[:, 1], effort[:, 1])


# ---------------------------------------------------------------------------------------------
# Exact optimum, linear g: MILP vs brute force vs per-round decomposition
# ---------------------------------------------------------------------------------------------

def outcome(solver, *args, **kwargs):
    """The principal's optimal value, or ``None`` if the solver reports that no rule achieves the margin."""
    try:
        return solver(*args, **kwargs)
    except ValueError as error:
        assert "margin" in str(error)
        return None


@given(seed=seeds, model=models, margin=st.sampled_from((0.0, 0.0, 0.05, 0.2)), constant=st.booleans())
@settings(max_examples=60, deadline=None)
def test_milp_equals_brute_force(seed, model, margin, constant):
    game = small_game(seed)
    exact = outcome(milp_optimum, game, model, margin, constant)
    enumerated = outcome(brute_force_optimum, game, model, margin, constant)
    assert (exact is None) == (enumerated is None)
    if exact is None:
        assert margin > 0
        return
    assert exact.principal_value == pytest.approx(enumerated.principal_value, abs=1e-9)
    for result in (exact, enumerated):
        assert_rechecked(game, result)
        assert np.all(result.certificate.incentive_margins >= margin - 1e-9)
        if constant:
            np.testing.assert_allclose(result.theta, np.tile(result.theta[0], (game.horizon, 1)))
    if model != "rational" and not constant:
        assert per_round_optimum(game, model, margin).principal_value == pytest.approx(exact.principal_value,
                                                                                          abs=1e-9)


def candidate_rules(game: StatefulGame, model: str, tau: int) -> np.ndarray:
    """Rules ``(a, 1 - a)`` (n = 2) that cover every response of round ``tau``: the agent ranks options by values
    linear in ``a`` (``(W^T theta) h`` with ``h`` the forecasting horizon factor, no effort worth 0), so its choice
    only changes where two values cross; take the crossings, the ends and the midpoints between them."""
    gamma, p, omega, T = game.discount, game.persistence, game.retention, game.horizon
    h = np.ones(game.n_efforts) if model == "myopic" else \
        1.0 + omega * sum(gamma**u * p ** (u - 1) for u in range(1, T - tau))
    at_zero = game.conversion_matrix[1] * h
    slope = (game.conversion_matrix[0] - game.conversion_matrix[1]) * h
    at_zero, slope = np.append(at_zero, 0.0), np.append(slope, 0.0)
    crossings = [0.0, 1.0]
    for j, k in itertools.combinations(range(game.n_efforts + 1), 2):
        if slope[j] != slope[k]:
            crossings.append((at_zero[k] - at_zero[j]) / (slope[j] - slope[k]))
    points = np.unique(np.clip(crossings, 0.0, 1.0))
    points = np.concatenate([points, (points[1:] + points[:-1]) / 2])
    return np.stack([points, 1.0 - points], axis=1)


@given(seed=seeds, model=st.sampled_from(("myopic", "forecasting")))
@settings(max_examples=25, deadline=None)
def test_per_round_optimum_equals_exhaustive_search_over_rules(seed, model):
    game = small_game(seed, max_horizon=2, n_features=2)
    best = max(principal_value(game, np.array(rules), model)
               for rules in itertools.product(*(candidate_rules(game, model, tau) for tau in range(game.horizon))))
    result = per_round_optimum(game, model)
    assert result.principal_value == pytest.approx(best, abs=1e-9)
    assert_rechecked(game, result)


# ---------------------------------------------------------------------------------------------
# Theorems and named instances
# ---------------------------------------------------------------------------------------------

def test_classroom_reachable_study_is_t_minus_one_over_t():
    averages = []
    for horizon in range(1, 7):
        game = classroom(horizon)
        result = solve(game)
        assert result.effort[-1, 1] == 0.0  # the last round's study cannot pay
        averages.append(result.effort[:, 1].mean())
        assert averages[-1] == pytest.approx((horizon - 1) / horizon, abs=1e-12)
        assert solve(game, margin=0.05).principal_value == pytest.approx(horizon - 1, abs=1e-12)
        assert solve(game, "myopic").principal_value == 0.0  # 0.4 < 0.5: a myopic student never studies
    assert np.all(np.diff(averages) > 0)


@pytest.mark.parametrize("effort", [[[0.0, 1.0, 0.0]], [[0.5, 0.5, 0.0]], [[0.0, 0.1, 0.9]], [[0.0, 0.5, 0.0]]])
def test_classroom_one_round_study_cannot_be_incentivized(effort):
    assert incentivizing_rule(classroom(1), effort) is None


def test_myopic_optimum_can_beat_the_rational_one():
    """Not a theorem that the rational agent is easier to steer. One feature, efforts (a, b) with ``W = (1, 0.9)``,
    only b retained, the principal values a. A myopic agent takes a (1 > 0.9) in both rounds: value 2. A rational
    (or forecasting) agent sees b worth 0.9 + 0.9 in round 1, so takes b, then a: value 1."""
    game = StatefulGame(conversion_matrix=[[1.0, 0.9]], retention=[0.0, 1.0], effort_value=[1.0, 0.0], horizon=2)
    assert solve(game, "myopic").principal_value == 2.0
    assert solve(game).principal_value == 1.0
    assert solve(game, "forecasting").principal_value == 1.0


@given(seed=seeds)
@settings(max_examples=20, deadline=None)
def test_without_retention_all_agents_are_alike(seed):
    """``omega = 0``: effort has no future, so the three agents solve the same per-round problem."""
    game = small_game(seed)
    game = game.replace(retention=np.zeros(game.n_efforts))
    values = [solve(game, model).principal_value for model in ("rational", "myopic", "forecasting")]
    assert values == pytest.approx([values[0]] * 3, abs=1e-9)


@given(seed=seeds, model=models)
@settings(max_examples=20, deadline=None)
def test_reference_policies_are_ordered(seed, model):
    """Restricting the principal can only cost it: uniform, one-round-repeated <= best constant <= dynamic optimum."""
    game = small_game(seed)
    optimum = solve(game, model)
    constant = best_constant_rule(game, model)
    assert constant.principal_value <= optimum.principal_value + 1e-9
    for baseline in (uniform_weights(game, model), repeated_one_round_rule(game, model), constant):
        assert baseline.principal_value <= constant.principal_value + 1e-9
        assert baseline.certificate.optimality_gap == pytest.approx(optimum.principal_value - baseline.principal_value,
                                                        abs=1e-9)
        assert_rechecked(game, baseline)
    one_round = solve(game.replace(horizon=1))
    np.testing.assert_allclose(repeated_one_round_rule(game, model).theta,
                               np.tile(one_round.theta, (game.horizon, 1)))
    if game.horizon == 1:
        assert optimum.principal_value == pytest.approx(one_round.principal_value, abs=1e-9)


# ---------------------------------------------------------------------------------------------
# Concave g: certified search
# ---------------------------------------------------------------------------------------------

@given(seed=seeds, conversion=st.sampled_from(CONCAVE))
@settings(max_examples=6, deadline=None)
def test_concave_search_is_certified_and_beats_a_grid(seed, conversion):
    game = small_game(seed, conversion, max_horizon=1, n_features=2)
    result = solve(game, n_samples=16, n_refine=16)
    assert_rechecked(game, result)
    assert result.certificate.agent_duality_gap <= GAP_TOL
    assert incentivizing_rule(game, result.effort) is not None
    grid = max(principal_value(game, np.array([[a, 1.0 - a]]), "rational") for a in np.linspace(0.0, 1.0, 101))
    upper = result.principal_value + result.certificate.optimality_gap
    assert result.certificate.optimality_gap >= 0.0
    assert grid <= upper + 1e-9
    assert result.principal_value >= grid - 1e-3


@given(seed=seeds, conversion=st.sampled_from(CONCAVE), model=models)
@settings(max_examples=6, deadline=None)
def test_concave_search_over_several_rounds(seed, conversion, model):
    rng = np.random.default_rng(seed)
    game = small_game(seed, conversion, max_horizon=3)
    result = search_optimum(game, model, n_samples=8, n_refine=8, seed=seed)
    assert_rechecked(game, result)
    assert result.certificate.optimality_gap >= 0.0
    samples = max(principal_value(game, random_rules(rng, game), model) for _ in range(8))
    assert samples <= result.principal_value + result.certificate.optimality_gap + 1e-9


def test_concave_gap_is_zero_when_the_ideal_policy_is_reachable():
    """sqrt classroom where only studying moves the features: the agent always studies, the ideal policy."""
    game = classroom(2, conversion="sqrt", conversion_matrix=[[0.0, 1.0, 0.0], [0.0, 1.0, 0.0]])
    result = solve(game, n_samples=2, n_refine=2)
    assert result.principal_value == pytest.approx(2.0, abs=1e-6)
    assert result.certificate.optimality_gap == pytest.approx(0.0, abs=1e-6)


# ---------------------------------------------------------------------------------------------
# Entry point, argument checks, and the re-check guard
# ---------------------------------------------------------------------------------------------

def test_solve_dispatches_and_reports():
    game = classroom(3)
    for method, expected in (("auto", "milp"), ("milp", "milp"), ("brute-force", "brute-force")):
        result = solve(game, method=method)
        assert result.method == expected and result.principal_value == 2.0 and result.certificate.optimality_gap == 0.0
    assert solve(game, "forecasting").method == "per-round"
    assert solve(game, method="milp", constant=True).method == "best-constant"
    assert solve(classroom(2, conversion="log1p"), n_samples=2, n_refine=2).method == "search"
    result = solve(game)
    assert result.diagnostics["milp_status"] and result.certificate.incentive_margins.shape == (3,)


@pytest.mark.parametrize(("call", "error", "match"), [
    (lambda: solve(classroom(2), method="simplex"), ValueError, "method"),
    (lambda: solve(classroom(2), "clairvoyant"), ValueError, "agent"),
    (lambda: solve(classroom(2), margin=-0.1), ValueError, "margin"),
    (lambda: solve(classroom(2), margin=float("nan")), ValueError, "margin"),
    (lambda: solve(classroom(2), method="per-round"), ValueError, "rational"),
    (lambda: milp_optimum(classroom(2, conversion="sqrt")), ValueError, "linear g"),
    (lambda: brute_force_optimum(classroom(8)), ValueError, "max_policies"),
    (lambda: solve(classroom(2, conversion="sqrt"), margin=0.1), NotImplementedError, "margin"),
    (lambda: incentivizing_rule(classroom(2, conversion="sqrt"), np.zeros((2, 3)), model="myopic"),
     NotImplementedError, "myopic"),
    (lambda: incentivizing_rule(classroom(2), np.zeros((3, 3))), ValueError, "effort"),
    (lambda: incentivizing_rule(classroom(2), np.ones((2, 3))), ValueError, "effort"),
    (lambda: incentivizing_rule(classroom(2), np.zeros((2, 3)), regret_tol=-1.0), ValueError, "regret_tol"),
    (lambda: search_optimum(classroom(2), n_samples=-1), ValueError, "n_samples"),
    (lambda: best_response(classroom(2), uniform_rule(classroom(2)), tie_tol=float("nan")), ValueError, "tie_tol"),
    (lambda: best_response(classroom(2), uniform_rule(classroom(2)), gap_tol=-1.0), ValueError, "gap_tol"),
    (lambda: best_response(classroom(2), uniform_rule(classroom(2)), initial_state=[-1.0, 0.0, 0.0]), ValueError,
     "initial_state"),
    (lambda: best_response(classroom(2), uniform_rule(classroom(2)), initial_state=[0.0, 0.0]), ValueError,
     "initial_state"),
    (lambda: rollout(classroom(2), uniform_rule(classroom(2)), np.zeros((2, 3)), initial_state=[np.nan, 0.0, 0.0]),
     ValueError, "initial_state"),
    (lambda: solve(StatefulGame(conversion_matrix=[[1.0, 1.0]], retention=[0.0, 0.0], effort_value=[1.0, 0.0],
                                horizon=1), margin=0.1), ValueError, "margin"),
    (lambda: solve(None), ValueError, "game must be a StatefulGame"),
    (lambda: milp_optimum("classroom"), ValueError, "game must be a StatefulGame"),
    (lambda: uniform_weights(None), ValueError, "game must be a StatefulGame"),
    (lambda: incentivizing_rule(None, np.zeros((2, 3))), ValueError, "game must be a StatefulGame"),
    (lambda: milp_optimum(classroom(2), time_limit=-1), ValueError, "time_limit"),
    (lambda: milp_optimum(classroom(2), time_limit="a"), ValueError, "time_limit"),
    (lambda: milp_optimum(classroom(2), constant="no"), ValueError, "constant"),
    (lambda: brute_force_optimum(classroom(2), max_policies="a"), ValueError, "max_policies"),
    (lambda: brute_force_optimum(classroom(2), constant=1), ValueError, "constant"),
    (lambda: incentivizing_rule(classroom(2), np.zeros((2, 3)), constant="yes"), ValueError, "constant"),
    (lambda: search_optimum(classroom(2), seed="a"), ValueError, "seed"),
    (lambda: search_optimum(classroom(2), n_refine=True), ValueError, "n_refine"),
    (lambda: search_optimum(classroom(2), constant="no"), ValueError, "constant"),
])
def test_bad_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call()


@pytest.mark.parametrize("budget", [1.0, 1e-10])
def test_a_wrong_claim_is_caught_by_the_recheck(budget):
    """The true value is 2 B; a claim of 3 B is caught at any budget (the tolerance is relative to T B max|lambda|)."""
    game = classroom(3, budget=budget)
    theta = solve(game).theta
    with pytest.raises(RuntimeError, match="claimed"):
        verify.verified_result(game, theta, "rational", 3.0 * budget, "test", {}, 0.0)
    verify.verified_result(game, theta, "rational", 2.0 * budget * (1 + 1e-9), "test", {}, 0.0)


def test_a_value_above_the_optimum_is_not_hidden_as_a_zero_gap():
    game = classroom(3, budget=1e-10)
    assert verify.certified_gap(game, 2e-10, 2e-10 * (1 + 1e-9), "test") == 0.0  # rounding: clipped
    with pytest.raises(RuntimeError, match="exceeds"):
        verify.certified_gap(game, 1e-10, 2e-10, "test")


def test_a_rejected_milp_choice_is_cut_off_and_the_milp_solved_again(monkeypatch):
    """If the exact membership LP rejects the MILP's choice, that choice is excluded by a no-good cut and the next
    MILP solution is certified instead; the optimum (2 in the classroom with T = 3) survives, since several
    patterns reach it (the last round may copy or look up)."""
    game = classroom(3)
    membership, calls = milp_module.membership_certificate, []

    def reject_first(game, effort, *args):
        calls.append(np.array(effort))
        return (None, float("nan"), "rejected") if len(calls) == 1 else membership(game, effort, *args)

    monkeypatch.setattr(milp_module, "membership_certificate", reject_first)
    result = milp_optimum(game)
    assert len(calls) == 2 and not np.array_equal(calls[0], calls[1])
    assert result.diagnostics["no_good_cuts"] == 1
    assert result.principal_value == brute_force_optimum(game).principal_value == 2.0
    # If every choice is rejected, the solver does not raise: it returns a simple policy, marked not proven optimal,
    # with its certified gap to the MILP's bound.
    monkeypatch.setattr(milp_module, "membership_certificate", lambda *args: (None, float("nan"), "rejected"))
    fallback = milp_optimum(game)
    assert fallback.diagnostics["proven_optimal"] is False
    assert fallback.principal_value + fallback.certificate.optimality_gap >= 2.0 - 1e-9
    assert_rechecked(game, fallback)


def test_a_wrong_response_is_caught_by_the_recheck(monkeypatch):
    """The returned response is checked by a second computation (incentive margins / a fresh Frank–Wolfe gap)."""
    game = classroom(3)
    theta = solve(game).theta
    lazy = lambda game, theta, model="rational", **_: Response(np.zeros((game.horizon, game.n_efforts)))  # noqa: E731
    monkeypatch.setattr(verify, "best_response", lazy)
    with pytest.raises(RuntimeError, match="incentive margins reject"):
        verify.verified_result(game, theta, "rational", None, "test", {}, 0.0)
    concave = classroom(2, conversion="sqrt")
    with pytest.raises(RuntimeError, match="Frank–Wolfe gap"):
        verify.verified_result(concave, uniform_rule(concave), "rational", None, "test", {}, 0.0)


@pytest.mark.parametrize("model", ["rational", "myopic", "forecasting"])
def test_rollouts_of_one_round_deviations_catch_a_wrong_response_on_their_own(monkeypatch, model):
    """With the incentive margins (which share the best response's operator) disabled, the rollout check alone
    rejects a response that is not the agent's: here the student copies in every round, where the certified rule
    makes it study in rounds 1..T-1 (rational, forecasting) or look up homework (myopic, homework weighed 0.7)."""
    game = classroom(3)
    theta = solve(game, model).theta if model != "myopic" else np.tile([0.3, 0.7], (3, 1))
    verify.verified_result(game, theta, model, None, "test", {}, 0.0)  # the true response passes
    copying = lambda game, theta, model="rational", **_: Response(np.tile([1.0, 0.0, 0.0], (3, 1)))  # noqa: E731
    monkeypatch.setattr(verify, "best_response", copying)
    monkeypatch.setattr(verify, "incentive_margins", lambda *args: np.zeros(3))
    with pytest.raises(RuntimeError, match="one-round deviations"):
        verify.verified_result(game, theta, model, None, "test", {}, 0.0)


@given(seed=seeds, model=models, log_scale=st.integers(-12, 8), discount=st.sampled_from([1e-3, 0.02, 1.0]))
@settings(max_examples=40, deadline=None)
def test_exact_solvers_do_not_depend_on_the_units_of_w_or_on_discounting(seed, model, log_scale, discount):
    """MILP and brute force agree on games whose late rounds are worth ``gamma^(T-1)`` (down to 1e-9) or whose
    W is scaled by 10^k: both normalize each round by its scale, like the agent's ties."""
    game = small_game(seed).replace(discount=discount)
    scaled = game.replace(conversion_matrix=game.conversion_matrix * 10.0 ** log_scale)
    exact = milp_optimum(scaled, model)
    assert exact.principal_value == pytest.approx(brute_force_optimum(scaled, model).principal_value, abs=1e-9)
    assert exact.principal_value == pytest.approx(milp_optimum(game, model).principal_value, abs=1e-9)
    assert_rechecked(scaled, exact)


@given(seed=seeds, model=models, log_scale=st.integers(-10, 6), field=st.sampled_from(("budget", "effort_value")))
@settings(max_examples=40, deadline=None, derandomize=True)
def test_exact_optima_scale_with_the_budget_and_the_principal_values(seed, model, log_scale, field):
    """Scaling ``B`` or ``lambda`` by ``c > 0`` scales every policy's value by ``c`` and changes no agent choice (the
    agent's values do not involve ``B``; ``lambda``'s order and signs, which break its ties, stay), so the optimum
    is ``c`` times the optimum, induced by the same effort pattern. The solvers normalize by ``B max|lambda|``."""
    game = small_game(seed)
    c = 10.0 ** log_scale
    scaled = game.replace(**{field: getattr(game, field) * c})
    unit = game.horizon * game.budget * np.abs(game.effort_value).max()
    for solver in (milp_optimum, brute_force_optimum):
        base, result = solver(game, model), solver(scaled, model)
        assert result.principal_value == pytest.approx(c * base.principal_value, rel=1e-9, abs=1e-12 * c * unit)
        pattern = result.effort / scaled.budget  # entries exactly 0 or 1: every option is a budget vertex
        if field == "budget":  # B drops out of every solver step: the very same rule and choices
            np.testing.assert_array_equal(result.theta, base.theta)
            np.testing.assert_array_equal(pattern, base.effort / game.budget)
        elif not np.array_equal(pattern, base.effort / game.budget):
            # lambda * c rounds differently, which may pick another of several optimal patterns: then it must be one
            assert float(rollout(game, result.theta, pattern * game.budget).principal_utility) == pytest.approx(
                base.principal_value, rel=1e-9, abs=1e-12 * unit)
            np.testing.assert_array_equal(best_response(game, result.theta, model).effort, pattern * game.budget)


@pytest.mark.parametrize("budget", [1.0, 1e-8, 1e-12])
def test_classroom_optimum_at_any_budget(budget):
    """The audited case: the optimum studies in rounds 1..T-1 (value (T - 1) B) at every budget, and no reference
    policy beats it (their gaps are not clipped from below)."""
    game = classroom(3, budget=budget)
    for method in ("milp", "brute-force"):
        assert solve(game, method=method).principal_value == pytest.approx(2.0 * budget, rel=1e-12)
    assert uniform_weights(game).certificate.optimality_gap == pytest.approx(0.0, abs=1e-12 * budget)


def test_milp_is_quick_enough_for_long_classroom_horizons():
    """T = 20 classroom: the exact optimum studies in all but the last round (timings are reported, not asserted)."""
    result = solve(classroom(20))
    assert result.principal_value == 19.0
    assert result.diagnostics["milp_nodes"] >= 0
