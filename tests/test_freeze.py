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
from stratgym.envs._spaces import box_to_simplex, simplex_to_box
from stratgym.envs.stateful import StatefulAgentEnv, StatefulPrincipalEnv, describe_game
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

    round_by_round = train("stratgym/StatefulPrincipal-v0", seed=0, env_kwargs={"game": game, "response_model": "forecasting"},
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
    assert isinstance(history[1].principal.env_kwargs["response_model"], AgentPolicyResponse)
    assert history[1].principal.env_kwargs["response_model"].model is history[0].agent.model
    with pytest.raises(ValueError, match="rounds"):
        alternate(game, rounds=0)
