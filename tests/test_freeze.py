"""Freeze-one-side adapters and the alternating loop."""

import gymnasium as gym
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import stratgym  # noqa: F401
from stratgym.agents.freeze import (
    AgentPolicyResponse,
    agent_effort,
    agent_observation,
    alternate,
    principal_plan,
)
from stratgym.agents.train import train
from stratgym.envs.spaces import box_to_simplex, simplex_to_box
from stratgym.envs.stateful import StatefulAgentEnv, StatefulPrincipalEnv, describe_game
from stratgym.games.behaviour import Learned
from stratgym.games.persuasion import prosecutor
from stratgym.games.stateful import best_response, classroom, favoured_option, random_game, rollout

TINY_PPO = {"policy": "MlpPolicy", "n_steps": 32, "batch_size": 32, "n_epochs": 1,
            "policy_kwargs": "dict(net_arch=[16])"}


def _game(seed: int, conversion: str = "linear"):
    rng = np.random.default_rng(seed)
    return random_game(rng, horizon=int(rng.integers(1, 5)), n_features=int(rng.integers(1, 4)),
                       n_efforts=int(rng.integers(1, 4)), conversion=conversion), rng


@pytest.mark.parametrize("changes, message", [
    (dict(plan=np.full((3, 2), 0.6)), "plan"),  # rows off the simplex
    (dict(plan=np.full((2, 2), 0.5)), "plan"),  # T = 3 rounds expected
    (dict(plan=np.full((2, 3, 2), 0.5)), "plan"),  # a batch of plans
    (dict(plan=[[0.5, np.nan]] * 3), "plan"),
    (dict(state=np.zeros(2)), "state"),
    (dict(round_index=4), "round_index"),
    (dict(round_index=-1), "round_index"),
])
def test_agent_observation_rejects_bad_input(changes, message):
    arguments = dict(plan=np.full((3, 2), 0.5), state=np.zeros(3), round_index=0) | changes
    with pytest.raises(ValueError, match=message):
        agent_observation(classroom(horizon=3), **arguments)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), conversion=st.sampled_from(["linear", "sqrt"]))
def test_agent_observation_matches_the_agent_env(seed, conversion):
    game, rng = _game(seed, conversion)
    env = StatefulAgentEnv(game, "random")
    obs, info = env.reset(seed=int(rng.integers(1000)))
    state = game.initial_state
    for t in range(game.horizon):
        np.testing.assert_array_equal(agent_observation(game, info["theta"], state, t), obs)
        action = rng.uniform(-1, 1, game.n_efforts + 1).astype(np.float32)
        obs, _, _, _, step_info = env.step(action)
        np.testing.assert_array_equal(agent_effort(game, action), step_info["effort"])
        state = game.persistence * state + game.retention * step_info["effort"]


class _OracleAgent:
    """A stand-in 'trained agent' that best-responds from the observation alone (linear games)."""

    def __init__(self, game):
        self.game = game
        d = game.n_efforts
        self.observation_space = gym.spaces.Box(0, 1, (1 + 2 * d + game.horizon * game.n_features,))

    def predict(self, obs, deterministic=True):
        d, budget = self.game.n_efforts, self.game.budget
        # The observed values are divided by marginal_value_bound, so 1 is their tie scale.
        effort = favoured_option(self.game, np.asarray(obs[1 + d:1 + 2 * d], dtype=np.float64), 1.0)
        return simplex_to_box(np.append(effort / budget, 1.0 - effort.sum() / budget)), None


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_observation_reading_agent_in_the_principal_env_is_the_forecasting_agent(seed):
    # Believing the current rule stays in force, the agent's observed marginal values are the forecasting
    # weights times W^T rule: an agent that best-responds to them is the forecasting agent.
    game, rng = _game(seed)
    actions = rng.uniform(-1, 1, (game.horizon, game.n_features)).astype(np.float32)
    efforts = []
    for model in ("forecasting", AgentPolicyResponse(_OracleAgent(game))):
        env = StatefulPrincipalEnv(game, model)
        env.reset(seed=0)
        efforts.append([env.step(a)[4]["effort"] for a in actions])
    np.testing.assert_allclose(efforts[1], efforts[0], atol=1e-12)


def test_agent_policy_response_rejects_mismatched_models():
    game = classroom(horizon=3)
    with pytest.raises(ValueError, match="predict"):
        AgentPolicyResponse(object())
    with pytest.raises(ValueError, match="same"):
        AgentPolicyResponse(_OracleAgent(classroom(horizon=4))).respond(game, np.array([0.5, 0.5]),
                                                                        game.initial_state, 0, None)


def test_trained_models_freeze_into_both_envs():
    game = classroom(horizon=3)
    principal = train("stratgym/StatefulCommitment-v0", seed=0, env_kwargs={"game": game}, n_timesteps=64,
                      hyperparams=TINY_PPO, progress_bar=False).model
    plan = principal_plan(principal, game)
    expected = box_to_simplex(principal.predict(describe_game(game)[0], deterministic=True)[0])
    np.testing.assert_allclose(plan(np.random.default_rng(0)), expected)
    _, info = StatefulAgentEnv(game, plan).reset(seed=3)
    np.testing.assert_allclose(info["theta"], expected / expected.sum(axis=1, keepdims=True))

    round_by_round = train("stratgym/StatefulPrincipal-v0", seed=0, env_kwargs={"game": game, "agent": "forecasting"},
                           n_timesteps=64, hyperparams=TINY_PPO, progress_bar=False).model
    rules = principal_plan(round_by_round, game, "forecasting")(np.random.default_rng(0))
    env = StatefulPrincipalEnv(game, "forecasting")
    obs, _ = env.reset(seed=0)
    for t in range(game.horizon):
        action = round_by_round.predict(obs, deterministic=True)[0]
        obs, _, _, _, info = env.step(action)
        np.testing.assert_array_equal(rules[t], info["rule"])
    with pytest.raises(ValueError, match="acts with shape"):
        principal_plan(round_by_round, classroom(horizon=3, conversion_matrix=[[1, 0, 0], [0, 1, 0], [0, 0, 1]],
                                                 feature_names=None))

    agent = train("stratgym/StatefulAgent-v0", seed=0, env_kwargs={"game": game, "principal": plan}, n_timesteps=64,
                  hyperparams=TINY_PPO, progress_bar=False).model
    env = StatefulPrincipalEnv(game, AgentPolicyResponse(agent))
    env.reset(seed=0)
    effort = env.step(np.zeros(2, dtype=np.float32))[4]["effort"]
    belief = np.full((3, 2), 0.5)
    np.testing.assert_array_equal(effort, agent_effort(game, agent.predict(
        agent_observation(game, belief, game.initial_state, 0), deterministic=True)[0]))


def test_alternating_loop_runs_end_to_end():
    game = classroom(horizon=3)
    history = alternate(game, rounds=2, principal_timesteps=64, agent_timesteps=64, seed=1, n_eval_episodes=1,
                        principal_hyperparams=TINY_PPO, agent_hyperparams=TINY_PPO)
    assert len(history) == 2
    for step in history:
        assert step.plan.shape == (3, 2)
        np.testing.assert_allclose(step.plan.sum(axis=1), 1.0)
        exact = rollout(game, step.plan, best_response(game, step.plan, "rational").effort)
        assert step.agent_best_response == pytest.approx(float(exact.agent_utility))
        # The exact best response is an upper bound on what any agent policy earns against the plan.
        assert step.agent_return <= step.agent_best_response + 1e-9
        assert step.principal.seed != step.agent.seed
    # Round 2's principal faced the round-1 agent, frozen.
    assert isinstance(history[1].principal.env_kwargs["agent"], Learned)
    assert history[1].principal.env_kwargs["agent"].model is history[0].agent.model
    with pytest.raises(ValueError, match="rounds"):
        alternate(game, rounds=0)


# ---------------------------------------------------------------------------------------------
# Persuasion game: a trained receiver in the repeated env, a trained scheme in the agent env
# ---------------------------------------------------------------------------------------------

class _FixedAnswers:
    """A stand-in for a trained PersuasionAgent-v0 model: answers recommendation ``a`` with ``answers[a]``."""

    def __init__(self, game, answers):
        self.observation_space = gym.spaces.Box(-1.0, 1.0, (game.n_actions + game.features.size,), np.float32)
        self.answers = answers

    def predict(self, observation, deterministic=True):
        return np.int64(self.answers[int(np.argmax(observation[:len(self.answers)]))]), None


def test_recommendation_observation_is_the_agent_envs():
    from stratgym.envs.persuasion import recommendation_observation

    env = gym.make("stratgym/PersuasionAgent-v0", scheme="full-revelation")
    game = env.unwrapped.game
    features = game.features / max(1.0, np.abs(game.features).max())  # the scaling the env's docstring states
    seen = set()
    for seed in range(30):
        obs, info = env.reset(seed=seed)
        by_hand = np.concatenate([np.eye(game.n_actions)[info["recommendation"]], features]).astype(np.float32)
        np.testing.assert_array_equal(obs, by_hand)
        np.testing.assert_array_equal(recommendation_observation(game, info["recommendation"]), obs)
        seen.add(info["recommendation"])
    assert len(seen) > 1
    with pytest.raises(ValueError, match="recommendation"):
        recommendation_observation(game, game.n_actions)


def test_a_frozen_receiver_answers_the_repeated_env_as_its_model_does():
    from stratgym.agents.freeze import AgentPolicyReceiver

    game = gym.make("stratgym/PersuasionRecommend-v0").unwrapped.game
    answers = [0, 0] + list(range(2, game.n_actions))  # obeys every recommendation but action 1
    receiver = AgentPolicyReceiver(_FixedAnswers(game, answers), game)
    env = gym.make("stratgym/PersuasionRecommend-v0", agent=receiver)
    obs, _ = env.reset(seed=0)
    regions = env.unwrapped.regions.n_regions
    np.testing.assert_array_equal(obs[regions:regions + game.n_actions], [1.0, 0.0] + [1.0] * (game.n_actions - 2))
    for recommendation in np.random.default_rng(0).integers(0, game.n_actions, 40):
        info = env.step(int(recommendation))[4]
        assert info["action"] == answers[int(recommendation)]
    with pytest.raises(ValueError, match="observes shape"):
        AgentPolicyReceiver(_FixedAnswers(prosecutor(), [0, 0]), game)


def test_trained_scheme_and_receiver_models_plug_into_the_other_side():
    from stratgym.agents.freeze import AgentPolicyReceiver, committed_scheme
    from stratgym.envs.persuasion import recommendation_observation
    from stratgym.games.persuasion import evaluate_scheme

    scheme_env = gym.make("stratgym/PersuasionScheme-v0")
    regions = scheme_env.unwrapped.regions
    principal = train("stratgym/PersuasionScheme-v0", "ppo", 0, n_timesteps=64, progress_bar=False,
                      hyperparams=TINY_PPO).model
    scheme = committed_scheme(principal, regions)
    obs, _ = scheme_env.reset(seed=0)
    reward = scheme_env.step(principal.predict(obs, deterministic=True)[0])[1]
    assert reward == pytest.approx(evaluate_scheme(regions, scheme).principal_value, abs=1e-12)
    agent_env = gym.make("stratgym/PersuasionAgent-v0", game=regions.game, regions=regions, scheme=scheme)
    np.testing.assert_allclose(agent_env.unwrapped.scheme, scheme)
    receiver_model = train("stratgym/PersuasionAgent-v0", "ppo", 1, env_kwargs={"scheme": "full-revelation"},
                           n_timesteps=64, progress_bar=False, hyperparams=TINY_PPO).model
    receiver = AgentPolicyReceiver(receiver_model, regions.game)
    recommend = gym.make("stratgym/PersuasionRecommend-v0", agent=receiver)
    recommend.reset(seed=0)
    for recommendation in range(regions.n_actions):
        expected = int(receiver_model.predict(recommendation_observation(regions.game, recommendation),
                                              deterministic=True)[0])
        assert recommend.step(recommendation)[4]["action"] == expected
    with pytest.raises(ValueError, match="acts with shape"):
        committed_scheme(principal, gym.make("stratgym/PersuasionScheme-v0", game=prosecutor()).unwrapped.regions)
