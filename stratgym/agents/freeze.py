"""Freeze one side, train the other: learned agents as response models, learned principals as plans.

SB3 trains one policy at a time. Here a trained *agent* (from ``stratgym/StatefulAgent-v0``) becomes
the agent of both stateful principal envs (``agent=Learned(model)``, played by
:class:`~stratgym.envs.stateful.LearnedResponse`), and a trained *principal* (from
``stratgym/StatefulCommitment-v0`` or ``stratgym/StatefulPrincipal-v0``) becomes the plan an agent env
faces; :func:`alternate` trains the two sides in turn. In the persuasion game a trained receiver (from
``stratgym/PersuasionAgent-v0``) becomes the receiver of ``stratgym/PersuasionRecommend-v0``
(``agent=Learned(model)``, :class:`~stratgym.envs.persuasion.LearnedReceiver`), and a trained scheme (from
``stratgym/PersuasionScheme-v0``) the scheme an agent env faces (:func:`committed_scheme`).

Beliefs. The agent env shows the agent the principal's whole plan. A principal that publishes one
rule per round has not committed to later rules, so a frozen agent playing against it is shown the
plan "the current rule stays in force until ``T``" — the forecasting agent's belief.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from stratgym.agents.evaluate import evaluate_policy
from stratgym.agents.train import TrainingResult, train
from stratgym.envs.spaces import box_to_simplex
from stratgym.envs.persuasion import LearnedReceiver, scheme_observation
from stratgym.envs.stateful import (LearnedResponse, StatefulAgentEnv, StatefulPrincipalEnv, agent_effort,
                                   agent_observation, describe_game)
from stratgym.games.behaviour import Learned
from stratgym.games.persuasion import Regions
from stratgym.games.validation import as_positive_int, check_instance
from stratgym.games.stateful import StatefulGame, best_response, rollout
from stratgym.registry import family

#: The envs :func:`alternate` trains in turn: the stateful family's ``alternation`` in the registry.
PRINCIPAL_ENV, AGENT_ENV = family("stateful").alternation

#: The previous names of the adapters the envs build from ``agent=Learned(model)``: a trained agent as the stateful
#: principal envs' response model, a trained receiver as ``PersuasionRecommend-v0``'s receiver (``(model, game)``).
AgentPolicyResponse = LearnedResponse
AgentPolicyReceiver = LearnedReceiver
__all__ = ["AGENT_ENV", "AgentPolicyReceiver", "AgentPolicyResponse", "AlternationRound", "PRINCIPAL_ENV",
           "agent_effort", "agent_observation", "alternate", "committed_scheme", "principal_plan"]


def principal_plan(model, game: StatefulGame, agent: Any = "forecasting",
                   deterministic: bool = True) -> Callable[[np.random.Generator], np.ndarray]:
    """A trained principal model as a plan ``plan(rng) -> (T, n)`` for ``StatefulAgentEnv(principal=...)``.

    A model from ``StatefulCommitment-v0`` (action shape ``(T, n)``) is asked once for its policy given
    the game description. A model from ``StatefulPrincipal-v0`` (action shape ``(n,)``) publishes rules
    round by round and reacts to what it observes, so its plan is the sequence of rules it publishes in
    one episode against ``agent`` (its on-path plan), with the episode seeded from ``rng``.
    """
    shape = tuple(model.action_space.shape)
    if shape == (game.horizon, game.n_features):
        observation = describe_game(game)[0]

        def committed(rng: np.random.Generator) -> np.ndarray:
            action, _ = model.predict(observation, deterministic=deterministic)
            return box_to_simplex(action)

        return committed
    if shape == (game.n_features,):
        env = StatefulPrincipalEnv(game, agent)

        def on_path(rng: np.random.Generator) -> np.ndarray:
            observation, _ = env.reset(seed=int(rng.integers(2**31)))
            rules = []
            for _ in range(game.horizon):
                action, _ = model.predict(observation, deterministic=deterministic)
                observation, _, _, _, info = env.step(action)
                rules.append(info["rule"])
            return np.array(rules)

        return on_path
    raise ValueError(f"principal model acts with shape {shape}; expected ({game.horizon}, {game.n_features}) "
                     f"(StatefulCommitment) or ({game.n_features},) (StatefulPrincipal) for this game")


def committed_scheme(model, regions: Regions) -> np.ndarray:
    """The scheme ``(R, A)`` a trained ``PersuasionScheme-v0`` model commits to on ``regions`` (its env's), for
    ``gym.make("stratgym/PersuasionAgent-v0", game=regions.game, regions=regions, scheme=...)``: its deterministic
    action on the env's observation (:func:`scheme_observation`), mapped row-wise onto the simplex as the env does."""
    check_instance(regions, Regions, "regions")
    if tuple(model.action_space.shape) != (regions.n_regions, regions.n_actions):
        raise ValueError(f"the scheme model acts with shape {tuple(model.action_space.shape)}; these regions need "
                         f"({regions.n_regions}, {regions.n_actions}): train it on PersuasionScheme-v0 of this game")
    action, _ = model.predict(scheme_observation(regions), deterministic=True)
    return box_to_simplex(np.clip(np.asarray(action, dtype=np.float64), -1.0, 1.0))


@dataclass(frozen=True)
class AlternationRound:
    """One round of :func:`alternate`.

    Attributes:
        principal: the principal trained against the previous agent (the initial response model first).
        agent: the agent trained against that principal's plan.
        plan: ``(T, n)`` the principal's on-path plan the agent was trained against.
        principal_return: the principal's evaluation return against the agent it was trained against.
        agent_return: the agent's evaluation return (``U_A``) against ``plan``.
        agent_best_response: the exact best-response utility ``U_A*`` against ``plan`` (rational agent).
    """

    principal: TrainingResult
    agent: TrainingResult
    plan: np.ndarray
    principal_return: float
    agent_return: float
    agent_best_response: float


def alternate(game: StatefulGame, rounds: int = 2, principal_timesteps: int = 2048, agent_timesteps: int = 2048,
              seed: int = 0, algo: str = "ppo", initial_response: Any = "forecasting", n_eval_episodes: int = 3,
              principal_hyperparams: dict | None = None, agent_hyperparams: dict | None = None,
              progress_bar: bool = False) -> list[AlternationRound]:
    """Train principal and agent in turn on ``game``, each against the other's latest frozen policy.

    Round ``r``: a principal is trained in ``StatefulPrincipal-v0`` against the current agent
    (``initial_response`` in round 0, then ``Learned(model)`` of the last agent) with seed ``seed + 2r``;
    its on-path plan (:func:`principal_plan`) is frozen and an agent is trained in
    ``StatefulAgent-v0`` against it with seed ``seed + 2r + 1``. Hyperparameters are zoo-format entries
    (default: the packaged files of ``algo``); budgets are in env steps.
    """
    rounds = as_positive_int(rounds, "rounds")
    response, history = initial_response, []
    for r in range(rounds):
        principal = train(PRINCIPAL_ENV, algo, seed + 2 * r, env_kwargs={"game": game, "agent": response},
                          n_timesteps=principal_timesteps, hyperparams=principal_hyperparams,
                          n_eval_episodes=n_eval_episodes, progress_bar=progress_bar)
        principal_return = principal.curve.mean_returns[-1]
        plan = principal_plan(principal.model, game, response)(np.random.default_rng(seed + 2 * r))
        agent = train(AGENT_ENV, algo, seed + 2 * r + 1, env_kwargs={"game": game, "principal": plan},
                      n_timesteps=agent_timesteps, hyperparams=agent_hyperparams,
                      n_eval_episodes=n_eval_episodes, progress_bar=progress_bar)
        agent_return = evaluate_policy(agent.model, StatefulAgentEnv(game, plan), n_eval_episodes,
                                       discount=game.discount).mean
        exact = rollout(game, plan, best_response(game, plan, "rational").effort)
        history.append(AlternationRound(principal, agent, plan, float(principal_return), agent_return,
                                        float(exact.agent_utility)))
        response = Learned(agent.model)
    return history
