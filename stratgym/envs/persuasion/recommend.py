"""``stratgym/PersuasionRecommend-v0``: repeated persuasion of a receiver who learns how much advice is worth; its
scalar env and native vector env, both on :mod:`stratgym.envs.persuasion.core` and the receiver rules of
:mod:`stratgym.envs.persuasion.receivers`."""

from __future__ import annotations

import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode

from stratgym.envs.persuasion.core import PersuasionRoundEnv, draw_indices
from stratgym.envs.spaces import discrete_action
from stratgym.envs.persuasion.receivers import (LearningReceiver, Receiver, as_receiver, learning_follows,
                                                learning_update, receiver_context)
from stratgym.envs.vector import RoundVectorEnv, SubEnvLoop, count
from stratgym.games.behaviour import Behaviour, Learning, agent_argument, as_behaviour
from stratgym.games.persuasion import TIE_TOL, PersuasionGame, Regions


def recommend_observation(n_regions: int, regions, follow: np.ndarray, gains: np.ndarray | None) -> np.ndarray:
    """``PersuasionRecommend-v0``'s observations ``(..., R + 2A)`` float32 (``(..., R + A)`` without ``gains``): the
    one-hot ``regions`` ``(...)``, the follow probabilities ``(..., A)`` and ``x / (1 + |x|)`` of the cumulative
    following gains ``x`` ``(..., A)``."""
    n_actions = follow.shape[-1]
    obs = np.zeros(follow.shape[:-1] + (n_regions + n_actions * (1 if gains is None else 2),), dtype=np.float32)
    if follow.ndim == 1:
        obs[regions] = 1.0
    else:
        obs[np.arange(len(regions)), regions] = 1.0
    obs[..., n_regions:n_regions + n_actions] = follow
    if gains is not None:
        obs[..., n_regions + n_actions:] = gains / (1.0 + np.abs(gains))
    return obs


class PersuasionRecommendEnv(PersuasionRoundEnv):
    """Repeated persuasion: each round the principal sees the rule's region and recommends an action.

    | | |
    |---|---|
    | Creation | ``gym.make("stratgym/PersuasionRecommend-v0", game=None, agent=None)`` |
    | Actions | Discrete ``A``: the recommended action |
    | Observations | Box ``(R + 2A,)``: one-hot region of this round's rule, the receiver's follow probabilities, its cumulative gain from following each recommendation (``history=False``: without the last) |
    | Players | principal (learns); receiver (``agent``) = ``Learning()`` (:class:`LearningReceiver`), ``Learned(model)`` or any :class:`Receiver` |
    | Reference solver | ``stratgym.baselines.trust.learning_receiver_bound`` (default receiver: an LP upper bound on every policy); other receivers: ``optimal_scheme``'s one-shot BIC value per round |
    | Known optimum | no closed form; at most the trust bound (the no-information value where no recommendation that pays the principal starts trusted) |

    ## Description

    Harris et al., "Bayesian Persuasion for Algorithmic Recourse" (NeurIPS 2022), repeated. Each
    round a fresh rule ``theta`` is drawn from the prior; the principal sees its equivalence region
    (which actions it would approve) and recommends an action; the receiver, who never sees
    ``theta``, decides whether to follow from its experience of past advice (default:
    :class:`LearningReceiver`: running mean of realized utility when following each recommendation,
    optimistic start, follow iff it beats the prior-optimal action's prior value). Unlike the one-shot
    game, the principal has no commitment: the receiver's trust is what disciplines her.

    ## Action Space

    ``Discrete(A)``: the recommended action (``0`` = do nothing); ``env.game.action_names`` names them.

    ## Observation Space

    | Num | Observation | Min | Max |
    |-----|-------------|-----|-----|
    | ``0 .. R-1`` | one-hot region of this round's rule (order of ``env.regions.patterns``) | 0 | 1 |
    | ``R .. R+A-1`` | probability the receiver follows recommendation ``a`` now | 0 | 1 |
    | ``R+A .. R+2A-1`` | ``x_a / (1 + |x_a|)`` (see below; not with ``history=False``) | -1 | 1 |

    The last block is the public history of the episode, what the principal knows without reading
    the receiver: ``x_a = sum (u_A - V_d)`` over the rounds of this episode in which ``a`` was
    recommended and followed, ``u_A`` the receiver's realized utility there and ``V_d`` the prior
    expected utility of the no-information action (``env.context``): the receiver's cumulative gain from
    following ``a`` rather than ignoring advice, in utility units (``x / (1 + |x|)`` keeps it in
    ``(-1, 1)``, finest near 0 where trust is decided). For the :class:`LearningReceiver` it decides
    everything that matters: a recommendation ``a`` it has followed before (other than the default) is
    followed iff ``x_a >= 0``, and still after a round of utility ``u`` iff ``x_a + u - V_d >= 0`` (its running
    mean is ``V_d + x_a / n_a``; up to rounding at exact ties). Without it (``history=False``) the
    observation is not Markov and a learner cannot ration the receiver's trust (PPO: 57% of the
    commitment value instead of over 100%; against the trust bound, 49% instead of about 84%).

    ## Rewards

    ``u_P(action taken, theta)`` of this round: the principal's utility of what the receiver did.

    ## Starting State

    The receiver reset to its initial beliefs and the first rule's region drawn from the prior.

    ## Episode End

    No termination; the registered id truncates after 100 rounds (``max_episode_steps``); constructed
    directly, the env runs until the caller stops.

    ## Arguments

    ```python
    >>> import gymnasium as gym
    >>> import stratgym
    >>> env = gym.make("stratgym/PersuasionRecommend-v0")
    >>> obs, info = env.reset(seed=0)
    >>> obs, reward, terminated, truncated, info = env.step(2)
    >>> info["recommendation"], terminated
    (2, False)

    ```

    | Parameter | Type | Default | Description |
    |---|---|---|---|
    | ``game`` | ``PersuasionGame`` or ``None`` | ``None`` (``synthetic_credit()``) | the game instance |
    | ``agent`` | ``Learning(beta, initial_values)``, ``"learning"``, ``Learned(model)``, a :class:`Receiver` or ``None`` | ``None`` (``Learning()``) | who decides whether to follow (:func:`~stratgym.envs.persuasion.receivers.as_receiver`; ``receiver=``: its deprecated name) |
    | ``regions`` | ``Regions`` or ``None`` | ``None`` (computed) | precomputed ``equivalence_regions(game)`` |
    | ``tie_tol`` | float | ``TIE_TOL`` | ties in the receiver's prior best response |
    | ``history`` | bool | ``True`` | observe the cumulative gain of following each recommendation |
    | ``render_mode`` | ``"ansi"``, ``"rgb_array"`` or ``None`` | ``None`` | text, or a numpy-drawn frame of the last step (``RoundEnv.render``) |

    ``info`` of a step: ``region``, ``recommendation``, ``action``, ``followed``, ``principal_utility``,
    ``agent_utility`` (the receiver's realized ``u_A``).

    ## Vectorized environment

    :class:`PersuasionRecommendVectorEnv` steps many episodes at once with numpy (vector entry point
    ``stratgym.envs.persuasion:PersuasionRecommendVectorEnv``, autoreset ``NEXT_STEP`` or ``SAME_STEP``).

    ## Version History

    * v0: Initial version.
    """

    def __init__(self, game: PersuasionGame | None = None, agent: Behaviour | Receiver | str | None = None,
                 regions: Regions | None = None, tie_tol: float = TIE_TOL, render_mode: str | None = None,
                 history: bool = True, *, receiver: Receiver | None = None):
        super().__init__(game, regions, render_mode, tie_tol, episode_length=None)
        if not isinstance(history, (bool, np.bool_)):
            raise ValueError(f"history must be True or False, got {history!r}")
        #: The agent's behaviour (``Learning()`` by default); :attr:`receiver` plays it.
        self.agent = as_behaviour(agent_argument(agent, Learning(), receiver=receiver), self.game)
        self.receiver = as_receiver(self.agent, self.game)
        #: Exactly the default receiver (a subclass may override its methods, so what it returns is checked).
        self.trusted_receiver = type(self.receiver) is LearningReceiver
        self.context = receiver_context(self.game, self.regions, self.tie_tol)
        n_regions, n_actions = self.regions.n_regions, self.regions.n_actions
        self.action_space = spaces.Discrete(n_actions)
        self.history = bool(history)
        low = np.zeros(n_regions + n_actions * (2 if self.history else 1), dtype=np.float32)
        low[n_regions + n_actions:] = -1.0
        self.observation_space = spaces.Box(low=low, high=np.ones_like(low), dtype=np.float32)
        self.no_information_value = float(self.context.prior_values[self.context.default_action])
        self._following_gains = np.zeros(n_actions)  # x_a of the class doc (utility units)
        self._region = 0

    def _observation(self) -> np.ndarray:
        follow = self.receiver.follow_probabilities()
        if not self.trusted_receiver:
            follow = np.asarray(follow, dtype=np.float64)
            if follow.shape != (self._n_actions,) or not np.all((follow >= 0) & (follow <= 1)):
                raise ValueError(f"receiver.follow_probabilities() must return {self._n_actions} numbers "
                                 f"in [0, 1], got {follow!r}")
        return recommend_observation(self._n_regions, self._region, follow,
                                     self._following_gains if self.history else None)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self.receiver.reset(self.context, self.np_random)
        self._following_gains = np.zeros(self._n_actions)
        self._round = 0
        self._region = self._draw_region()
        self._last_info = {"region": self._region}
        return self._observation(), {}

    def step(self, action):
        self._begin_step()
        recommendation = discrete_action(self.action_space, action)
        taken = self.receiver.respond(recommendation, self.np_random)
        if not self.trusted_receiver and (isinstance(taken, (bool, np.bool_)) or not isinstance(taken, (int, np.integer))
                                          or not 0 <= taken < self._n_actions):
            raise ValueError(f"receiver.respond() must return an action in 0..{self._n_actions - 1}, got {taken!r}")
        taken = int(taken)
        region = self._region
        principal = float(self.regions.principal_payoffs[region, taken])
        agent = float(self.regions.agent_payoffs[region, taken])
        self.receiver.update(recommendation, taken, agent)
        if taken == recommendation:
            self._following_gains[taken] += agent - self.no_information_value
        info = {"region": region, "recommendation": recommendation, "action": taken,
                "followed": taken == recommendation, "principal_utility": principal, "agent_utility": agent}
        self._round += 1
        self._region = self._draw_region()
        self._last_info = info
        return self._observation(), principal, False, False, info


class PersuasionRecommendVectorEnv(RoundVectorEnv):
    """``num_envs`` :class:`PersuasionRecommendEnv` episodes stepped together (native vector env).

    Same game, arguments, spaces (batched), rewards and observations as :class:`PersuasionRecommendEnv`; autoreset
    ``NEXT_STEP`` (default) or ``SAME_STEP`` (see :mod:`stratgym.envs.vector`); ``max_episode_steps`` (what
    ``gym.make_vec`` passes from the registration: 100) truncates the episodes like the scalar env's time limit.
    The default :class:`LearningReceiver` of every sub-env is one row of ``(num_envs, A)`` arrays, run by the same
    rules (:func:`~stratgym.envs.persuasion.receivers.learning_follows`,
    :func:`~stratgym.envs.persuasion.receivers.learning_update`) for the whole batch; any other receiver is copied
    once per sub-env and played one sub-env at a time. ``info``: the scalar env's keys batched (``region``,
    ``recommendation``, ``action``, ``followed``, ``principal_utility``, ``agent_utility``), each with its mask.

    ```python
    >>> import numpy as np
    >>> from stratgym.envs.persuasion import PersuasionRecommendVectorEnv
    >>> envs = PersuasionRecommendVectorEnv(num_envs=3, max_episode_steps=100)
    >>> obs, info = envs.reset(seed=0)
    >>> obs, rewards, terminated, truncated, info = envs.step(np.array([0, 1, 2]))
    >>> info["recommendation"], terminated
    (array([0, 1, 2]), array([False, False, False]))

    ```
    """

    def __init__(self, num_envs: int = 1, game: PersuasionGame | None = None,
                 agent: Behaviour | Receiver | str | None = None, regions: Regions | None = None,
                 tie_tol: float = TIE_TOL, history: bool = True, max_episode_steps: int | None = None,
                 autoreset_mode=AutoresetMode.NEXT_STEP, *, receiver: Receiver | None = None):
        single = PersuasionRecommendEnv(game, agent_argument(agent, None, receiver=receiver), regions, tie_tol,
                                        history=history)
        super().__init__(single, num_envs, autoreset_mode, max_episode_steps)
        self.game, self.regions = single.game, single.regions
        self._region_cdf = np.array(single.region_cdf)
        n, A = self.num_envs, self.regions.n_actions
        # The default receiver of every sub-env is one row of arrays; another receiver (stateful) is one scalar env
        # per sub-env.
        self._loop = None if single.trusted_receiver else SubEnvLoop(single, n)
        self._start_values = single.receiver.start_values(single.context) if single.trusted_receiver else None
        self._values, self._counts = np.zeros((n, A)), np.zeros((n, A), dtype=np.int64)
        self._gains = np.zeros((n, A))
        self._regions = np.zeros(n, dtype=np.int64)

    def _restart(self, rows) -> dict:
        if self._loop is not None:
            return self._loop.restart(rows, self.np_random)
        self._values, self._counts, self._gains = self._values.copy(), self._counts.copy(), self._gains.copy()
        self._values[rows], self._counts[rows], self._gains[rows] = self._start_values, 0, 0.0
        self._regions = self._regions.copy()
        self._regions[rows] = draw_indices(self._region_cdf, self.np_random.random(count(rows, self.num_envs)))
        return {}

    def _play(self, rows, mapped: np.ndarray, actions):
        if self._loop is not None:
            return self._loop.play(rows, actions, self.np_random)
        context, regions = self.single.context, self.regions
        recommendations = mapped[rows]
        values, counts, gains = self._values[rows], self._counts[rows], self._gains[rows]
        follows = learning_follows(values, context.default_action, self.single.no_information_value)
        envs = np.arange(len(recommendations))
        followed = follows[envs, recommendations]
        taken = np.where(followed, recommendations, context.default_action)
        region = self._regions[rows]
        principal, agent = regions.principal_payoffs[region, taken], regions.agent_payoffs[region, taken]
        learning_update(values, counts, recommendations, taken, agent)
        gains[envs[followed], taken[followed]] += agent[followed] - self.single.no_information_value
        info = {"region": region, "recommendation": recommendations, "action": taken, "followed": followed,
                "principal_utility": principal, "agent_utility": agent}
        self._values, self._counts, self._gains = (_replaced(old, rows, new) for old, new in
                                                   ((self._values, values), (self._counts, counts),
                                                    (self._gains, gains)))
        self._regions = _replaced(self._regions, rows, draw_indices(self._region_cdf,
                                                                     self.np_random.random(len(recommendations))))
        return principal, np.zeros(len(recommendations), dtype=bool), info

    def _observations(self) -> np.ndarray:
        if self._loop is not None:
            return self._loop.obs.copy()
        single = self.single
        follow = learning_follows(self._values, single.context.default_action, single.no_information_value)
        return recommend_observation(self.regions.n_regions, self._regions, follow.astype(np.float64),
                                     self._gains if single.history else None)


def _replaced(array: np.ndarray, rows, new: np.ndarray) -> np.ndarray:
    """``array`` with ``rows`` replaced by ``new`` (a copy; ``new`` itself for all rows)."""
    if isinstance(rows, slice):
        return new
    array = array.copy()
    array[rows] = new
    return array
