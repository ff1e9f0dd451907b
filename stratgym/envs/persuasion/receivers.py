"""Who a principal persuades round after round in ``PersuasionRecommend-v0``: the receivers of the game layer
(:mod:`stratgym.games.behaviour.receivers`, re-exported here: the :class:`Receiver` protocol, the
:class:`ReceiverContext`, the default :class:`LearningReceiver` and its rules), a trained agent model as a receiver
(:class:`LearnedReceiver`), and :func:`as_receiver`, which turns the env's ``agent=`` into a receiver."""

from __future__ import annotations

import numpy as np

from stratgym.envs.persuasion.core import recommendation_observation
from stratgym.games.behaviour import (Learned, Learning, LearningReceiver, QuantalReceiver, Receiver, ReceiverContext,
                                      as_behaviour, learning_follows, learning_update,
                                      receiver_context)
from stratgym.games.persuasion import PersuasionGame
from stratgym.games.validation import check_instance

__all__ = ["LearnedReceiver", "LearningReceiver", "QuantalReceiver", "Receiver", "ReceiverContext", "as_receiver",
           "learning_follows", "learning_update", "receiver_context"]


class LearnedReceiver:
    """A trained ``PersuasionAgent-v0`` model as the :class:`Receiver` of ``PersuasionRecommend-v0``: on recommendation
    ``a`` it takes the model's deterministic action for the agent env's observation of ``a``
    (:func:`~stratgym.envs.persuasion.recommendation_observation`), asked once at construction. It is frozen and
    deterministic (a sampled SB3 action would draw from torch's generator, not the env's): ``update`` learns nothing,
    and ``follow_probabilities`` is 1 where the model obeys. ``game`` must be the env's game (the model must have
    been trained on it). The env builds one from ``agent=Learned(model)``.
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

    def __deepcopy__(self, memo) -> "LearnedReceiver":
        # make_env deep-copies env kwargs, and the frozen model is only read.
        return LearnedReceiver(self.model, self.game)

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


def as_receiver(agent, game: PersuasionGame) -> Receiver:
    """The receiver ``PersuasionRecommend-v0`` plays against for its ``agent=``: ``None`` or ``"learning"`` a fresh
    ``LearningReceiver()``, a :class:`~stratgym.games.behaviour.Learning` its receiver, a
    :class:`~stratgym.games.behaviour.Learned` model a :class:`LearnedReceiver`, any object implementing the
    :class:`Receiver` protocol as it is. ``ValueError`` otherwise (e.g. ``Bayesian()``: the repeated game's receiver
    sees no committed scheme to reason about)."""
    agent = as_behaviour(Learning() if agent is None else agent, game)
    if isinstance(agent, Learning):
        return agent.receiver()
    if isinstance(agent, Learned):
        return LearnedReceiver(agent.model, game)
    for method in ("reset", "follow_probabilities", "respond", "update"):
        if not callable(getattr(agent, method, None)):
            raise ValueError(f"agent (the receiver) must be Learning(...), Learned(model) or implement the Receiver "
                             f"protocol (reset, follow_probabilities, respond, update); {agent!r} has no {method}()")
    return agent
