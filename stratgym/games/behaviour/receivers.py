"""Who a principal persuades round after round: the :class:`Receiver` protocol, what a receiver knows
(:class:`ReceiverContext`), the default :class:`LearningReceiver`, whose rules (:func:`learning_follows`,
:func:`learning_update`) take one receiver's ``(A,)`` arrays or a batch's ``(k, A)``, so the vector env runs the
same rule for thousands of receivers at once, and its logit version :class:`QuantalReceiver`. The behaviour object
that names them is :class:`~stratgym.games.behaviour.Learning` (``PersuasionRecommend-v0``'s ``agent=``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
from scipy.special import expit

from stratgym.games.behaviour.base import as_rationality
from stratgym.games.persuasion import TIE_TOL, PersuasionGame, Regions, no_information_scheme


@dataclass(frozen=True)
class ReceiverContext:
    """What a receiver knows before the first round: prior-level facts, never a rule.

    Attributes:
        prior_values: ``(A,)`` prior expected utility ``E[u_A(a)]`` of each action.
        default_action: the no-information action: the best response to the prior (ties to the principal).
        costs: ``(A,)`` action costs ``c(a)``.
    """

    prior_values: np.ndarray
    default_action: int
    costs: np.ndarray


@runtime_checkable
class Receiver(Protocol):
    """A decision subject facing a stream of recommendations (the opponent of ``PersuasionRecommendEnv``).

    * ``reset(context, rng)``: start an episode with the prior-level :class:`ReceiverContext`; ``rng`` is
      the env's ``np_random`` (the only allowed source of randomness, so episodes stay seeded).
    * ``follow_probabilities()``: ``(A,)`` in ``[0, 1]``, the probability of following each recommendation
      now (part of the principal's observation).
    * ``respond(recommendation, rng)``: the action (an int in ``0..A-1``) taken on this recommendation.
    * ``update(recommendation, action, utility)``: what the receiver experienced: its realized ``u_A``.

    Learned receivers (:class:`~stratgym.games.behaviour.Learned`), :class:`QuantalReceiver` and your own plug in
    through this protocol; the env checks what a receiver it does not know returns (``ValueError`` otherwise).
    """

    def reset(self, context: ReceiverContext, rng: np.random.Generator) -> None:
        """Start an episode."""
        ...

    def follow_probabilities(self) -> np.ndarray:
        """``(A,)`` probabilities of following each recommendation now."""
        ...

    def respond(self, recommendation: int, rng: np.random.Generator) -> int:
        """The action taken on ``recommendation``."""
        ...

    def update(self, recommendation: int, action: int, utility: float) -> None:
        """Learn from one round."""
        ...


def learning_follows(values: np.ndarray, default_action: int, benchmark: float) -> np.ndarray:
    """Whether a :class:`LearningReceiver` with running means ``values`` ``(..., A)`` follows each recommendation:
    ``values >= benchmark``, and always the default action; ``(..., A)`` bool."""
    follows = values >= benchmark
    follows[..., default_action] = True
    return follows


def learning_update(values: np.ndarray, counts: np.ndarray, recommendation, action, utility) -> None:
    """Fold the realized ``utility`` into the running mean of ``recommendation`` where it was followed (``action ==
    recommendation``), in place: one receiver (``(A,)`` arrays, numbers) or a batch (``(k, A)``, ``(k,)``)."""
    if values.ndim == 1:
        if action == recommendation:
            counts[action] += 1
            values[action] += (utility - values[action]) / counts[action]
        return
    rows = np.flatnonzero(action == recommendation)
    followed = recommendation[rows]
    counts[rows, followed] += 1
    values[rows, followed] += (utility[rows] - values[rows, followed]) / counts[rows, followed]


class LearningReceiver:
    """A deterministic receiver that learns how much following each recommendation is worth.

    It keeps, per recommendation ``a``, the running mean ``v_a`` of the realized utilities ``u_A`` of the
    rounds in which it followed ``a``, starting optimistically at ``v_a = 1 - c(a)`` (the most ``a`` can
    yield: a positive decision at cost ``c(a)``) until ``a`` has been followed once; the first realized
    utility then replaces the initial value (``v_a`` is the plain mean of what it experienced). On
    recommendation ``a`` it follows iff ``a`` is the default action (the best response to the prior,
    ``d``) or ``v_a >= V_d``, the prior expected utility of ``d`` (ties to obedience); otherwise it plays
    ``d``. Only followed recommendations are updated (the receiver cannot see what following would have
    given). A recommendation whose mean drops below ``V_d`` is ignored from then on: trust, once lost,
    is not tested again. ``initial_values`` ``(A,)`` overrides the optimistic start.
    """

    def __init__(self, initial_values=None):
        self.initial_values = None if initial_values is None else np.array(initial_values, dtype=np.float64)
        self.values = np.zeros(0)
        self.counts = np.zeros(0, dtype=np.int64)
        self.default_action = 0
        self.benchmark = 0.0

    def start_values(self, context: ReceiverContext) -> np.ndarray:
        """The values ``(A,)`` an episode starts from: ``initial_values`` or the optimistic ``1 - c(a)``."""
        start = 1.0 - context.costs if self.initial_values is None else self.initial_values
        if start.shape != context.costs.shape or not np.all(np.isfinite(start)):
            raise ValueError(f"initial_values must be {context.costs.shape[0]} finite numbers, got {start}")
        return start

    def reset(self, context: ReceiverContext, rng: np.random.Generator | None = None) -> None:
        """Forget everything: values back to the initial (optimistic) ones, counts to 0."""
        self.values = self.start_values(context).copy()
        self.counts = np.zeros(context.costs.shape[0], dtype=np.int64)
        self.default_action = int(context.default_action)
        self.benchmark = float(context.prior_values[self.default_action])

    def follow_probabilities(self) -> np.ndarray:
        """``(A,)``: 1 where the receiver would follow now, 0 elsewhere."""
        return learning_follows(self.values, self.default_action, self.benchmark).astype(np.float64)

    def respond(self, recommendation: int, rng: np.random.Generator | None = None) -> int:
        """``recommendation`` if followed, else the default action."""
        followed = learning_follows(self.values, self.default_action, self.benchmark)[recommendation]
        return int(recommendation) if followed else self.default_action

    def update(self, recommendation: int, action: int, utility: float) -> None:
        """Fold ``utility`` into the running mean of ``recommendation`` if it was followed."""
        learning_update(self.values, self.counts, recommendation, action, utility)

    def __repr__(self) -> str:
        return f"LearningReceiver(initial_values={self.initial_values!r})"


def receiver_context(game: PersuasionGame, regions: Regions, tie_tol: float = TIE_TOL) -> ReceiverContext:
    """The :class:`ReceiverContext` of ``game``: prior values ``(A,)``, the no-information action, the costs."""
    masses = regions.masses / regions.masses.sum()
    prior_values = masses @ regions.agent_payoffs
    default = int(no_information_scheme(regions, tie_tol)[0].argmax())  # one-hot rows: the prior best response
    prior_values.setflags(write=False)
    return ReceiverContext(prior_values, default, game.costs)


class QuantalReceiver(LearningReceiver):
    """A logit version of :class:`LearningReceiver` for ``PersuasionRecommend-v0``.

    It learns exactly like the learning receiver (running mean ``v_a`` of the realized utility of
    following recommendation ``a``, optimistic start ``1 - c(a)``, only followed recommendations
    updated), but decides with a logit: on recommendation ``a`` other than the default action ``d`` (the
    prior best response) it follows with probability ``1 / (1 + exp(-beta (v_a - V_d)))``, ``V_d`` the
    prior value of ``d``, and otherwise plays ``d``; ``d`` itself is always followed. ``beta = inf`` is the
    learning receiver (follow iff ``v_a >= V_d``, ties to obedience, no randomness); ``beta = 0`` follows
    every other recommendation with probability 1/2. The draw uses the ``rng`` the env passes in.

    Args:
        beta: rationality ``>= 0`` in 1/utility units (``float("inf")`` allowed).
        initial_values: ``(A,)`` starting values (default: the optimistic ``1 - c``).
    """

    def __init__(self, beta: float, initial_values=None):
        super().__init__(initial_values)
        self.beta = as_rationality(beta, "beta")

    def follow_probabilities(self) -> np.ndarray:
        """``(A,)``: the probability of following each recommendation now."""
        if np.isinf(self.beta):
            return super().follow_probabilities()
        probabilities = expit(self.beta * (self.values - self.benchmark))
        probabilities[self.default_action] = 1.0
        return probabilities

    def respond(self, recommendation: int, rng: np.random.Generator | None = None) -> int:
        """``recommendation`` with its follow probability, else the default action."""
        if np.isinf(self.beta):
            return super().respond(recommendation, rng)
        if recommendation == self.default_action or rng.random() < self.follow_probabilities()[recommendation]:
            return int(recommendation)
        return self.default_action

    def __repr__(self) -> str:
        return f"QuantalReceiver(beta={self.beta}, initial_values={self.initial_values!r})"
