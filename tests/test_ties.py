"""One meaning of a tie (stratgym.games.ties): the float32 encoding of every exact optimum earns that optimum in
the env, on hundreds of random instances built to have ties (duplicate effort types or actions, columns in
exact proportion, prior atoms on a decision boundary), and the widening is no wider than the precision needs."""

from __future__ import annotations

import numpy as np
import pytest

from stratgym.baselines.signaling import optimal_scheme
from stratgym.baselines.stateful import solve
from stratgym.envs.spaces import box_to_simplex, simplex_to_box
from stratgym.envs.persuasion import PersuasionSchemeEnv
from stratgym.envs.stateful import StatefulCommitmentEnv, StatefulPrincipalEnv, StatefulPrincipalVectorEnv
from stratgym.games.persuasion import (FiniteSupportPrior, equivalence_regions, evaluate_scheme, precision_unit,
                                       random_persuasion_game)
from stratgym.games.stateful import StatefulGame, best_response, random_game, round_scales
from stratgym.games.ties import TIE_TOL, action_epsilon, precision_slack

N_INSTANCES = 200
REL = 1e-6


def encode(point: np.ndarray, dtype) -> np.ndarray:
    """:func:`simplex_to_box` computed in float64, then given in ``dtype`` (float32: exactly simplex_to_box)."""
    encoded = (2.0 * point / point.max(axis=-1, keepdims=True) - 1.0).astype(dtype)
    if dtype == np.float32:
        np.testing.assert_array_equal(encoded, simplex_to_box(point))
    return encoded


def earned(value: float, optimum: float, scale: float = 0.0) -> bool:
    """``value`` is the optimum within ``REL`` relative to the larger of the optimum and the game's value ``scale``
    (a scheme's value moves continuously with its float32 rounding, by up to ~1e-7 of the payoff scale: an optimum
    of 1e-4 cannot be matched to 1e-6 of itself). 1e-12 absolute covers float64 round-off at 0."""
    return abs(value - optimum) <= REL * max(abs(optimum), scale) + 1e-12


def test_action_epsilon_follows_the_dtype():
    assert action_epsilon(np.zeros(2, np.float32)) == np.finfo(np.float32).eps
    for exact in (np.zeros(2), [0.5, 0.5], 1.0, np.zeros(2, dtype=int)):
        assert action_epsilon(exact) == np.finfo(np.float64).eps
    assert precision_slack(np.zeros(3, np.float32), 3) == 3 * np.finfo(np.float32).eps


# ---------------------------------------------------------------------------------------------
# Stateful game
# ---------------------------------------------------------------------------------------------

def tied_stateful_game(seed: int) -> StatefulGame:
    """A small random game; two thirds of them get an effort type that copies another's column of W (a duplicate
    action, exactly tied under every rule) or is an exact multiple of it."""
    rng = np.random.default_rng([11, seed])
    game = random_game(rng, horizon=int(rng.integers(1, 5)), n_features=int(rng.integers(1, 4)),
                       n_efforts=int(rng.integers(2, 5)))
    kind = seed % 3
    if kind == 0:
        return game
    W = game.conversion_matrix.copy()
    j, k = rng.choice(game.n_efforts, size=2, replace=False)
    W[:, k] = W[:, j] * (1.0 if kind == 1 else float(rng.choice([0.5, 2.0])))
    return game.replace(conversion_matrix=W)


ISSUE_GAME = StatefulGame(conversion_matrix=[[3, 1.5, 0], [0, 0.5, 1]], retention=[0, 0, 0],
                          effort_value=[0, 1, 0], horizon=3)


def test_the_issue_instance_earns_its_optimum_in_float32():
    """Optimum 3 with theta = (0.25, 0.75) every round, a three-way tie; its float32 action earned 0."""
    result = solve(ISSUE_GAME)
    assert result.principal_value == pytest.approx(3.0)
    env = StatefulCommitmentEnv(ISSUE_GAME)
    env.reset(seed=0)
    assert env.step(simplex_to_box(result.theta))[1] == pytest.approx(3.0)
    myopic = solve(ISSUE_GAME, "myopic")
    env = StatefulPrincipalEnv(ISSUE_GAME, agent="myopic")
    env.reset(seed=0)
    assert sum(env.step(simplex_to_box(rule))[1] for rule in myopic.theta) == pytest.approx(3.0)


@pytest.mark.parametrize("chunk", range(4))
def test_float32_encoding_of_the_stateful_optima_earns_them(chunk):
    """Rational (StatefulCommitment-v0) and myopic / forecasting (StatefulPrincipal-v0, scalar and vector):
    the float32 action of the solver's theta earns the solver's value, as the float64 action does."""
    failures = []
    for seed in range(chunk * N_INSTANCES // 4, (chunk + 1) * N_INSTANCES // 4):
        game = tied_stateful_game(seed)
        result = solve(game)
        commitment = StatefulCommitmentEnv(game)
        for dtype in (np.float32, np.float64):
            commitment.reset(seed=0)
            if not earned(commitment.step(encode(result.theta, dtype))[1], result.principal_value):
                failures.append((seed, "rational", dtype.__name__))
        for model in ("myopic", "forecasting"):
            result = solve(game, model)
            actions = simplex_to_box(result.theta)
            env = StatefulPrincipalEnv(game, agent=model)
            env.reset(seed=0)
            if not earned(sum(env.step(action)[1] for action in actions), result.principal_value):
                failures.append((seed, model, "scalar"))
            vector = StatefulPrincipalVectorEnv(num_envs=2, game=game, agent=model)
            vector.reset(seed=0)
            returns = sum(vector.step(np.stack([action, action]))[1] for action in actions)
            if not all(earned(value, result.principal_value) for value in returns):
                failures.append((seed, model, "vector"))
    assert not failures


def test_the_widening_is_what_float32_rounding_needs():
    """Without the precision term the issue instance's float32 rule loses the tie (so the test above can fail),
    and the zone stays far below any strict preference the solvers certify (margin 1e-4 of the scale)."""
    theta32 = box_to_simplex(simplex_to_box(solve(ISSUE_GAME).theta))
    assert best_response(ISSUE_GAME, theta32, tie_tol=TIE_TOL).effort[:, 1].sum() == 0.0  # no study
    widened = TIE_TOL + precision_slack(np.float32(0), ISSUE_GAME.n_features)
    assert best_response(ISSUE_GAME, theta32, tie_tol=widened).effort[:, 1].tolist() == [1.0, 1.0, 1.0]
    assert widened < 1e-6
    robust = solve(ISSUE_GAME, margin=1e-4 * float(round_scales(ISSUE_GAME).min()))
    env = StatefulCommitmentEnv(ISSUE_GAME)
    env.reset(seed=0)
    assert earned(env.step(simplex_to_box(robust.theta))[1], robust.principal_value)


# ---------------------------------------------------------------------------------------------
# Persuasion game
# ---------------------------------------------------------------------------------------------

def tied_persuasion_game(seed: int):
    """A random instance: Gaussian or finite prior; a third get a duplicate action (same effect and cost), a third
    of the finite ones an atom moved onto an action's decision boundary (theta . x = 0: approved, by a hair)."""
    rng = np.random.default_rng([13, seed])
    prior = "finite" if seed % 2 else "gaussian"
    game = random_persuasion_game(rng, n_features=int(rng.integers(2, 5)), n_actions=int(rng.integers(2, 5)),
                                  prior=prior, decision_dependent=bool(seed % 5 == 0))
    if seed % 3 == 1 and game.n_actions >= 3:
        effects, costs = game.effects.copy(), game.costs.copy()
        effects[-1], costs[-1] = effects[-2], costs[-2]
        game = game.replace(effects=effects, costs=costs)
    if prior == "finite" and seed % 3 == 2:
        atoms = game.prior.atoms.copy()
        target = game.features + game.effects[int(rng.integers(game.n_actions))]
        atoms[0] -= (atoms[0] @ target) / (target @ target) * target  # now atoms[0] . target = 0
        game = game.replace(prior=FiniteSupportPrior(atoms, game.prior.probabilities))
    return game


@pytest.mark.parametrize("chunk", range(4))
def test_float32_encoding_of_the_optimal_scheme_earns_the_lp_value(chunk):
    failures = []
    for seed in range(chunk * N_INSTANCES // 4, (chunk + 1) * N_INSTANCES // 4):
        game = tied_persuasion_game(seed)
        regions = equivalence_regions(game, rng=np.random.default_rng(seed), n_samples=20_000)
        best = optimal_scheme(regions)
        env = PersuasionSchemeEnv(game, regions=regions)
        for dtype in (np.float32, np.float64):
            env.reset(seed=0)
            scale = float(np.abs(regions.principal_payoffs).max())
            if not earned(env.step(encode(best.scheme, dtype))[1], best.principal_value, scale):
                failures.append((seed, dtype.__name__))
    assert not failures


def test_evaluate_scheme_widening_matches_the_env():
    """evaluate_scheme(..., precision=) is the env's rule: same responses and value on the float32 scheme."""
    game = tied_persuasion_game(3)
    regions = equivalence_regions(game)
    action = simplex_to_box(optimal_scheme(regions).scheme)
    env = PersuasionSchemeEnv(game, regions=regions)
    env.reset(seed=0)
    _, reward, _, _, info = env.step(action)
    evaluation = evaluate_scheme(regions, box_to_simplex(action), precision=precision_slack(action, regions.n_actions))
    assert evaluation.principal_value == reward
    assert evaluation.responses.tolist() == info["responses"].tolist()
    assert precision_unit(regions) == pytest.approx(float(regions.masses @ np.ptp(regions.agent_payoffs, axis=1)))


# ---------------------------------------------------------------------------------------------
# The widening never lets a float32 action beat the optimum
# ---------------------------------------------------------------------------------------------

def float32_actions(optimum: np.ndarray, rng: np.random.Generator, count: int, favourite=None) -> list[np.ndarray]:
    """Random Box actions, the optimum's encoding nudged by a few float32 ulps (where the widening acts), and, with
    a ``favourite`` point, the optimum pushed towards it by 1e-6 .. 1e-2 (past the agent's indifference: a zone
    wider than the precision needs would let these earn more than the optimum)."""
    encoded = simplex_to_box(optimum)
    nudged = [np.clip(encoded + rng.integers(-4, 5, encoded.shape) * np.spacing(encoded), -1, 1).astype(np.float32)
              for _ in range(count)]
    uniform = [rng.uniform(-1, 1, encoded.shape).astype(np.float32) for _ in range(count)]
    pushed = [] if favourite is None else [simplex_to_box((1 - step) * optimum + step * favourite)
                                           for step in (1e-6, 1e-5, 1e-4, 1e-3, 1e-2)]
    return nudged + uniform + pushed


def _pays_above(env, actions, limit: float) -> bool:
    """Whether one episode of ``env`` (reset with seed 0) pays more than ``limit`` for one of ``actions``."""
    for action in actions:
        env.reset(seed=0)
        if env.step(action)[1] > limit:
            return True
    return False


@pytest.mark.parametrize("chunk", range(2))
def test_no_float32_action_beats_the_stateful_optimum(chunk):
    rng = np.random.default_rng(chunk)

    def beaten(seed: int) -> bool:
        game = tied_stateful_game(seed)
        result = solve(game)
        limit = result.principal_value + REL * abs(result.principal_value) + 1e-12
        return _pays_above(StatefulCommitmentEnv(game), float32_actions(result.theta, rng, 10), limit)

    assert [seed for seed in range(chunk * 50, (chunk + 1) * 50) if beaten(seed)] == []


@pytest.mark.parametrize("chunk", range(2))
def test_no_float32_action_beats_the_lp_value(chunk):
    rng = np.random.default_rng(chunk)
    games = {seed: tied_persuasion_game(seed) for seed in range(chunk * 40, (chunk + 1) * 40)}
    beaten = []
    for seed, game in games.items():
        regions = equivalence_regions(game, rng=np.random.default_rng(seed), n_samples=20_000)
        best = optimal_scheme(regions)
        favourite = np.eye(regions.n_actions)[regions.principal_payoffs.argmax(axis=1)]
        # Obeying a violation inside the widening (~A eps of the payoff scale) buys at most that much value over the
        # agent's utility gap per unit of mass: 1e-6 on these instances (seed 3: 1.01e-6), so 1e-5.
        scale = max(abs(best.principal_value), float(np.abs(regions.principal_payoffs).max()))
        if _pays_above(PersuasionSchemeEnv(game, regions=regions), float32_actions(best.scheme, rng, 10, favourite),
                       best.principal_value + 10 * REL * scale):
            beaten.append(seed)
    assert not beaten
