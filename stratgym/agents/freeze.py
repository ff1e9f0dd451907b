"""Freeze one side, train the other: learned agents as response models, learned principals as plans.

SB3 trains one policy at a time. Here a trained *agent* (from ``stratgym/StatefulAgent-v0``) becomes
the response model of both stateful principal envs, and a trained *principal* (from
``stratgym/StatefulCommitment-v0`` or ``stratgym/StatefulPrincipal-v0``) becomes the plan an agent env
faces; :func:`alternate` trains the two sides in turn. In the persuasion game a trained receiver (from
``stratgym/PersuasionAgent-v0``) becomes the receiver of ``stratgym/PersuasionRecommend-v0``
(:class:`AgentPolicyReceiver`), and a trained scheme (from ``stratgym/PersuasionScheme-v0``) the scheme an
agent env faces (:func:`committed_scheme`).

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
from stratgym.envs._spaces import box_to_simplex
from stratgym.envs.persuasion import ReceiverContext, recommendation_observation, scheme_observation
from stratgym.envs.stateful import StatefulAgentEnv, StatefulPrincipalEnv, agent_observation, describe_game
from stratgym.games.persuasion import PersuasionGame, Regions
from stratgym.games._validation import as_positive_int, check_instance
from stratgym.games.stateful import StatefulGame, best_response, rollout
from stratgym.registry import family

#: The envs :func:`alternate` trains in turn: the stateful family's ``alternation`` in the registry.
PRINCIPAL_ENV, AGENT_ENV = family("stateful").alternation


def agent_effort(game: StatefulGame, action) -> np.ndarray:
    """The effort ``(d,)`` an agent-env action ``(d + 1,)`` means: ``B`` times the first ``d`` simplex weights."""
    return box_to_simplex(np.clip(np.asarray(action, dtype=np.float64), -1.0, 1.0))[:-1] * game.budget


class AgentPolicyResponse:
    """A trained agent model as a :class:`stratgym.envs.stateful.ResponseModel` of the principal env.

    Each round it builds the agent env's observation (:func:`agent_observation`) for the belief that
    ``rule`` stays in force for the rest of the game, asks ``model`` for an action (deterministic by
    default; a stochastic policy samples from torch's generator, seeded with the model), and maps it to
    an effort exactly as the agent env does. The model must come from an agent env of the same
    game shape (``T``, ``n``, ``d``).
    """

    def __init__(self, model, deterministic: bool = True):
        if not hasattr(model, "predict"):
            raise ValueError(f"model must have SB3's predict(obs, deterministic) method, got {type(model).__name__}")
        self.model, self.deterministic = model, deterministic

    def __deepcopy__(self, memo) -> "AgentPolicyResponse":
        # make_env deep-copies env kwargs for every env; a frozen model is only read while it responds (and
        # a trained torch module cannot be deep-copied), so every copy shares it.
        return AgentPolicyResponse(self.model, self.deterministic)

    def respond(self, game: StatefulGame, rule: np.ndarray, state: np.ndarray, round_index: int,
                rng: np.random.Generator | None = None) -> np.ndarray:
        """This round's effort ``(d,)`` chosen by the model against ``rule`` ``(n,)`` in ``state`` ``(d,)``."""
        expected = (1 + 2 * game.n_efforts + game.horizon * game.n_features,)
        if self.model.observation_space.shape != expected:
            raise ValueError(f"the agent model observes shape {self.model.observation_space.shape}, but this game's "
                             f"agent observation has shape {expected}: train it on the same (T, n, d)")
        belief = np.tile(np.asarray(rule, dtype=np.float64), (game.horizon, 1))
        action, _ = self.model.predict(agent_observation(game, belief, state, round_index), deterministic=self.deterministic)
        return agent_effort(game, action)


def principal_plan(model, game: StatefulGame, response_model: Any = "forecasting",
                   deterministic: bool = True) -> Callable[[np.random.Generator], np.ndarray]:
    """A trained principal model as a plan ``plan(rng) -> (T, n)`` for ``StatefulAgentEnv(principal=...)``.

    A model from ``StatefulCommitment-v0`` (action shape ``(T, n)``) is asked once for its policy given
    the game description. A model from ``StatefulPrincipal-v0`` (action shape ``(n,)``) publishes rules
    round by round and reacts to what it observes, so its plan is the sequence of rules it publishes in
    one episode against ``response_model`` (its on-path plan), with the episode seeded from ``rng``.
    """
    shape = tuple(model.action_space.shape)
    if shape == (game.horizon, game.n_features):
        observation = describe_game(game)[0]

        def committed(rng: np.random.Generator) -> np.ndarray:
            action, _ = model.predict(observation, deterministic=deterministic)
            return box_to_simplex(action)

        return committed
    if shape == (game.n_features,):
        env = StatefulPrincipalEnv(game, response_model)

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


class AgentPolicyReceiver:
    """A trained ``PersuasionAgent-v0`` model as the :class:`~stratgym.envs.persuasion.Receiver` of
    ``PersuasionRecommend-v0``: on recommendation ``a`` it takes the model's deterministic action for the agent env's
    observation of ``a`` (:func:`recommendation_observation`), asked once at construction. It is frozen and
    deterministic (a sampled SB3 action would draw from torch's generator, not the env's): ``update`` learns nothing,
    and ``follow_probabilities`` is 1 where the model obeys. ``game`` must be the env's game (the model must have
    been trained on it).
    """

    def __init__(self, model, game: PersuasionGame):
        if not hasattr(model, "predict"):
            raise ValueError(f"model must have SB3's predict(obs, deterministic) method, got {type(model).__name__}")
        check_instance(game, PersuasionGame, "game")
        expected = (game.n_actions + game.features.size,)
        if tuple(model.observation_space.shape) != expected:
            raise ValueError(f"the receiver model observes shape {tuple(model.observation_space.shape)}, but this "
                             f"game's agent observation has shape {expected}: train it on PersuasionAgent-v0 of this game")
        self.model, self.game = model, game
        self.answers = np.array([int(model.predict(recommendation_observation(game, a), deterministic=True)[0])
                                 for a in range(game.n_actions)])

    def __deepcopy__(self, memo) -> "AgentPolicyReceiver":
        # As AgentPolicyResponse: make_env deep-copies env kwargs, and the frozen model is only read.
        return AgentPolicyReceiver(self.model, self.game)

    def reset(self, context: ReceiverContext, rng: np.random.Generator | None = None) -> None:
        """Nothing to forget: the receiver is frozen (``context`` must be of its game's size)."""
        if context.costs.shape != (self.game.n_actions,):
            raise ValueError(f"the env's game has {context.costs.shape[0]} actions, the receiver's {self.game.n_actions}")

    def follow_probabilities(self) -> np.ndarray:
        """``(A,)``: 1 where the model's answer to recommendation ``a`` is ``a``, 0 elsewhere."""
        return (self.answers == np.arange(self.game.n_actions)).astype(np.float64)

    def respond(self, recommendation: int, rng: np.random.Generator | None = None) -> int:
        """The model's action on ``recommendation``."""
        return int(self.answers[recommendation])

    def update(self, recommendation: int, action: int, utility: float) -> None:
        """A frozen receiver learns nothing."""


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

    Round ``r``: a principal is trained in ``StatefulPrincipal-v0`` against the current response model
    (``initial_response`` in round 0, then the last :class:`AgentPolicyResponse`) with seed ``seed + 2r``;
    its on-path plan (:func:`principal_plan`) is frozen and an agent is trained in
    ``StatefulAgent-v0`` against it with seed ``seed + 2r + 1``. Hyperparameters are zoo-format entries
    (default: the packaged files of ``algo``); budgets are in env steps.
    """
    rounds = as_positive_int(rounds, "rounds")
    response, history = initial_response, []
    for r in range(rounds):
        principal = train(PRINCIPAL_ENV, algo, seed + 2 * r, env_kwargs={"game": game, "response_model": response},
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
        response = AgentPolicyResponse(agent.model)
    return history
