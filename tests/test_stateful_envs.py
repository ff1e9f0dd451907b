"""The stateful game's environments against the game module's own dynamics, responses and utilities.

Each env is checked against an independent computation: the whole episode replayed with
``best_response`` / ``rollout`` from ``stratgym.games.stateful``, hand-derived optima of the classroom
game, and the observation bounds attained by the extreme effort policies.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gymnasium_check_env
from hypothesis import given, settings
from hypothesis import strategies as st

import stratgym  # noqa: F401  (registers the envs)
import stratgym.envs.stateful as stateful_envs
from stratgym.envs.spaces import box_to_simplex, simplex_to_box
from stratgym.envs.stateful import (
    PerRoundResponse,
    ResponseModel,
    StatefulAgentEnv,
    StatefulAgentVectorEnv,
    StatefulCommitmentEnv,
    StatefulCommitmentVectorEnv,
    StatefulPrincipalEnv,
    StatefulPrincipalVectorEnv,
    describe_game,
    feature_bounds,
    marginal_value_bound,
    state_bounds,
)
from stratgym.games.stateful import (
    CONVERSIONS,
    StatefulGame,
    best_response,
    classroom,
    marginal_values,
    next_state,
    random_game,
    respond_in_round,
    rollout,
)

COMMITMENT, PRINCIPAL, AGENT = ("stratgym/StatefulCommitment-v0", "stratgym/StatefulPrincipal-v0",
                                "stratgym/StatefulAgent-v0")
seeds = st.integers(0, 2**32 - 1)


def _random_instance(seed: int, conversion: str = "linear", max_horizon: int = 4):
    """A random game of random size and the Generator that drew it (for actions and plans)."""
    rng = np.random.default_rng(seed)
    game = random_game(rng, horizon=int(rng.integers(1, max_horizon + 1)), n_features=int(rng.integers(1, 4)),
                       n_efforts=int(rng.integers(1, 4)), conversion=conversion)
    return game, rng


def _random_plan(game, rng) -> np.ndarray:
    return rng.dirichlet(np.ones(game.n_features), size=game.horizon)


def _play(env, actions):
    """Step ``env`` through ``actions``; return the per-step (obs, reward, terminated, truncated, info)."""
    return [env.step(np.asarray(action, dtype=np.float32)) for action in actions]


# ---------------------------------------------------------------------------------------------
# StatefulCommitment
# ---------------------------------------------------------------------------------------------

@settings(max_examples=25, deadline=None)
@given(seed=seeds)
def test_commitment_reward_is_the_principal_utility_of_the_rational_best_response(seed):
    game, rng = _random_instance(seed)
    env = gym.make(COMMITMENT, game=game)
    env.reset(seed=0)
    action = rng.uniform(-1, 1, (game.horizon, game.n_features)).astype(np.float32)
    _, reward, terminated, truncated, info = env.step(action)
    theta = box_to_simplex(action)
    effort = best_response(game, theta, "rational").effort
    played = rollout(game, theta, effort)
    assert (terminated, truncated) == (True, False)
    np.testing.assert_array_equal(info["theta"], theta)
    np.testing.assert_array_equal(info["effort"], effort)
    assert reward == pytest.approx(float(played.principal_utility), abs=1e-12)
    assert info["agent_utility"] == pytest.approx(float(played.agent_utility), abs=1e-12)
    for key in ("states", "features", "scores"):
        np.testing.assert_allclose(info[key], getattr(played, key), atol=1e-12)


@pytest.mark.parametrize("agent", ["rational", "myopic"])
def test_commitment_steps_replaying_a_policy_give_fresh_equal_infos(agent):
    # The env memoizes the rollout of the agent's effort policies (rollout_arrays(memo=...)): a replayed policy
    # must give the same numbers, in arrays of its own.
    env = gym.make(COMMITMENT, agent=agent)
    env.reset(seed=0)
    action = np.random.default_rng(3).uniform(-1, 1, env.action_space.shape).astype(np.float32)
    first = env.step(action)[4]
    expected = {key: np.copy(value) for key, value in first.items()}
    for key in ("effort", "states", "features", "scores"):
        first[key][...] = -1.0
    env.reset()
    again = env.step(action)[4]
    for key, value in expected.items():
        np.testing.assert_array_equal(again[key], value)


def test_commitment_reward_on_a_concave_game_uses_the_concave_best_response():
    game, rng = _random_instance(5, conversion="sqrt", max_horizon=2)
    env = gym.make(COMMITMENT, game=game)
    env.reset(seed=0)
    action = rng.uniform(-1, 1, (game.horizon, game.n_features)).astype(np.float32)
    _, reward, _, _, info = env.step(action)
    effort = best_response(game, box_to_simplex(action), "rational").effort
    np.testing.assert_allclose(info["effort"], effort, atol=1e-9)
    assert reward == pytest.approx(float(rollout(game, box_to_simplex(action), effort).principal_utility), abs=1e-9)


def test_commitment_map_reaches_the_vertices_and_the_classroom_optimum():
    horizon = 5
    env = gym.make(COMMITMENT, game=classroom(horizon=horizon))
    copy, study, lookup = np.eye(3)
    test_only = np.tile(simplex_to_box(np.array([1.0, 0.0])), (horizon, 1))
    homework_only = np.tile(simplex_to_box(np.array([0.0, 1.0])), (horizon, 1))
    for action, cheat in ((test_only, copy), (homework_only, lookup)):
        env.reset(seed=0)
        _, reward, _, _, info = env.step(action)
        np.testing.assert_array_equal(info["theta"], box_to_simplex(action))
        assert set(info["theta"].ravel()) == {0.0, 1.0}
        # Studying in round tau is worth 0.4 (T - tau + 1) against 1 for cheating on the rewarded score.
        np.testing.assert_array_equal(info["effort"], [study, study, study, cheat, cheat])
        assert reward == horizon - 2
    env.reset(seed=0)
    _, reward, _, _, info = env.step(np.zeros((horizon, 2), dtype=np.float32))  # uniform rules
    np.testing.assert_array_equal(info["effort"][:, 1], [1, 1, 1, 1, 0])
    assert reward == horizon - 1  # the known optimum: the last round can never reward studying


@settings(max_examples=20, deadline=None)
@given(seed=seeds)
def test_commitment_never_beats_the_classroom_optimum_and_one_round_never_rewards_study(seed):
    rng = np.random.default_rng(seed)
    for horizon, optimum in ((5, 4.0), (1, 0.0)):
        env = gym.make(COMMITMENT, game=classroom(horizon=horizon))
        env.reset(seed=0)
        # Mix interior and corner actions: corners are where rules are most extreme.
        action = rng.uniform(-1, 1, (horizon, 2))
        action = np.where(rng.random(action.shape) < 0.3, np.sign(action), action).astype(np.float32)
        assert env.step(action)[1] <= optimum


def test_commitment_ties_are_broken_in_the_principals_favour():
    # T = 2, round 1: studying is worth 0.4 + 0.4 = 0.8 against 0.8 for copying under theta_1 = (0.8, 0.2).
    env = gym.make(COMMITMENT, game=classroom(horizon=2))
    uniform = np.zeros(2, dtype=np.float32)
    for first_rule, first_effort in (((0.8, 0.2), [0, 1, 0]), ((0.85, 0.15), [1, 0, 0])):
        env.reset(seed=0)
        _, _, _, _, info = env.step(np.stack([simplex_to_box(np.array(first_rule)), uniform]))
        np.testing.assert_allclose(info["theta"][0], first_rule, atol=1e-7)
        np.testing.assert_array_equal(info["effort"][0], first_effort)


def test_commitment_observation_describes_the_game():
    game = classroom(initial_state=[0.0, 2.5, 0.0], budget=2.0, discount=0.9, conversion="sqrt",
                     effort_value=[-0.5, 2.0, 0.0])
    env = gym.make(COMMITMENT, game=game)
    obs, _ = env.reset(seed=0)
    W = game.conversion_matrix
    expected = np.concatenate([W.ravel() / W.max(), game.retention, game.persistence, game.effort_value / 2.0,
                               game.initial_state / 2.0, [0.9, 2.0 / 3.0], [name == "sqrt" for name in CONVERSIONS]])
    np.testing.assert_allclose(obs, expected, rtol=1e-6)
    assert obs in env.observation_space and env.observation_space.high[-len(CONVERSIONS) - 3] == 1.25
    other, _ = gym.make(COMMITMENT, game=game.replace(conversion="linear")).reset(seed=0)
    assert not np.array_equal(obs, other)
    assert describe_game(game)[0].shape == env.observation_space.shape


# ---------------------------------------------------------------------------------------------
# StatefulPrincipal
# ---------------------------------------------------------------------------------------------

def _check_principal_episode(game, model: str, actions) -> None:
    """The env's episode equals the model's ``best_response`` to the rules played, rolled out."""
    env = gym.make(PRINCIPAL, game=game, agent=model)
    obs, _ = env.reset(seed=0)
    np.testing.assert_array_equal(obs, np.zeros(1 + 2 * game.n_features))
    steps = _play(env, actions)
    theta = np.array([info["rule"] for *_, info in steps])
    np.testing.assert_array_equal(theta, box_to_simplex(np.asarray(actions, dtype=np.float32)))
    response = best_response(game, theta, model)
    played = rollout(game, theta, response.effort)
    scale = feature_bounds(game)
    scale = np.where(scale > 0, scale, 1.0)
    for t, (obs, reward, terminated, truncated, info) in enumerate(steps):
        np.testing.assert_allclose(info["effort"], response.effort[t], atol=1e-9)
        np.testing.assert_allclose(info["state"], played.states[t], atol=1e-9)
        assert reward == pytest.approx(float(game.effort_value @ response.effort[t]), abs=1e-9)
        assert info["score"] == pytest.approx(float(played.scores[t]), abs=1e-9)
        assert (terminated, truncated) == (t == game.horizon - 1, False)
        assert obs[0] == np.float32((t + 1) / game.horizon)
        np.testing.assert_allclose(obs[1:1 + game.n_features], played.features[t] / scale, rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(obs[1 + game.n_features:], theta[t], rtol=1e-6, atol=1e-7)
    assert sum(step[1] for step in steps) == pytest.approx(float(played.principal_utility), abs=1e-9)


@settings(max_examples=30, deadline=None)
@given(seed=seeds, model=st.sampled_from(["myopic", "forecasting"]))
def test_principal_env_equals_the_best_response_rolled_out(seed, model):
    game, rng = _random_instance(seed)
    _check_principal_episode(game, model, rng.uniform(-1, 1, (game.horizon, game.n_features)))


@pytest.mark.parametrize("model", ["myopic", "forecasting"])
def test_principal_env_on_a_concave_game_equals_the_best_response_rolled_out(model):
    game, rng = _random_instance(11, conversion="log1p", max_horizon=2)
    _check_principal_episode(game, model, rng.uniform(-1, 1, (game.horizon, game.n_features)))


@settings(max_examples=15, deadline=None)
@given(seed=seeds)
def test_principal_known_optima_on_the_classroom(seed):
    rng = np.random.default_rng(seed)
    actions = rng.uniform(-1, 1, (5, 2))
    for model, optimum in (("myopic", 0.0), ("forecasting", 4.0)):
        env = gym.make(PRINCIPAL, game=classroom(), agent=model)
        env.reset(seed=0)
        # Myopic: studying (0.4) never beats the better form of cheating (>= 0.5); forecasting: the last
        # round is the one-round game, and uniform rules make studying worth 0.4 (T - t) > 0.5 before it.
        assert 0.0 <= sum(step[1] for step in _play(env, actions)) <= optimum
        env.reset(seed=0)
        assert sum(step[1] for step in _play(env, np.zeros((5, 2)))) == optimum


@settings(max_examples=30, deadline=None)
@given(seed=seeds, model=st.sampled_from(["myopic", "forecasting"]))
def test_per_round_response_equals_respond_in_round(seed, model):
    game, rng = _random_instance(seed)
    responder = PerRoundResponse(model)
    for round_index in range(game.horizon):
        rule = rng.dirichlet(np.ones(game.n_features))
        state = rng.uniform(0, 2, game.n_efforts)
        expected = respond_in_round(game, model, rule, state, round_index).effort[0]
        np.testing.assert_array_equal(responder.respond(game, rule, state, round_index, rng), expected)


class RecordingAgent:
    """A random agent (Dirichlet efforts from the env's generator) that records what it was shown."""

    def __init__(self):
        self.calls = []

    def respond(self, game, rule, state, round_index, rng):
        effort = rng.dirichlet(np.ones(game.n_efforts + 1))[:-1] * game.budget
        self.calls.append(dict(rule=rule.copy(), state=state.copy(), round_index=round_index, rng=rng,
                               effort=effort.copy()))
        return effort


def test_a_custom_response_model_plays_the_agent():
    game = classroom(horizon=4)
    agent = RecordingAgent()
    assert isinstance(agent, ResponseModel)
    env = gym.make(PRINCIPAL, game=game, agent=agent)
    env.reset(seed=3)
    actions = np.random.default_rng(0).uniform(-1, 1, (4, 2))
    steps = _play(env, actions)
    assert [call["round_index"] for call in agent.calls] == [0, 1, 2, 3]
    assert all(call["rng"] is env.unwrapped.np_random for call in agent.calls)
    state = game.initial_state
    for call, action, (_, reward, _, _, info) in zip(agent.calls, actions, steps):
        np.testing.assert_array_equal(call["rule"], box_to_simplex(action.astype(np.float32)))
        np.testing.assert_array_equal(call["state"], state)
        np.testing.assert_array_equal(info["effort"], call["effort"])
        assert reward == pytest.approx(float(game.effort_value @ call["effort"]), abs=1e-12)
        state = next_state(game, state, call["effort"])
    # The agent's randomness is the env's: the same seed replays the same efforts.
    replay = RecordingAgent()
    env = gym.make(PRINCIPAL, game=game, agent=replay)
    env.reset(seed=3)
    _play(env, actions)
    np.testing.assert_array_equal([c["effort"] for c in replay.calls], [c["effort"] for c in agent.calls])


class FixedEffortAgent:
    def __init__(self, effort):
        self.effort = effort

    def respond(self, game, rule, state, round_index, rng):
        return self.effort


@pytest.mark.parametrize("effort", [[0.6, 0.6, 0.0], [-0.1, 0.5, 0.0], [np.nan, 0.0, 0.0], [0.5, 0.5],
                                    "lots"], ids=["over budget", "negative", "nan", "wrong shape", "not numeric"])
def test_invalid_efforts_from_a_response_model_raise(effort):
    env = gym.make(PRINCIPAL, game=classroom(), agent=FixedEffortAgent(effort))
    env.reset(seed=0)
    with pytest.raises(ValueError, match="agent.respond"):
        env.step(np.zeros(2, dtype=np.float32))


def test_round_off_in_a_response_models_effort_is_clipped_into_the_budget_set():
    env = gym.make(PRINCIPAL, game=classroom(), agent=FixedEffortAgent([-1e-9, 1.0 + 1e-9, 0.0]))
    env.reset(seed=0)
    effort = env.step(np.zeros(2, dtype=np.float32))[4]["effort"]
    assert effort.min() >= 0.0 and effort.sum() <= 1.0 + 1e-15
    np.testing.assert_allclose(effort, [0.0, 1.0, 0.0], atol=1e-8)


# ---------------------------------------------------------------------------------------------
# StatefulAgent
# ---------------------------------------------------------------------------------------------

@settings(max_examples=30, deadline=None)
@given(seed=seeds, conversion=st.sampled_from(sorted(CONVERSIONS)))
def test_agent_env_discounted_return_is_the_agent_utility(seed, conversion):
    game, rng = _random_instance(seed, conversion=conversion)
    plan = _random_plan(game, rng)
    env = gym.make(AGENT, game=game, principal=plan)
    _, info = env.reset(seed=0)
    np.testing.assert_allclose(info["theta"], plan, atol=1e-15)
    actions = rng.uniform(-1, 1, (game.horizon, game.n_efforts + 1))
    actions[rng.random(actions.shape) < 0.3] = -1.0  # include unused effort types and zero effort
    steps = _play(env, actions)
    efforts = np.array([info["effort"] for *_, info in steps])
    np.testing.assert_allclose(efforts, box_to_simplex(actions.astype(np.float32))[:, :-1] * game.budget, atol=1e-15)
    played = rollout(game, plan, efforts)
    discounted_return = sum(game.discount**t * step[1] for t, step in enumerate(steps))
    assert discounted_return == pytest.approx(float(played.agent_utility), rel=1e-12, abs=1e-12)
    for t, (_, reward, terminated, _, info) in enumerate(steps):
        assert reward == info["score"] == pytest.approx(float(played.scores[t]), rel=1e-12, abs=1e-12)
        np.testing.assert_allclose(info["state"], played.states[t], atol=1e-12)
        assert terminated == (t == game.horizon - 1)


def _argmax_policy(obs: np.ndarray, n_efforts: int) -> np.ndarray:
    """All budget on the effort type with the largest observed marginal value (none if all are <= 0)."""
    values = obs[1 + n_efforts:1 + 2 * n_efforts]
    vertex = np.zeros(n_efforts + 1)
    vertex[int(np.argmax(values)) if values.max() > 0 else n_efforts] = 1.0
    return simplex_to_box(vertex)


@settings(max_examples=30, deadline=None)
@given(seed=seeds)
def test_argmax_of_the_observed_marginal_values_achieves_the_rational_best_response(seed):
    game, rng = _random_instance(seed, max_horizon=5)
    plan = _random_plan(game, rng)
    env = gym.make(AGENT, game=game, principal=plan)
    obs, _ = env.reset(seed=0)
    d, T, n = game.n_efforts, game.horizon, game.n_features
    values = marginal_values(game, plan) / (marginal_value_bound(game) or 1.0)  # W = 0: all values are 0
    discounted_return = 0.0
    for t in range(T):
        np.testing.assert_allclose(obs[1 + d:1 + 2 * d], values[t], rtol=1e-6, atol=1e-7)
        remaining_rules = obs[1 + 2 * d:].reshape(T, n)
        np.testing.assert_array_equal(remaining_rules[:t], 0.0)
        np.testing.assert_allclose(remaining_rules[t:], plan[t:], rtol=1e-6, atol=1e-7)
        obs, reward, *_ = env.step(_argmax_policy(obs, d))
        discounted_return += game.discount**t * reward
    optimum = rollout(game, plan, best_response(game, plan, "rational").effort).agent_utility
    # float32 observations can only swap near-ties (within ~1e-7 of the scale), worth at most that much.
    assert discounted_return == pytest.approx(float(optimum), rel=1e-5, abs=1e-6)
    np.testing.assert_array_equal(obs[1 + d:], 0.0)  # after the last round nothing is left to observe


@settings(max_examples=15, deadline=None)
@given(seed=seeds)
def test_agent_observation_method_reproduces_the_episode(seed):
    game, rng = _random_instance(seed, conversion=["linear", "sqrt"][seed % 2])
    plan = _random_plan(game, rng)
    env = gym.make(AGENT, game=game, principal=plan).unwrapped
    obs, _ = env.reset(seed=0)
    state = game.initial_state
    for t in range(game.horizon + 1):
        np.testing.assert_array_equal(env.observation(plan, state, t), obs)
        if t < game.horizon:
            obs, *_, info = env.step(rng.uniform(-1, 1, game.n_efforts + 1).astype(np.float32))
            state = next_state(game, state, info["effort"])
    for bad_round in (-1, game.horizon + 1, True):
        with pytest.raises(ValueError, match="round_index"):
            env.observation(plan, state, bad_round)
    with pytest.raises(ValueError, match="state"):
        env.observation(plan, np.zeros(game.n_efforts + 1), 0)


def test_agent_env_principal_options():
    game = classroom(horizon=3)
    draws = []

    def principal(rng):
        draws.append(rng)
        return np.tile(rng.dirichlet(np.ones(2)), (3, 1))

    env = gym.make(AGENT, game=game, principal=principal)
    first = env.reset(seed=1)[1]["theta"]
    second = env.reset()[1]["theta"]
    assert len(draws) == 2 and all(rng is env.unwrapped.np_random for rng in draws)
    assert not np.array_equal(first, second)
    np.testing.assert_array_equal(env.reset(seed=1)[1]["theta"], first)

    random_env = gym.make(AGENT, game=game)
    plans = [random_env.reset(seed=4)[1]["theta"], random_env.reset()[1]["theta"]]
    assert not np.array_equal(plans[0], plans[1])
    for plan in plans:
        assert plan.shape == (3, 2) and plan.min() >= 0 and np.allclose(plan.sum(axis=1), 1.0)
    np.testing.assert_array_equal(random_env.reset(seed=4)[1]["theta"], plans[0])

    fixed = np.array([[1.0, 0.0], [0.25, 0.75], [0.5, 0.5]])
    fixed_env = gym.make(AGENT, game=game, principal=fixed)
    for seed in (0, 1):
        np.testing.assert_array_equal(fixed_env.reset(seed=seed)[1]["theta"], fixed)


# ---------------------------------------------------------------------------------------------
# All three: arguments, bounds, any game instance, docs
# ---------------------------------------------------------------------------------------------

class NoRespond:
    respond = "not callable"


@pytest.mark.parametrize("env_id, kwargs, name", [
    (COMMITMENT, dict(game="classroom"), "game"),
    (PRINCIPAL, dict(game={"horizon": 3}), "game"),
    (AGENT, dict(game=np.eye(2)), "game"),
    (PRINCIPAL, dict(agent="rational"), "agent"),
    (PRINCIPAL, dict(agent="greedy"), "agent"),
    (PRINCIPAL, dict(agent=NoRespond()), "agent"),
    (PRINCIPAL, dict(agent=2.0), "agent"),
    (AGENT, dict(principal="uniform"), "principal"),
    (AGENT, dict(principal=np.full((4, 2), 0.5)), "principal"),
    (AGENT, dict(principal=np.full((2, 5, 2), 0.5)), "principal"),
    (AGENT, dict(principal=np.full((5, 2), 0.6)), "principal"),
    (AGENT, dict(principal=np.tile([1.5, -0.5], (5, 1))), "principal"),
    (AGENT, dict(principal=np.full((5, 2), np.nan)), "principal"),
])
def test_bad_constructor_arguments_raise_value_error_naming_them(env_id, kwargs, name):
    with pytest.raises(ValueError, match=name):
        gym.make(env_id, **kwargs)


@pytest.mark.parametrize("env_class", [StatefulCommitmentEnv, StatefulPrincipalEnv, StatefulAgentEnv])
def test_unknown_render_modes_raise_value_error(env_class):
    with pytest.raises(ValueError, match="render_mode"):
        env_class(render_mode="human")


def test_a_principal_callable_returning_a_bad_plan_raises_at_reset():
    env = gym.make(AGENT, principal=lambda rng: np.full((5, 2), 0.7))
    with pytest.raises(ValueError, match=r"principal\(rng\)"):
        env.reset(seed=0)


@settings(max_examples=25, deadline=None)
@given(seed=seeds)
def test_observation_bounds_hold_and_are_attained(seed):
    game, rng = _random_instance(seed, conversion=str(np.random.default_rng(seed).choice(sorted(CONVERSIONS))))
    game = game.replace(initial_state=rng.uniform(0, 2, game.n_efforts), budget=float(rng.uniform(0.5, 2)))
    T, d = game.horizon, game.n_efforts
    states, features = state_bounds(game), feature_bounds(game)
    for j in range(d):  # all budget on type j every round attains the bound on s_j
        effort = np.zeros((T, d))
        effort[:, j] = game.budget
        np.testing.assert_allclose(rollout(game, _random_plan(game, rng), effort).states[:, j], states[:, j], rtol=1e-12)
    for _ in range(20):
        effort = rng.dirichlet(np.ones(d + 1), size=T)[:, :d] * game.budget
        plan = _random_plan(game, rng)
        played = rollout(game, plan, effort)
        assert np.all(played.states <= states * (1 + 1e-12) + 1e-12)
        assert np.all(played.features <= features * (1 + 1e-12) + 1e-12)
        assert np.all(marginal_values(game.replace(conversion="linear"), plan) <= marginal_value_bound(game) * (1 + 1e-12))
    # Round-1 features of "all budget on the type that feature i rewards most" are reachable: the bound covers them.
    first_round = CONVERSIONS[game.conversion][0](game.conversion_matrix @ game.initial_state
                                                  + game.budget * game.conversion_matrix.max(axis=1))
    assert np.all(features >= first_round - 1e-12)
    # The marginal-value bound is attained: rule "all weight on the feature that type j feeds most", every round.
    W = game.conversion_matrix
    linear = game.replace(conversion="linear")
    best = max(marginal_values(linear, np.tile(np.eye(game.n_features)[np.argmax(W[:, j])], (T, 1)))[:, j].max()
               for j in range(d))
    assert best == pytest.approx(marginal_value_bound(game), rel=1e-12, abs=1e-15)


GAMES = {
    "classroom": classroom(),
    "classroom, forgetting, discounted, initial state": classroom(persistence=[0.5, 0.8, 1.0], discount=0.9,
                                                                 initial_state=[0.0, 3.0, 1.0], budget=2.0),
    "classroom, sqrt": classroom(horizon=3, conversion="sqrt"),
    "random linear": random_game(np.random.default_rng(1), horizon=4, n_features=3, n_efforts=2),
    "random log1p": random_game(np.random.default_rng(2), horizon=2, conversion="log1p"),
    "a zero feature row": classroom(conversion_matrix=[[0.0, 0.0, 0.0], [0.0, 0.4, 1.0]], effort_value=[0.0, 0.0, 0.0]),
}


@pytest.mark.parametrize("env_id", [COMMITMENT, PRINCIPAL, AGENT])
@pytest.mark.parametrize("game", GAMES.values(), ids=GAMES.keys())
def test_any_game_instance_works_through_gym_make(env_id, game):
    env = gym.make(env_id, game=game)
    assert env.unwrapped.game is game
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gymnasium_check_env(env.unwrapped)
    assert [str(warning.message) for warning in caught] == []
    env.action_space.seed(0)
    for episode in range(3):
        obs, _ = env.reset(seed=episode)
        terminated = False
        while not terminated:
            assert obs in env.observation_space
            action = env.action_space.sample()
            if episode == 1:  # corners: the most extreme rules and efforts
                action = np.sign(action).astype(np.float32)
            obs, reward, terminated, truncated, _ = env.step(action)
            assert np.isfinite(reward) and not truncated
        assert obs in env.observation_space


def test_render_ansi_summarizes_the_last_round():
    env = gym.make(PRINCIPAL, game=classroom(), render_mode="ansi")
    env.reset(seed=0)
    env.step(np.zeros(2, dtype=np.float32))
    text = env.render()
    assert "round 1/5" in text and "effort" in text


def test_docstring_examples_run():
    modules = [importlib.import_module(f"{stateful_envs.__name__}.{info.name}")
               for info in pkgutil.iter_modules(stateful_envs.__path__)]
    results = [doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE) for module in modules]
    assert sum(result.attempted for result in results) >= 6 and sum(result.failed for result in results) == 0


# ---------------------------------------------------------------------------------------------
# Native vector envs
# ---------------------------------------------------------------------------------------------

class RuleFollowingAgent:
    """A deterministic custom agent: all budget on the effort type the rule's heaviest feature rewards most."""

    def respond(self, game, rule, state, round_index, rng):
        effort = np.zeros(game.n_efforts)
        effort[np.argmax(game.conversion_matrix[np.argmax(rule)])] = game.budget
        return effort


def _vector_and_sync(kind: str, num_envs: int, **kwargs):
    vector_class = {COMMITMENT: StatefulCommitmentVectorEnv, PRINCIPAL: StatefulPrincipalVectorEnv,
                    AGENT: StatefulAgentVectorEnv}[kind]
    return (vector_class(num_envs, **kwargs),
            gym.make_vec(kind, num_envs=num_envs, vectorization_mode="sync", **kwargs))


def _assert_vector_equals_sync(kind: str, num_envs: int, n_steps: int, rng, info_keys, **kwargs) -> None:
    """The native vector env and Gymnasium's synchronous copies of the scalar env agree step for step, autoresets
    (NEXT_STEP) included, on the same seeded float32 actions."""
    vector, sync = _vector_and_sync(kind, num_envs, **kwargs)
    assert vector.observation_space == sync.observation_space and vector.action_space == sync.action_space
    obs_vector, _ = vector.reset(seed=1)
    obs_sync, _ = sync.reset(seed=1)
    np.testing.assert_array_equal(obs_vector, obs_sync)
    for _ in range(n_steps):
        actions = rng.uniform(-1, 1, vector.action_space.shape).astype(np.float32)
        obs_vector, rewards_vector, terminated_vector, truncated_vector, info_vector = vector.step(actions)
        obs_sync, rewards_sync, terminated_sync, truncated_sync, info_sync = sync.step(actions)
        np.testing.assert_allclose(obs_vector, obs_sync, rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(rewards_vector, rewards_sync, rtol=1e-12, atol=1e-12)
        np.testing.assert_array_equal(terminated_vector, terminated_sync)
        np.testing.assert_array_equal(truncated_vector, truncated_sync)
        np.testing.assert_array_equal(info_vector["_effort"], info_sync.get("_effort", np.zeros(num_envs, bool)))
        if info_vector["_effort"].any():
            for key in info_keys:  # the scalar env's info, batched
                np.testing.assert_allclose(info_vector[key][info_vector["_" + key]],
                                           info_sync[key][info_sync["_" + key]], rtol=1e-6, atol=1e-12)


@settings(max_examples=12, deadline=None)
@given(seed=seeds, num_envs=st.integers(1, 4),
       opponent=st.sampled_from(["myopic", "forecasting", "custom agent", "fixed plan"]))
def test_vector_envs_equal_synchronous_copies_of_the_scalar_env(seed, num_envs, opponent):
    game, rng = _random_instance(seed)
    if opponent == "fixed plan":
        kind, kwargs = AGENT, dict(game=game, principal=_random_plan(game, rng))
    else:
        kind = PRINCIPAL
        kwargs = dict(game=game, agent=RuleFollowingAgent() if opponent == "custom agent" else opponent)
    # Enough steps for several episodes each, so autoresets (NEXT_STEP) are compared too.
    _assert_vector_equals_sync(kind, num_envs, 3 * game.horizon + 2, rng,
                               ("rule", "state", "effort", "features", "score"), **kwargs)


@settings(max_examples=16, deadline=None)
@given(seed=seeds, num_envs=st.integers(1, 5),
       opponent=st.sampled_from(["rational", "myopic", "forecasting", "custom agent", "concave"]))
def test_commitment_vector_env_equals_synchronous_copies_of_the_scalar_env(seed, num_envs, opponent):
    game, rng = _random_instance(seed, conversion="sqrt" if opponent == "concave" else "linear", max_horizon=3)
    model = {"custom agent": RuleFollowingAgent(), "concave": "rational"}.get(opponent, opponent)
    _assert_vector_equals_sync(COMMITMENT, num_envs, 5, rng, ("theta", "effort", "states", "features", "scores",
                                                              "agent_utility", "principal_utility"),
                               game=game, agent=model)


def test_commitment_vector_env_earns_the_float32_optimum_in_every_sub_env():
    """The batched rational agent breaks ties as the scalar one: the float32 optimum of a tied game earns it."""
    game = StatefulGame(conversion_matrix=[[3, 1.5, 0], [0, 0.5, 1]], retention=[0, 0, 0], effort_value=[0, 1, 0],
                        horizon=3)
    envs = StatefulCommitmentVectorEnv(num_envs=4, game=game)
    envs.reset(seed=0)
    action = simplex_to_box(np.tile([0.25, 0.75], (3, 1)))
    assert envs.step(np.stack([action] * 4))[1].tolist() == [3.0] * 4


def test_vector_agent_env_is_seeded_and_checks_its_inputs():
    first, second = StatefulAgentVectorEnv(3), StatefulAgentVectorEnv(3)
    with pytest.raises(gym.error.ResetNeeded):
        first.step(first.action_space.sample())
    results = []
    for env in (first, second):
        env.action_space.seed(0)
        results.append([env.reset(seed=9)] + [env.step(env.action_space.sample()) for _ in range(12)])
    for record_first, record_second in zip(*results):
        for part_first, part_second in zip(record_first, record_second):
            if isinstance(part_first, dict):
                assert part_first.keys() == part_second.keys()
                for key in part_first:
                    np.testing.assert_array_equal(part_first[key], part_second[key])
            else:
                np.testing.assert_array_equal(part_first, part_second)
    plans = results[0][0][1]["theta"]  # the reset info: each new episode's plan
    assert not np.array_equal(plans[0], plans[1])  # each sub-env draws its own plan
    for bad in (np.full((3, 4), np.nan, dtype=np.float32), np.zeros((2, 4), dtype=np.float32),
                np.full((3, 4), 1.5, dtype=np.float32)):
        with pytest.raises(ValueError, match="actions"):
            first.step(bad)
    with pytest.raises(ValueError, match="num_envs"):
        StatefulPrincipalVectorEnv(0)


def test_vector_envs_plug_in_through_vector_entry_point():
    for name, vector_class, scalar_class in (("StatefulPrincipal", StatefulPrincipalVectorEnv, StatefulPrincipalEnv),
                                             ("StatefulAgent", StatefulAgentVectorEnv, StatefulAgentEnv)):
        env_id = f"StratgymVectorTest/{name}-v0"
        gym.register(env_id, entry_point=scalar_class, vector_entry_point=vector_class)
        try:
            envs = gym.make_vec(env_id, num_envs=5, vectorization_mode="vector_entry_point", game=classroom(horizon=2))
            assert isinstance(envs, vector_class) and envs.num_envs == 5 and envs.game.horizon == 2
            obs, _ = envs.reset(seed=0)
            assert obs.shape == envs.observation_space.shape and obs in envs.observation_space
        finally:
            del gym.registry[env_id]
