"""The persuasion environments: rewards against the exact evaluators, the receiver's learning rule, the
agent's best play, receivers plugged in through the protocol, any game through gym.make, bad inputs.
(Env checkers, determinism and pickling of the default instances run in tests/test_envs_registry.py.)"""

from __future__ import annotations

import pickle
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.error import ResetNeeded
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog
from gymnasium.utils.env_checker import check_env as gymnasium_check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import stratgym  # noqa: F401  (registers the envs)
from stratgym.agents.random_suite import bic_multiplier
from stratgym.baselines.signaling import evaluate, full_revelation, no_information, optimal_scheme
from stratgym.envs.spaces import simplex_to_box
from stratgym.envs.persuasion import (SCHEME_BUILDERS, LearningReceiver, PersuasionAgentEnv, PersuasionRecommendEnv,
                                      PersuasionSchemeEnv, ReceiverContext, conservative_penalty_weight,
                                      receiver_context, register_scheme)
from stratgym.games.credit import synthetic_credit
from stratgym.games.persuasion import (Regions, SamplerPrior, decision_patterns, equivalence_regions,
                                       full_revelation_scheme, prosecutor, random_persuasion_game)


def shifted_normal_sampler(rng: np.random.Generator, n: int) -> np.ndarray:
    """A SamplerPrior sampler for the prosecutor game (module level, so envs holding it pickle)."""
    return np.array([-1.0, 0.5]) + rng.standard_normal((n, 2))


GAMES = {"prosecutor": prosecutor,
         "gaussian": lambda: random_persuasion_game(np.random.default_rng(4), 3, 3, "gaussian"),
         "finite, decision-dependent": lambda: random_persuasion_game(np.random.default_rng(5), 3, 4, "finite",
                                                                      decision_dependent=True)}


def mean_within(samples, exact, sigmas=4.0):
    samples = np.asarray(samples, dtype=float)
    error = samples.std(ddof=1) / np.sqrt(samples.size)
    return abs(samples.mean() - exact) <= sigmas * error + 1e-12


# ---------------------------------------------------------------------------------------------
# PersuasionScheme
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", GAMES)
def test_scheme_env_rewards_are_the_exact_values(name):
    game = GAMES[name]()
    regions = equivalence_regions(game)
    env = gym.make("stratgym/PersuasionScheme-v0", game=game, regions=regions)
    assert env.unwrapped.regions is regions
    obs, _ = env.reset(seed=0)
    assert np.allclose(obs, regions.masses / regions.masses.sum(), atol=1e-7)
    env.action_space.seed(0)
    best = optimal_scheme(regions)
    for action in [simplex_to_box(best.scheme)] + [env.action_space.sample() for _ in range(10)]:
        env.reset()
        _, reward, terminated, truncated, info = env.step(action)
        expected = evaluate(regions, info["scheme"])
        assert terminated and not truncated
        assert reward == pytest.approx(expected.principal_value, abs=1e-12)
        assert info["agent_value"] == pytest.approx(expected.agent_value, abs=1e-12)
        assert np.array_equal(info["responses"], expected.responses)
    # The first action was the optimal scheme: the LP value is the known optimum.
    env.reset()
    assert env.step(simplex_to_box(best.scheme))[1] == pytest.approx(best.principal_value, abs=1e-6)


def test_sampled_rewards_average_to_the_expected_one():
    game = prosecutor()
    env = PersuasionSchemeEnv(game, reward="sampled")
    env.reset(seed=1)
    pushy = simplex_to_box(np.array([[0.5, 0.5], [0.0, 1.0]]))  # the agent ignores "act": nothing is ever done
    for _ in range(50):
        env.reset()
        assert env.step(pushy)[1] == 0.0
    action = simplex_to_box(np.array([[0.6, 0.4], [0.0, 1.0]]))
    rewards, regions_seen = [], []
    for _ in range(4000):
        env.reset()
        _, reward, _, _, info = env.step(action)
        rewards.append(reward)
        regions_seen.append(info["region"])
        assert info["action"] == info["recommendation"]  # BIC: followed
        assert reward == game.principal_utility[info["action"], 0]
    assert mean_within(rewards, 0.3 + 0.7 * 0.4)
    assert mean_within(np.array(regions_seen) == 1, 0.3)


def penalized_lp(regions, penalty_weight, bic_margin, require=True):
    """Independent check of reward="penalized": maximize it over schemes as an LP with one violation variable
    per recommendation (``penalty_weight=None``: violations fixed at 0, i.e. the margin-tightened signaling LP).
    Returns (value, scheme); ``None`` if infeasible and not ``require``."""
    masses, agent, principal = regions.masses, regions.agent_payoffs, regions.principal_payoffs
    R, A = agent.shape
    n = R * A + A
    rows = []
    for a in range(A):
        for b in range(A):
            if a != b:  # sum_s pi_s q_s(a) (u_A(b, s) - u_A(a, s) + margin) - v_a <= 0
                row = np.zeros(n)
                row[np.arange(R) * A + a] = masses * (agent[:, b] - agent[:, a] + bic_margin)
                row[R * A + a] = -1.0
                rows.append(row)
    objective = np.r_[-(masses[:, None] * principal).ravel(), np.full(A, penalty_weight or 0.0)]
    bounds = [(0, 1)] * (R * A) + [(0, None if penalty_weight else 0)] * A
    result = linprog(objective, A_ub=np.array(rows), b_ub=np.zeros(len(rows)),
                     A_eq=np.c_[np.kron(np.eye(R), np.ones(A)), np.zeros((R, A))], b_eq=np.ones(R),
                     bounds=bounds, method="highs")
    if result.status == 2 and not require:
        return None
    assert result.status == 0
    return -result.fun, result.x[:R * A].reshape(R, A)


def test_the_conservative_weight_can_be_far_below_the_bic_multipliers():
    """Two regions whose gaps almost cancel in a mixture: recommending the principal's action there violates BIC by
    almost nothing, so the multiplier is about 8,800 against the conservative weight's 8, and the penalized maximum
    (0.18) is far above the BIC optimum (0): the default weight is a heuristic, the multiplier the exact threshold."""
    game = random_persuasion_game(np.random.default_rng(2048), n_actions=3, prior="finite", decision_dependent=False)
    regions = equivalence_regions(game)
    tightened = penalized_lp(regions, None, 0.0)[0]
    conservative, multiplier = conservative_penalty_weight(regions), bic_multiplier(regions, 0.0)
    assert conservative < 10 and multiplier > 1000
    assert penalized_lp(regions, conservative, 0.0)[0] > tightened + 0.1
    assert penalized_lp(regions, 1.01 * multiplier, 0.0)[0] == pytest.approx(tightened, abs=1e-7)


def test_penalized_reward_by_hand():
    env = PersuasionSchemeEnv(prosecutor(), reward="penalized", penalty_weight=2.0, bic_margin=0.0)
    env.reset(seed=0)
    # Recommending "act" with probability 0.65: E[u_A(0) - u_A(1); act] = 0 - (0.3 * 0.5 - 0.35 * 0.5) = 0.025.
    _, reward, _, _, info = env.step(simplex_to_box(np.array([[0.5, 0.5], [0.0, 1.0]])))
    assert info["bic_violation"] == pytest.approx(0.025) and info["principal_value"] == 0.0
    assert reward == pytest.approx(0.65 - 2.0 * 0.025)  # u_P = 1 for acting, if the agent obeyed
    env.reset()
    _, reward, _, _, info = env.step(simplex_to_box(np.array([[4 / 7, 3 / 7], [0.0, 1.0]])))
    assert info["bic_violation"] == pytest.approx(0.0, abs=1e-7) and reward == pytest.approx(0.6, abs=1e-6)


@settings(max_examples=25, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2**32 - 1), n_actions=st.integers(2, 4), bic_margin=st.sampled_from([0.0, 0.005, 0.05]))
def test_penalized_reward_is_the_exact_penalty_of_the_margin_lp(seed, n_actions, bic_margin):
    rng = np.random.default_rng(seed)
    game = random_persuasion_game(rng, n_actions=n_actions, prior="finite", decision_dependent=bool(seed % 2))
    regions = equivalence_regions(game)
    env = PersuasionSchemeEnv(game, reward="penalized", regions=regions, bic_margin=bic_margin)
    weight = env.penalty_weight
    assert weight == conservative_penalty_weight(regions)
    # The reward at random schemes: the LP objective at the smallest feasible violations.
    env.reset(seed=0)
    masses, agent, principal = regions.masses, regions.agent_payoffs, regions.principal_payoffs
    for _ in range(5):
        _, reward, _, _, info = env.step(env.action_space.sample())
        env.reset()
        joint = masses[:, None] * info["scheme"]  # P(region, recommendation)
        gains = np.einsum("sa,sb->ab", joint, agent) - (joint * agent).sum(axis=0)[:, None]  # E[u_A(b) - u_A(a); a]
        np.fill_diagonal(gains, -np.inf)
        violation = np.maximum(gains.max(axis=1) + bic_margin * joint.sum(axis=0), 0.0).sum()
        assert info["bic_violation"] == pytest.approx(violation, abs=1e-12)
        assert reward == pytest.approx((joint * principal).sum() - weight * violation, abs=1e-12)
    # Exact penalty: a weight above the LP's BIC multipliers makes the relaxation's optimum the margin-tightened LP's
    # (the conservative weight need not be above them: see the test below).
    solved = penalized_lp(regions, None, bic_margin, require=False)
    assume(solved is not None)  # no scheme has every recommendation obeyed by this margin
    tightened, scheme = solved
    exact_weight = 1.01 * bic_multiplier(regions, bic_margin)
    assert penalized_lp(regions, exact_weight, bic_margin)[0] == pytest.approx(tightened, abs=1e-7)
    assert tightened <= optimal_scheme(regions).principal_value + 1e-7
    # At the tightened optimum the reward is the true value, as obeyed.
    _, reward, _, _, info = env.step(simplex_to_box(np.clip(scheme, 0.0, 1.0)))
    assert reward == pytest.approx(tightened, abs=1e-5)
    if bic_margin > 0:
        assert info["principal_value"] == pytest.approx(tightened, abs=1e-5)


# ---------------------------------------------------------------------------------------------
# PersuasionRecommend
# ---------------------------------------------------------------------------------------------

class ObedientReceiver:
    """Follows every recommendation; records what the env tells it (a Receiver-protocol plug-in)."""

    def __init__(self):
        self.updates, self.context = [], None

    def reset(self, context, rng):
        self.context, self.updates = context, []

    def follow_probabilities(self):
        return np.ones(self.context.costs.shape[0])

    def respond(self, recommendation, rng):
        return recommendation

    def update(self, recommendation, action, utility):
        self.updates.append((recommendation, action, utility))


@pytest.mark.parametrize("name", GAMES)
def test_recommend_env_pays_the_scheme_value_against_an_obedient_receiver(name):
    game = GAMES[name]()
    regions = equivalence_regions(game)
    best = optimal_scheme(regions)
    receiver = ObedientReceiver()
    env = gym.make("stratgym/PersuasionRecommend-v0", game=game, regions=regions, agent=receiver,
                   max_episode_steps=5000)
    obs, _ = env.reset(seed=3)
    masses = regions.masses / regions.masses.sum()
    assert np.allclose(receiver.context.prior_values, masses @ regions.agent_payoffs)
    assert receiver.context.default_action == int(no_information(regions).scheme[0].argmax())
    policy_rng = np.random.default_rng(9)
    rewards = []
    for _ in range(5000):
        region = int(obs[:regions.n_regions].argmax())
        recommendation = int(policy_rng.choice(regions.n_actions, p=best.scheme[region]))
        obs, reward, terminated, _, info = env.step(recommendation)
        assert not terminated and info["region"] == region and info["followed"]
        pattern = regions.patterns[region]
        action = info["action"]
        assert reward == game.principal_utility[action, int(pattern[action])]
        assert receiver.updates[-1] == (recommendation, action, pattern[action] - game.costs[action])
        rewards.append(reward)
    assert mean_within(rewards, best.principal_value)


@settings(max_examples=15, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2**32 - 1), n_actions=st.integers(2, 4))
def test_recommend_history_replays_the_episode_and_decides_the_learning_receiver(seed, n_actions):
    rng = np.random.default_rng(seed)
    game = random_persuasion_game(rng, n_actions=n_actions, prior=["gaussian", "finite"][seed % 2])
    env = PersuasionRecommendEnv(game)
    R, A = env.regions.n_regions, env.regions.n_actions
    assert env.observation_space.shape == (R + 2 * A,)
    assert PersuasionRecommendEnv(game, regions=env.regions, history=False).observation_space.shape == (R + A,)
    no_information_value = env.context.prior_values[env.context.default_action]
    obs, _ = env.reset(seed=seed % 1000)
    gains, followed = np.zeros(A), np.zeros(A, dtype=bool)
    for _ in range(60):
        assert obs in env.observation_space
        np.testing.assert_allclose(obs[R + A:], gains / (1 + np.abs(gains)), rtol=1e-6, atol=1e-7)
        # For the learning receiver the gains decide trust: followed before (not the default) => follows iff x_a >= 0.
        decided = followed & (np.arange(A) != env.context.default_action) & (np.abs(gains) > 1e-9)
        np.testing.assert_array_equal(obs[R:R + A][decided] == 1.0, gains[decided] >= 0)
        obs, _, _, _, info = env.step(int(rng.integers(A)))
        if info["followed"]:
            gains[info["action"]] += info["agent_utility"] - no_information_value
            followed[info["action"]] = True
    env.reset()
    assert env.reset()[0][R + A:].tolist() == [0.0] * A  # a new episode forgets


def test_learning_receiver_stops_following_advice_that_let_it_down():
    # One rule only, which rejects anyway: the first "act" is followed (optimism), never again.
    env = PersuasionRecommendEnv(prosecutor(0.0))
    obs, _ = env.reset(seed=0)
    assert obs.tolist() == [1.0, 1.0, 1.0, 0.0, 0.0]  # region one-hot, follows both, no history yet
    obs, reward, _, _, info = env.step(1)
    assert info["followed"] and reward == 1.0 and info["agent_utility"] == -0.5
    assert obs.tolist() == [1.0, 1.0, 0.0, 0.0, np.float32(-0.5 / 1.5)]  # gain of following "act": -0.5 - V_d (= 0)
    for _ in range(5):
        obs, reward, _, _, info = env.step(1)
        assert not info["followed"] and info["action"] == 0 and reward == 0.0
    assert env.receiver.values.tolist() == [1.0, -0.5] and env.receiver.counts.tolist() == [0, 1]


def test_learning_receiver_follows_while_its_running_mean_beats_the_prior_default():
    """Replays the documented rule independently: follow 'act' iff never followed or mean(realized u_A) >= V_d."""
    game = prosecutor(0.4)  # E[u_A(act)] = 0.4 * 0.5 - 0.6 * 0.5 < 0: the default is the no-op, V_d = 0
    env = PersuasionRecommendEnv(game)
    context = env.unwrapped.context
    assert context.default_action == 0 and context.prior_values[0] == 0.0
    rng = np.random.default_rng(0)
    for seed in range(5):
        env.reset(seed=seed)
        experienced = []
        for _ in range(60):
            recommendation = int(rng.integers(2))
            should_follow = recommendation == 0 or not experienced or np.mean(experienced) >= 0.0
            _, reward, _, _, info = env.step(recommendation)
            assert info["followed"] == should_follow
            assert info["action"] == (recommendation if should_follow else 0)
            if should_follow and recommendation == 1:
                experienced.append(info["agent_utility"])
        assert env.receiver.values[1] == pytest.approx(np.mean(experienced) if experienced else 0.5)


def test_learning_receiver_alone():
    receiver = LearningReceiver(initial_values=[0.0, 2.0, 0.1])
    receiver.reset(ReceiverContext(np.array([0.2, -0.3, 0.0]), 0, np.array([0.0, 0.4, 0.1])), None)
    assert receiver.follow_probabilities().tolist() == [1.0, 1.0, 0.0]  # 0.1 < V_d = 0.2
    assert receiver.respond(2) == 0 and receiver.respond(1) == 1
    for utility in (0.6, -0.4, 0.4):
        receiver.update(1, 1, utility)
    assert receiver.values[1] == pytest.approx(0.2) and receiver.counts[1] == 3
    assert receiver.respond(1) == 1  # 0.2 >= 0.2: ties go to obedience
    receiver.update(1, 0, 5.0)  # not followed: nothing learned
    assert receiver.counts[1] == 3
    with pytest.raises(ValueError, match="initial_values"):
        LearningReceiver([0.0]).reset(ReceiverContext(np.zeros(2), 0, np.zeros(2)))


@pytest.mark.parametrize("receiver, message", [
    (object(), "receiver"),
    (type("Wrong", (ObedientReceiver,), {"respond": lambda self, r, rng: 7})(), "respond"),
    (type("Wrong", (ObedientReceiver,), {"respond": lambda self, r, rng: True})(), "respond"),
    (type("Wrong", (ObedientReceiver,), {"follow_probabilities": lambda self: np.full(2, 2.0)})(), "follow_probabilities"),
])
def test_bad_receivers_are_refused(receiver, message):
    with pytest.raises(ValueError, match=message):
        env = PersuasionRecommendEnv(prosecutor(), agent=receiver)
        env.reset(seed=0)
        env.step(1)


# ---------------------------------------------------------------------------------------------
# PersuasionAgent
# ---------------------------------------------------------------------------------------------

def play_agent_env(env, policy, episodes: int) -> np.ndarray:
    rewards = []
    for _ in range(episodes):
        obs, info = env.reset()
        recommendation = int(obs[:env.unwrapped.regions.n_actions].argmax())
        assert recommendation == info["recommendation"]
        rewards.append(env.step(int(policy[recommendation]))[1])
    return np.array(rewards)


@pytest.mark.parametrize("name", GAMES)
def test_agent_env_best_play_reaches_the_exact_agent_value(name):
    game = GAMES[name]()
    regions = equivalence_regions(game)
    for scheme in (optimal_scheme(regions), full_revelation(regions), no_information(regions)):
        env = gym.make("stratgym/PersuasionAgent-v0", game=game, regions=regions, scheme=scheme.scheme)
        env.reset(seed=0)
        obedience = np.arange(regions.n_actions)
        assert np.array_equal(env.unwrapped.evaluation.responses, obedience)  # BIC schemes: obeying is best
        assert mean_within(play_agent_env(env, obedience, 3000), scheme.agent_value)


def test_agent_env_rewards_the_posterior_best_response_over_obedience():
    regions = equivalence_regions(prosecutor())
    pushy = np.array([[0.5, 0.5], [0.0, 1.0]])  # E[u_A(act) | act] < 0: obeying loses
    env = PersuasionAgentEnv(prosecutor(), scheme=pushy, regions=regions)
    env.reset(seed=2)
    exact = evaluate(regions, pushy)
    assert env.evaluation.responses.tolist() == [0, 0] and exact.agent_value == 0.0
    best = play_agent_env(env, env.evaluation.responses, 4000)
    obey = play_agent_env(env, np.arange(2), 4000)
    assert np.all(best == 0.0)  # the no-op always pays exactly 0 here
    assert mean_within(obey, 0.3 * 0.5 + 0.35 * -0.5)
    _, info = env.reset()
    assert env.step(1)[4]["best_response"] == 0


def test_agent_env_builds_registered_schemes_by_name(monkeypatch):
    calls = []

    def reveal_and_count(regions, tie_tol):
        calls.append(tie_tol)
        return full_revelation_scheme(regions, tie_tol)

    monkeypatch.setitem(SCHEME_BUILDERS, "counted", None)  # restored after the test
    register_scheme("counted", reveal_and_count)
    env = gym.make("stratgym/PersuasionAgent-v0", game=prosecutor(), scheme="counted", tie_tol=1e-6).unwrapped
    assert calls == [1e-6] and np.array_equal(env.scheme, [[1.0, 0.0], [0.0, 1.0]])


def test_agent_env_defaults_and_observation():
    env = PersuasionAgentEnv(prosecutor())
    best = optimal_scheme(env.regions)
    assert np.array_equal(env.scheme, best.scheme)  # the default is the signaling LP's scheme
    assert env.evaluation.principal_value == pytest.approx(0.6) and env.evaluation.obedient
    assert np.array_equal(PersuasionAgentEnv(prosecutor(), scheme="full-revelation").scheme, [[1.0, 0.0], [0.0, 1.0]])
    obs, info = env.reset(seed=0)
    assert obs[2:].tolist() == [1.0, 0.0]  # x_0 scaled by max(1, max |x_0|)
    _, reward, terminated, _, info = env.step(info["recommendation"])
    pattern = decision_patterns(prosecutor(), prosecutor().prior.atoms[info["region"]])
    assert terminated and reward == pattern[info["action"]] - prosecutor().costs[info["action"]]


# ---------------------------------------------------------------------------------------------
# Any game, checkers, bad inputs
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("env_id", ["stratgym/PersuasionScheme-v0", "stratgym/PersuasionRecommend-v0",
                                    "stratgym/PersuasionAgent-v0"])
@pytest.mark.parametrize("name", ["prosecutor", "finite, decision-dependent"])
def test_checkers_pass_on_other_games(env_id, name):
    game = GAMES[name]()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gymnasium_check_env(gym.make(env_id, game=game).unwrapped)
        sb3_check_env(gym.make(env_id, game=game).unwrapped, warn=True)
    assert [str(warning.message) for warning in caught] == []


def test_many_actions_use_monte_carlo_masses_and_still_work():
    game = random_persuasion_game(np.random.default_rng(2), 2, 5, "gaussian")
    env = gym.make("stratgym/PersuasionScheme-v0", game=game)
    assert env.unwrapped.regions.mass_method == "monte-carlo"
    env.reset(seed=0)
    assert np.isfinite(env.step(env.action_space.sample())[1])


def test_render_ansi():
    env = gym.make("stratgym/PersuasionRecommend-v0", game=prosecutor(), render_mode="ansi")
    env.reset(seed=0)
    env.step(1)
    text = env.render()
    assert "PersuasionRecommendEnv" in text and "recommendation" in text


@pytest.mark.parametrize("build, message", [
    (lambda: PersuasionSchemeEnv(game="credit"), "game"),
    (lambda: PersuasionSchemeEnv(prosecutor(), reward="mean"), "reward"),
    (lambda: PersuasionRecommendEnv(prosecutor(), history=1), "history"),
    (lambda: PersuasionSchemeEnv(prosecutor(), penalty_weight=5.0), "penalty_weight applies only"),
    (lambda: PersuasionSchemeEnv(prosecutor(), reward="sampled", bic_margin=0.01), "bic_margin applies only"),
    (lambda: PersuasionSchemeEnv(prosecutor(), reward="penalized", penalty_weight=0.0), "penalty_weight"),
    (lambda: PersuasionSchemeEnv(prosecutor(), reward="penalized", penalty_weight=np.nan), "penalty_weight"),
    (lambda: PersuasionSchemeEnv(prosecutor(), reward="penalized", penalty_weight=True), "penalty_weight"),
    (lambda: PersuasionSchemeEnv(prosecutor(), reward="penalized", bic_margin=-0.1), "bic_margin"),
    (lambda: PersuasionSchemeEnv(prosecutor(), reward="penalized", bic_margin=np.inf), "bic_margin"),
    (lambda: PersuasionSchemeEnv(prosecutor(), tie_tol=-1.0), "tie_tol"),
    (lambda: PersuasionSchemeEnv(prosecutor(), render_mode="human"), "render_mode"),
    (lambda: PersuasionSchemeEnv(prosecutor(), regions=equivalence_regions(prosecutor(0.5)).patterns), "regions"),
    (lambda: PersuasionSchemeEnv(prosecutor(), regions=equivalence_regions(
        prosecutor().replace(costs=[0.0, 0.4]))), "regions must be computed for this game.*costs"),
    # Same patterns and payoff tables, another prior: the masses would be wrong.
    (lambda: PersuasionSchemeEnv(prosecutor(), regions=equivalence_regions(prosecutor(0.5))),
     "regions must be computed for this game.*prior"),
    (lambda: PersuasionSchemeEnv(synthetic_credit(prior_variance=1.0), regions=equivalence_regions(synthetic_credit())),
     "regions must be computed for this game.*prior"),
    (lambda: PersuasionRecommendEnv(regions=equivalence_regions(prosecutor())), "regions must be computed"),
    (lambda: PersuasionAgentEnv(prosecutor(), regions=Regions(*[
        getattr(equivalence_regions(prosecutor()), name) for name in ("patterns", "witnesses", "masses", "mass_errors",
                                                                      "mass_method", "principal_payoffs",
                                                                      "agent_payoffs")])), "record the game"),
    (lambda: PersuasionAgentEnv(prosecutor(), scheme="best"), "scheme must be one of .*'optimal'"),
    (lambda: register_scheme("", full_revelation_scheme), "name"),
    (lambda: register_scheme("mine", "full-revelation"), "builder"),
    (lambda: PersuasionAgentEnv(prosecutor(), scheme=np.ones((2, 3)) / 3), "scheme"),
    (lambda: PersuasionAgentEnv(prosecutor(), scheme=[[0.5, 0.6], [0.0, 1.0]]), "scheme"),
])
def test_bad_arguments_are_refused(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_bad_actions_and_order():
    env = PersuasionSchemeEnv(prosecutor())
    with pytest.raises(ResetNeeded):
        env.step(np.zeros((2, 2), dtype=np.float32))
    env.reset(seed=0)
    for action in (np.zeros((2, 3)), np.full((2, 2), np.nan), np.full((2, 2), 1.5)):
        with pytest.raises(ValueError, match="action"):
            env.step(action)
    env.step(np.zeros((2, 2), dtype=np.float32))
    with pytest.raises(ResetNeeded):
        env.step(np.zeros((2, 2), dtype=np.float32))
    recommend = PersuasionRecommendEnv(prosecutor())
    recommend.reset(seed=0)
    for action in (2, -1, 0.5, "1"):
        with pytest.raises(ValueError, match="action"):
            recommend.step(action)


def test_regions_of_an_equal_game_are_accepted():
    regions = equivalence_regions(prosecutor())
    relabelled = prosecutor().replace(action_names=("wait", "act now"))
    assert PersuasionSchemeEnv(relabelled, regions=regions).regions is regions
    assert PersuasionAgentEnv(regions=equivalence_regions(synthetic_credit())).game == synthetic_credit()


def test_any_sampler_prior_plugs_in_and_pickles():
    game = prosecutor().replace(prior=SamplerPrior(shifted_normal_sampler, 2))
    env = gym.make("stratgym/PersuasionScheme-v0", game=game)
    assert env.unwrapped.regions.mass_method == "monte-carlo"
    env.reset(seed=0)
    clone = pickle.loads(pickle.dumps(env))
    action = env.action_space.sample()
    assert env.step(action)[1] == clone.step(action)[1]


def test_receiver_context_matches_the_no_information_action():
    for name in GAMES:
        game = GAMES[name]()
        regions = equivalence_regions(game)
        context = receiver_context(game, regions)
        assert context.default_action == int(no_information(regions).scheme[0].argmax())
        assert np.array_equal(context.costs, game.costs)
