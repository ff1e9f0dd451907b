"""Learning followers: agents that learn from repeated play instead of best-responding to a known commitment.

The behaviour models of the RL-leader literature (a principal facing an agent that learns):

* :class:`Hedge`: multiplicative weights, no-regret. With learning rate ``eta = sqrt(8 ln n / T) / range`` its
  external regret after ``T`` rounds of full-information rewards in a range of width ``range`` is at most
  ``sqrt(T ln n / 2) * range`` against every reward sequence, adversarial ones included (Cesa-Bianchi and Lugosi,
  "Prediction, Learning, and Games", Theorem 2.2); :meth:`Hedge.regret_bound` says so for its own run.
* :class:`FictitiousPlay`: the best response to the empirical distribution of the principal's past play. The
  follower's payoff is linear in that distribution, so this is the action of largest cumulative reward (follow the
  leader); against a fixed principal it settles on the best response, but an adaptive principal can give it
  linear regret.
* :class:`Contextual`: one such learner per context (the recommendation heard, the round of the game), so the
  follower learns a map context -> action; its regret is against the best fixed map in hindsight, the benchmark of
  repeated persuasion and repeated commitment.

All learn from full information: after each round, the reward every action would have earned (``update(rewards)``).
Each keeps its own ledger: cumulative reward per action, its expected reward (``probabilities . rewards``) and the
realized reward of the action it drew, so :meth:`Hedge.regret` is ``max_b sum_t r_t(b) - sum_t p_t . r_t``.

Two repeated games use them as the agent:

* :func:`repeated_persuasion`: ``PersuasionRecommend``-style, a principal recommending from a fixed scheme each
  round, the follower hearing the recommendation (its context) and learning from the revealed decision.
* :func:`repeated_commitment`: the stateful game repeated, the principal committing to a plan per episode; for
  linear ``g`` the agent's utility is ``U_A(0) + sum_tau e_tau . c_tau(theta)``, separable across rounds, so one
  learner per round over the vertices of the budget set ("all on type j", "no effort") is a learner over effort
  policies, with the same regret.

Randomness only from the ``rng`` passed in.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import softmax

from stratgym.games.validation import as_nonnegative_float, as_positive_int, as_real_array, check_instance
from stratgym.games.persuasion import Regions, check_scheme
from stratgym.games.stateful import StatefulGame, check_assessment_policy, marginal_values, rollout


def _check_rng(rng) -> np.random.Generator:
    return check_instance(rng, np.random.Generator, "rng (numpy.random.default_rng(seed))")


class _Learner:
    """The ledger both learners keep (see the module docstring) and their ``act``; subclasses give ``probabilities``."""

    def __init__(self, n_actions: int):
        self.n_actions = as_positive_int(n_actions, "n_actions")
        self.reset()

    def reset(self) -> None:
        """Forget everything."""
        self.cumulative_rewards = np.zeros(self.n_actions)
        self.expected_reward = 0.0
        self.realized_reward = 0.0
        self.rounds = 0
        self._last_action: int | None = None

    def probabilities(self) -> np.ndarray:
        """``(n,)`` the mixed action of the next round."""
        raise NotImplementedError

    def act(self, rng: np.random.Generator) -> int:
        """Draw this round's action from :meth:`probabilities` (remembered for the realized reward)."""
        probabilities = self.probabilities()
        self._last_action = int(min(np.searchsorted(np.cumsum(probabilities), _check_rng(rng).random(), side="right"),
                                    self.n_actions - 1))
        return self._last_action

    def update(self, rewards) -> None:
        """Learn from this round's full-information ``rewards`` ``(n,)`` (what each action earned)."""
        rewards = as_real_array(rewards, "rewards", shape=(self.n_actions,))
        if not np.all(np.isfinite(rewards)):
            raise ValueError(f"rewards must be finite, got {rewards}")
        self.expected_reward += float(self.probabilities() @ rewards)
        if self._last_action is not None:
            self.realized_reward += float(rewards[self._last_action])
        self._last_action = None
        self.cumulative_rewards += rewards
        self.rounds += 1

    def regret(self, realized: bool = False) -> float:
        """External regret so far: the best fixed action's cumulative reward minus the expected one (``realized``:
        minus the rewards of the actions drawn)."""
        return float(self.cumulative_rewards.max() - (self.realized_reward if realized else self.expected_reward))


class Hedge(_Learner):
    """Multiplicative weights over ``n_actions``: play ``p_t ∝ exp(eta * cumulative rewards)``.

    Args:
        n_actions: ``n >= 1``.
        horizon: rounds ``T`` the learning rate is tuned for (``eta = sqrt(8 ln n / T) / range``).
        reward_range: ``(low, high)`` bounds of every reward (utility units).
        learning_rate: ``eta >= 0`` instead of the tuned one (then ``horizon`` may be ``None``).
    """

    def __init__(self, n_actions: int, horizon: int | None = None, reward_range=(0.0, 1.0),
                 learning_rate: float | None = None):
        low, high = as_real_array(reward_range, "reward_range", shape=(2,))
        if not (np.isfinite(low) and np.isfinite(high) and high > low):
            raise ValueError(f"reward_range must be finite (low, high) with high > low, got {reward_range!r}")
        self.width = float(high - low)
        if learning_rate is None:
            if horizon is None:
                raise ValueError("give horizon (the learning rate is tuned for it) or learning_rate")
            self.horizon = as_positive_int(horizon, "horizon")
            learning_rate = np.sqrt(8.0 * np.log(as_positive_int(n_actions, "n_actions")) / self.horizon) / self.width
        else:
            self.horizon = None if horizon is None else as_positive_int(horizon, "horizon")
        self.learning_rate = as_nonnegative_float(learning_rate, "learning_rate")
        super().__init__(n_actions)

    def probabilities(self) -> np.ndarray:
        return softmax(self.learning_rate * self.cumulative_rewards)

    def regret_bound(self) -> float:
        """The guarantee for the rounds played so far: ``ln n / eta + eta T range^2 / 8`` (``sqrt(T ln n / 2)
        range`` at the tuned rate after ``T = horizon`` rounds); ``inf`` at ``eta = 0`` with ``n > 1``."""
        if self.n_actions == 1:
            return 0.0
        if self.learning_rate == 0:
            return float("inf")
        return float(np.log(self.n_actions) / self.learning_rate + self.learning_rate * self.rounds * self.width ** 2 / 8)

    def __repr__(self) -> str:
        return f"Hedge(n_actions={self.n_actions}, learning_rate={self.learning_rate:.4g})"


class FictitiousPlay(_Learner):
    """Play the action of largest cumulative reward (the lowest index among ties; action 0 before any round)."""

    def probabilities(self) -> np.ndarray:
        return np.eye(self.n_actions)[int(np.argmax(self.cumulative_rewards))]

    def __repr__(self) -> str:
        return f"FictitiousPlay(n_actions={self.n_actions})"


class Contextual:
    """One learner per context: ``learners[c]`` acts and learns in the rounds of context ``c``.

    Build it from a factory: ``Contextual(n_contexts, lambda: Hedge(n, horizon=T))``. Its regret is the sum of the
    learners' regrets, which is the regret against the best fixed map context -> action in hindsight.
    """

    def __init__(self, n_contexts: int, make_learner):
        self.n_contexts = as_positive_int(n_contexts, "n_contexts")
        if not callable(make_learner):
            raise ValueError(f"make_learner must be callable (a learner factory), got {make_learner!r}")
        self.learners = [make_learner() for _ in range(self.n_contexts)]
        self.n_actions = self.learners[0].n_actions

    def reset(self) -> None:
        """Forget everything."""
        for learner in self.learners:
            learner.reset()

    def _learner(self, context: int):
        if isinstance(context, (bool, np.bool_)) or not isinstance(context, (int, np.integer)) \
                or not 0 <= context < self.n_contexts:
            raise ValueError(f"context must be an integer in 0..{self.n_contexts - 1}, got {context!r}")
        return self.learners[int(context)]

    def probabilities(self, context: int) -> np.ndarray:
        """``(n,)`` the mixed action in ``context``."""
        return self._learner(context).probabilities()

    def act(self, context: int, rng: np.random.Generator) -> int:
        """Draw the action of ``context``."""
        return self._learner(context).act(rng)

    def update(self, context: int, rewards) -> None:
        """Learn from ``rewards`` ``(n,)`` of a round in ``context``."""
        self._learner(context).update(rewards)

    def regret(self, realized: bool = False) -> float:
        """Regret against the best fixed context -> action map: the sum of the learners' regrets."""
        return float(sum(learner.regret(realized) for learner in self.learners))

    def policy(self) -> np.ndarray:
        """``(n_contexts,)`` the most likely action in each context now."""
        return np.array([int(np.argmax(learner.probabilities())) for learner in self.learners])


@dataclass(frozen=True)
class RepeatedPlay:
    """A repeated game against a learning follower.

    Attributes:
        contexts, actions: ``(K,)`` the follower's context and action in each round.
        principal_utilities, agent_utilities: ``(K,)`` realized payoffs per round.
        reward_vectors: ``(K, n)`` the full-information rewards the follower learned from.
        regret: the follower's external regret (expected), :meth:`Contextual.regret`.
        realized_regret: the same with the realized rewards of the actions drawn.
    """

    contexts: np.ndarray
    actions: np.ndarray
    principal_utilities: np.ndarray
    agent_utilities: np.ndarray
    reward_vectors: np.ndarray
    regret: float
    realized_regret: float


def _check_follower(follower: Contextual, n_contexts: int, n_actions: int) -> Contextual:
    check_instance(follower, Contextual, "follower")
    if (follower.n_contexts, follower.n_actions) != (n_contexts, n_actions):
        raise ValueError(f"follower must have {n_contexts} contexts of {n_actions} actions here, "
                         f"got {follower.n_contexts} of {follower.n_actions}")
    return follower


def repeated_persuasion(regions: Regions, scheme, follower: Contextual, rounds: int,
                        rng: np.random.Generator) -> RepeatedPlay:
    """``rounds`` rounds of persuasion: a region drawn from the masses, a recommendation from ``scheme`` ``(R, A)``,
    the follower's action in context "recommendation heard", then the decision revealed (``agent_payoffs`` of the
    region are the follower's rewards). The follower is not reset (continue a run by calling again)."""
    check_instance(regions, Regions, "regions")
    R, A = regions.n_regions, regions.n_actions
    scheme = check_scheme(scheme, R, A)
    _check_follower(follower, A, A)
    rounds, rng = as_positive_int(rounds, "rounds"), _check_rng(rng)
    masses = regions.masses / regions.masses.sum()
    regions_drawn = rng.choice(R, size=rounds, p=masses)
    contexts, actions = np.zeros(rounds, dtype=np.int64), np.zeros(rounds, dtype=np.int64)
    for k, region in enumerate(regions_drawn):
        contexts[k] = rng.choice(A, p=scheme[region])
        actions[k] = follower.act(int(contexts[k]), rng)
        follower.update(int(contexts[k]), regions.agent_payoffs[region])
    return RepeatedPlay(contexts, actions, regions.principal_payoffs[regions_drawn, actions],
                        regions.agent_payoffs[regions_drawn, actions], regions.agent_payoffs[regions_drawn],
                        follower.regret(), follower.regret(realized=True))


def option_values(game: StatefulGame, theta) -> np.ndarray:
    """``(T, d + 1)`` the agent's utility gain over "no effort anywhere" of each budget vertex in each round against
    plan ``theta`` ``(T, n)``: ``B c_tau,j`` for "all on type j", 0 for "no effort" (linear ``g`` only)."""
    if not game.is_linear:
        raise ValueError(f"option values need a linear game (conversion='linear'), got {game.conversion!r}")
    values = marginal_values(game, theta) * game.budget
    return np.concatenate([values, np.zeros((game.horizon, 1))], axis=1)


def vertex_efforts(game: StatefulGame, options) -> np.ndarray:
    """``(T, d)`` the effort policy of one budget vertex per round (``options`` ``(T,)``: type ``j``, or ``d`` for none)."""
    return np.eye(game.n_efforts + 1)[np.asarray(options, dtype=np.int64)][:, :-1] * game.budget


def repeated_commitment(game: StatefulGame, plans, follower: Contextual, rng: np.random.Generator) -> RepeatedPlay:
    """The stateful game repeated: in episode ``k`` the principal commits to ``plans[k]`` ``(T, n)`` and the follower
    picks a budget vertex per round (context = the round), then learns every vertex's value (:func:`option_values`).

    One entry of the result per episode: ``contexts`` is 0, ``actions`` the options encoded base ``d + 1`` (round
    1 first), utilities ``U_P`` and ``U_A`` of the played effort policy, ``reward_vectors`` ``(K, T (d + 1))``.
    """
    check_instance(game, StatefulGame, "game")
    plans = check_assessment_policy(game, plans, name="plans")
    if plans.ndim != 3:
        raise ValueError(f"plans must be (K, T, n) = (K, {game.horizon}, {game.n_features}), got shape {plans.shape}")
    T, options = game.horizon, game.n_efforts + 1
    _check_follower(follower, T, options)
    rng = _check_rng(rng)
    encoded, vectors, principal, agent = [], [], [], []
    for plan in plans:
        choice = np.array([follower.act(t, rng) for t in range(T)])
        values = option_values(game, plan)
        for t in range(T):
            follower.update(t, values[t])
        played = rollout(game, plan, vertex_efforts(game, choice))
        encoded.append(int(np.ravel_multi_index(tuple(choice), (options,) * T)))
        vectors.append(values.ravel())
        principal.append(float(played.principal_utility))
        agent.append(float(played.agent_utility))
    K = len(plans)
    return RepeatedPlay(np.zeros(K, dtype=np.int64), np.array(encoded), np.array(principal), np.array(agent),
                        np.array(vectors), follower.regret(), follower.regret(realized=True))
