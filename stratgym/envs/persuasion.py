"""Gymnasium environments of the recourse persuasion game (Harris et al., "Bayesian Persuasion for
Algorithmic Recourse", NeurIPS 2022; the model is ``stratgym.games.persuasion``).

| Environment | Who learns | One step is | Opponent |
|---|---|---|---|
| ``PersuasionSchemeEnv`` (``stratgym/PersuasionScheme-v0``) | principal | the whole game: commit to a scheme (regions × actions) | Bayesian agent (posterior best response; logit with ``agent_beta``) |
| ``PersuasionRecommendEnv`` (``stratgym/PersuasionRecommend-v0``) | principal | one round: see the rule's region, recommend an action | a :class:`Receiver` learning how much advice is worth |
| ``PersuasionAgentEnv`` (``stratgym/PersuasionAgent-v0``) | agent | one decision: see a recommendation, act | a fixed scheme |

Every env takes any :class:`~stratgym.games.persuasion.PersuasionGame` (``gym.make(id, game=...)``;
``None`` means ``synthetic_credit()``) and optionally its precomputed
:class:`~stratgym.games.persuasion.Regions` (``regions=...``: enumeration and masses are the costly part
of construction; everything else is precomputed too, so steps are cheap). Regions record the game they were
computed for, and regions of another game (another prior, say) raise ``ValueError``. A rule's region is drawn
from the region masses with ``self.np_random`` (the same law as drawing ``theta`` from the prior and
reading its pattern, and the masses the exact evaluators use). Envs raise ``ValueError`` for NaN,
wrongly shaped or out-of-space actions and :class:`gymnasium.error.ResetNeeded` when stepped before
``reset`` or after a one-step episode ended. They import nothing from ``stratgym.baselines``: a
solver's scheme (e.g. ``optimal_scheme(game).scheme``) is passed in by the caller.
"""

from __future__ import annotations

import bisect
import functools
from dataclasses import dataclass
from typing import Callable, Protocol, runtime_checkable

import numpy as np
from gymnasium import spaces
from scipy.special import softmax

from stratgym.envs._base import RoundEnv
from stratgym.envs._spaces import check_action, simplex_action, simplex_box
from stratgym.games._validation import as_nonnegative_float, as_positive_int
from stratgym.games.credit import synthetic_credit
from stratgym.games.persuasion import (TIE_TOL, PersuasionGame, Regions, check_scheme, equivalence_regions,
                                       evaluate_scheme, full_revelation_scheme, no_information_scheme, precision_unit)
from stratgym.games.ties import precision_slack
from stratgym.games.persuasion import _best_responses, _weighted_payoffs  # evaluate_scheme's parts, for envs


@functools.lru_cache(maxsize=1)
def _default_setup() -> tuple[PersuasionGame, Regions]:
    """``synthetic_credit()`` and its regions, computed once (both are immutable)."""
    game = synthetic_credit()
    return game, equivalence_regions(game)


def _setup(game, regions) -> tuple[PersuasionGame, Regions]:
    if game is None and regions is None:
        return _default_setup()
    game = _default_setup()[0] if game is None else game
    if not isinstance(game, PersuasionGame):
        raise ValueError(f"game must be a PersuasionGame (or None for synthetic_credit()), got {type(game).__name__}")
    if regions is None:
        return game, equivalence_regions(game)
    if not isinstance(regions, Regions):
        raise ValueError(f"regions must be the game's Regions (equivalence_regions(game)) or None, "
                         f"got {type(regions).__name__}")
    regions.check_game(game)  # the recorded game, not only the payoff tables: masses depend on the prior too
    if not np.any(regions.masses > 0):
        raise ValueError("regions must have a region of positive mass")
    return game, regions


class _PersuasionEnv(RoundEnv):
    """What the three envs share: the game, its regions, the region sampler, and :class:`RoundEnv`'s rendering
    and guards (one round unless a subclass says otherwise)."""

    def __init__(self, game: PersuasionGame | None, regions: Regions | None, render_mode: str | None,
                 tie_tol: float, episode_length: int | None = 1):
        super().__init__(render_mode, episode_length)
        self.tie_tol = as_nonnegative_float(tie_tol, "tie_tol")
        self.game, self.regions = _setup(game, regions)
        self._masses = self.regions.masses / self.regions.masses.sum()
        self._cumulative_masses = np.cumsum(self._masses).tolist()  # bisect on a list: no numpy call per draw
        self._n_regions, self._n_actions = self.regions.n_regions, self.regions.n_actions

    def _draw(self, cumulative: list[float]) -> int:
        """An index drawn by inverse CDF from ``cumulative`` probabilities (one uniform draw of ``np_random``)."""
        return min(bisect.bisect_right(cumulative, self.np_random.random()), len(cumulative) - 1)

    def _draw_region(self) -> int:
        """A region index with probability proportional to its mass."""
        return self._draw(self._cumulative_masses)

    def _render_panels(self) -> list[np.ndarray]:
        """``info``'s arrays, then its indices as one-hot rows (region, recommendation, action, best response), then
        a committed ``scheme`` ``(R, A)`` if the env has one: what an ``rgb_array`` frame draws."""
        sizes = {"region": self.regions.n_regions, "recommendation": self.regions.n_actions,
                 "action": self.regions.n_actions, "best_response": self.regions.n_actions}
        one_hot = [np.eye(size)[self._last_info[key]][None, :] for key, size in sizes.items() if key in self._last_info]
        scheme = getattr(self, "scheme", None)
        return super()._render_panels() + one_hot + ([scheme] if isinstance(scheme, np.ndarray) else [])


# ---------------------------------------------------------------------------------------------
# The principal commits to a whole scheme
# ---------------------------------------------------------------------------------------------

#: Default BIC margin of ``PersuasionSchemeEnv(reward="penalized")``, in posterior utility units of ``u_A``.
BIC_MARGIN = 0.005


def conservative_penalty_weight(regions: Regions) -> float:
    """A penalty weight for ``reward="penalized"`` from the payoffs alone (no LP):
    ``2 * range(u_P) / min |u_A(a, s) - u_A(b, s)|`` over regions of positive mass and unequal payoffs (1 if
    either is 0).

    Why: the penalized reward's maximum is the (margin-tightened) LP optimum once the weight exceeds the LP's
    BIC multipliers (``max_a sum_b mu_ab``: the penalty takes one maximum over ``b`` per recommendation); a
    multiplier prices a unit of the agent's slack, which moves at most ``1 / min |u_A gap|`` of mass, worth at
    most ``range(u_P)`` each. Not a proof, so it carries a factor 2 and is tested against the multipliers on
    random games. Conservative: on ``synthetic_credit()`` it is 20 against multipliers of 2.5, and a weight
    near twice the multipliers (5) trains far better (``BENCHMARKS.md``).
    """
    positive = regions.masses > 0
    agent, principal = regions.agent_payoffs[positive], regions.principal_payoffs[positive]
    gaps = np.abs(agent[:, :, None] - agent[:, None, :])
    gaps = gaps[gaps > 0]
    spread = float(np.ptp(principal))
    return 2.0 * spread / float(gaps.min()) if gaps.size and spread > 0 else 1.0


def penalized_value(sums: np.ndarray, penalty_weight: float, bic_margin: float) -> tuple[float, float]:
    """``(reward, violation)`` of ``reward="penalized"`` from the per-recommendation sums ``(A, 2A + 1)`` of
    :func:`~stratgym.games.persuasion.evaluate_scheme` (``E[u_A(b); a]`` for every ``b``, ``E[u_P(b); a]``
    for every ``b``, ``P(a)``; ``E[.; a]`` is the ex-ante expectation on "``a`` is recommended").

    ``reward = sum_a E[u_P(a); a] - penalty_weight * violation``: the principal's utility if every
    recommendation were obeyed, minus the weighted ``violation = sum_a max(0, max_{b != a} E[u_A(b) - u_A(a); a]
    + bic_margin * P(a))``. Never-recommended actions add nothing (their sums are 0).
    """
    n_actions = sums.shape[1] // 2
    agent = sums[:, :n_actions]
    diagonal = np.arange(n_actions)
    obedient = float(sums[diagonal, n_actions + diagonal].sum())
    others = np.where(np.eye(n_actions, dtype=bool), -np.inf, agent).max(axis=1)
    violation = float(np.maximum(others - agent[diagonal, diagonal] + bic_margin * sums[:, 2 * n_actions], 0.0).sum())
    return obedient - penalty_weight * violation, violation


def scheme_observation(regions: Regions) -> np.ndarray:
    """``PersuasionScheme-v0``'s (constant) observation ``(R,)`` float32: the region masses normalized to sum 1.
    Public so that a trained scheme model can be asked outside the env."""
    return (regions.masses / regions.masses.sum()).astype(np.float32)


def as_rationality(beta, name: str) -> float:
    """A logit rationality ``beta >= 0`` (1/utility units; ``inf`` allowed) as a float, ``ValueError`` naming ``name``."""
    if isinstance(beta, (bool, np.bool_)) or not isinstance(beta, (int, float, np.integer, np.floating)) \
            or np.isnan(beta) or beta < 0:
        raise ValueError(f"{name} must be a number >= 0 (inf allowed), got {beta!r}")
    return float(beta)


def quantal_choice(sums: np.ndarray, beta: float) -> tuple[np.ndarray, float, float]:
    """A logit agent's ``(choice probabilities (A, A), principal value, agent value)`` from the per-recommendation
    sums ``(A, 2A + 1)`` of :func:`~stratgym.games.persuasion.evaluate_scheme` (``E[u_A(b); a]``, ``E[u_P(b); a]``,
    ``P(a)``).

    Row ``a``: ``softmax(beta * U_a)`` with ``U_a(b) = E[u_A(b); a] / P(a)`` the posterior expected utilities
    (uniform for a never-recommended ``a``, which adds nothing to either value). Finite ``beta >= 0``.
    """
    n_actions = sums.shape[1] // 2
    probability = sums[:, 2 * n_actions]
    posterior = sums[:, :n_actions] / np.where(probability > 0, probability, 1.0)[:, None]
    with np.errstate(over="ignore"):  # shifted by the row maximum: a huge beta gives -inf (probability 0), never NaN
        choice = softmax(beta * (posterior - posterior.max(axis=1, keepdims=True)), axis=1)
    return (choice, float((choice * sums[:, n_actions:2 * n_actions]).sum()),
            float((choice * sums[:, :n_actions]).sum()))


class PersuasionSchemeEnv(_PersuasionEnv):
    """The principal commits to a signaling scheme; a Bayesian agent best-responds to each recommendation.

    | | |
    |---|---|
    | Creation | ``gym.make("stratgym/PersuasionScheme-v0", game=None, reward="expected", agent_beta=inf)`` |
    | Actions | Box ``[-1, 1]^(R, A)``, row-wise onto the simplex: the scheme ``q`` (``R`` regions, ``A`` actions) |
    | Observations | Box ``[0, 1]^R``: the region masses (constant) |
    | Players | principal (learns); agent (exact posterior best response, ties to obedience; or quantal, ``agent_beta``) |
    | Reference solver | ``stratgym.baselines.signaling.optimal_scheme(game)`` (LP over regions) |
    | Known optimum | the LP value; ``stratgym.games.persuasion.prosecutor()`` (0.3 approving mass, cost 0.5): 0.6 |

    ## Description

    Harris et al., "Bayesian Persuasion for Algorithmic Recourse" (NeurIPS 2022). A decision subject
    with features ``x_0`` can take actions ``a = 0..K`` (``a = 0`` does nothing) moving it to
    ``x_0 + Delta(a)`` at cost ``c(a)``; a rule ``theta`` drawn from a known prior approves iff
    ``theta . (x_0 + Delta(a)) >= 0``. The principal sees ``theta`` and commits beforehand to a
    scheme: a distribution over recommended actions for each equivalence region (rules approving the
    same set of actions). The agent hears a recommendation, forms its posterior over regions and
    takes the action of highest posterior expected utility ``1{approved} - c(a)``, following the
    recommendation when it is among the best, otherwise the best action the principal values most, then
    the lowest index. Posterior utilities within ``tie_tol`` count as tied, widened by the precision of the
    action received (:mod:`stratgym.games.ties`: ``A * eps(action dtype)`` times
    :func:`~stratgym.games.persuasion.precision_unit`), so the float32 encoding of the LP's optimal scheme,
    which leaves the agent exactly indifferent, earns the LP value. The episode is this one decision, a contextual
    bandit; the same game is played every episode.

    A finite ``agent_beta`` replaces that agent by a quantal (logit) one: after recommendation ``a`` it
    takes action ``b`` with probability ``exp(beta U_a(b)) / sum_b' exp(beta U_a(b'))``, ``U_a(b)`` its
    posterior expected utility of ``b`` (:func:`quantal_choice`). As ``beta`` grows this approaches a best
    response (splitting exact ties evenly, where the exact agent obeys); ``beta = 0`` acts uniformly.

    ## Action Space

    ``Box(-1, 1, (R, A), float32)``. Row ``s`` is mapped by ``box_to_simplex`` (``w = (a + 1) / 2``,
    ``q_s = w / sum(w)``, uniform if ``w = 0``) to the recommendation distribution in region ``s``;
    every scheme is reachable (``a = 2 e_j - 1`` recommends action ``j`` for sure). Regions are in
    the order of ``env.regions.patterns`` (``R`` depends on the game).

    ## Observation Space

    | Num | Observation | Min | Max |
    |-----|-------------|-----|-----|
    | ``0 .. R-1`` | prior mass of region ``s`` (normalized to sum 1) | 0 | 1 |

    ## Rewards

    ``reward="expected"`` (default): the principal's exact expected utility of the scheme,
    ``sum_s pi_s sum_a q_s(a) u_P(r(a), s)`` with ``r(a)`` the agent's response to recommendation
    ``a`` (:func:`~stratgym.games.persuasion.evaluate_scheme`); for a quantal agent, the expectation over
    its choice probabilities too. ``reward="sampled"``: one realization: a region drawn from the masses, a
    recommendation from ``q``, ``u_P`` of the agent's response (drawn from its choice probabilities if quantal).

    ``reward="penalized"``, for training only (score learners with ``"expected"``): the expected reward
    jumps down where a recommendation stops being obeyed, right at the optimum, and is 0 on most of the
    box, which stalls gradient learners. This reward is the exact-penalty relaxation of the signaling LP
    (:func:`penalized_value`): the principal's utility if the agent obeyed, minus ``penalty_weight`` times
    each recommendation's BIC violation measured with margin ``bic_margin`` (posterior utility units). On
    schemes BIC with that margin it equals the expected reward; for a weight above the LP's BIC
    multipliers its maximum is the LP optimum tightened by the margin (``BIC_MARGIN = 0.005`` costs 1.1%
    of the optimum on ``synthetic_credit()``). ``penalty_weight=None``: :func:`conservative_penalty_weight`.
    It relaxes the exact agent's obedience constraints, so it needs ``agent_beta=inf`` (a quantal agent's
    expected reward is smooth already).

    ## Starting State

    The constant masses; ``reset`` draws nothing.

    ## Episode End

    Termination after the single step. No truncation.

    ## Arguments

    ```python
    >>> import gymnasium as gym
    >>> import numpy as np
    >>> import stratgym
    >>> from stratgym.envs._spaces import simplex_to_box
    >>> from stratgym.games.persuasion import FiniteSupportPrior, PersuasionGame
    >>> game = PersuasionGame([1.0, 0.0], [[0.0, 0.0], [0.0, 1.0]], [0.0, 0.5],
    ...                       FiniteSupportPrior([[-1.0, 0.5], [-1.0, 2.0]], [0.7, 0.3]))
    >>> env = gym.make("stratgym/PersuasionScheme-v0", game=game)
    >>> obs, info = env.reset(seed=0)
    >>> scheme = np.array([[4 / 7, 3 / 7], [0.0, 1.0]])  # act always where it helps, 3/7 elsewhere
    >>> obs, reward, terminated, truncated, info = env.step(simplex_to_box(scheme))
    >>> round(reward, 6), terminated, info["responses"]
    (0.6, True, array([0, 1]))

    ```

    | Parameter | Type | Default | Description |
    |---|---|---|---|
    | ``game`` | ``PersuasionGame`` or ``None`` | ``None`` (``synthetic_credit()``) | the game instance |
    | ``reward`` | ``"expected"``, ``"sampled"`` or ``"penalized"`` | ``"expected"`` | exact expectation, one realization, or the training relaxation |
    | ``penalty_weight`` | float > 0 or ``None`` | ``None`` (:func:`conservative_penalty_weight`) | ``"penalized"`` only: weight of the BIC violation |
    | ``bic_margin`` | float >= 0 or ``None`` | ``None`` (``BIC_MARGIN``) | ``"penalized"`` only: margin of the BIC constraints |
    | ``regions`` | ``Regions`` or ``None`` | ``None`` (computed) | precomputed ``equivalence_regions(game)`` |
    | ``tie_tol`` | float | ``TIE_TOL`` | posterior utilities this close are ties (before the action's precision widens it) |
    | ``agent_beta`` | float >= 0 or ``inf`` | ``inf`` (exact agent) | the agent's logit rationality (1/utility units) |
    | ``render_mode`` | ``"ansi"``, ``"rgb_array"`` or ``None`` | ``None`` | text, or a numpy-drawn frame of the last step (``RoundEnv.render``) |

    ``info`` after the step: ``scheme`` ``(R, A)``, ``responses`` ``(A,)`` (the exact agent's response to
    each recommendation), ``principal_value``, ``agent_value``, ``bic_slack`` (exact), for a quantal agent
    its ``choice_probabilities`` ``(A, A)`` (row: recommendation), for ``"sampled"`` the drawn ``region``,
    ``recommendation``, ``action``, and for ``"penalized"`` the ``bic_violation``.

    ## Version History

    * v0: Initial version.
    """

    def __init__(self, game: PersuasionGame | None = None, reward: str = "expected", regions: Regions | None = None,
                 tie_tol: float = TIE_TOL, render_mode: str | None = None, penalty_weight: float | None = None,
                 bic_margin: float | None = None, agent_beta: float = float("inf")):
        super().__init__(game, regions, render_mode, tie_tol)
        if reward not in ("expected", "sampled", "penalized"):
            raise ValueError(f"reward must be 'expected', 'sampled' or 'penalized', got {reward!r}")
        self.agent_beta = as_rationality(agent_beta, "agent_beta")
        self._quantal = bool(np.isfinite(self.agent_beta))  # decided once: step is a hot path
        if reward == "penalized" and self._quantal:
            raise ValueError(f"reward='penalized' relaxes the exact agent's obedience constraints; it needs "
                             f"agent_beta=inf, got agent_beta={agent_beta!r}")
        for name, value in (("penalty_weight", penalty_weight), ("bic_margin", bic_margin)):
            if value is not None and reward != "penalized":
                raise ValueError(f"{name} applies only to reward='penalized' (reward is {reward!r}); leave it None")
        self.reward = reward
        if reward == "penalized":
            self.penalty_weight = (conservative_penalty_weight(self.regions) if penalty_weight is None
                                   else as_nonnegative_float(penalty_weight, "penalty_weight", positive=True))
            self.bic_margin = BIC_MARGIN if bic_margin is None else as_nonnegative_float(bic_margin, "bic_margin")
        self.action_space = simplex_box(self.regions.n_regions, self.regions.n_actions)
        self.observation_space = spaces.Box(low=0.0, high=1.0, shape=(self.regions.n_regions,), dtype=np.float32)
        self._observation = scheme_observation(self.regions)
        self._weighted_payoffs = _weighted_payoffs(self.regions)  # evaluate_scheme's game-dependent part
        self._precision_unit = precision_unit(self.regions)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self._round = 0
        self._last_info = {}
        return self._observation.copy(), {}

    def step(self, action):
        self._begin_step()
        scheme = simplex_action(self.action_space, action)
        # evaluate_scheme(regions, scheme, tie_tol, check=False, precision) without the posterior table nobody reads.
        widening = precision_slack(action, self.regions.n_actions) * self._precision_unit
        sums, responses, principal_value, agent_value, bic_slack = _best_responses(self._weighted_payoffs, scheme,
                                                                                   self.tie_tol, widening)
        info = {"scheme": scheme, "responses": np.array(responses), "principal_value": principal_value,
                "agent_value": agent_value, "bic_slack": bic_slack}
        if self._quantal:
            choice, principal_value, agent_value = quantal_choice(sums, self.agent_beta)
            info |= {"choice_probabilities": choice, "principal_value": principal_value, "agent_value": agent_value}
        reward = principal_value
        if self.reward == "penalized":
            reward, info["bic_violation"] = penalized_value(sums, self.penalty_weight, self.bic_margin)
        if self.reward == "sampled":
            region = self._draw_region()
            recommendation = self._draw(np.cumsum(scheme[region]).tolist())
            taken = (self._draw(np.cumsum(choice[recommendation]).tolist()) if self._quantal
                     else responses[recommendation])
            reward = float(self.regions.principal_payoffs[region, taken])
            info |= {"region": region, "recommendation": recommendation, "action": taken}
        self._round = 1
        self._last_info = info
        return self._observation.copy(), reward, True, False, info


# ---------------------------------------------------------------------------------------------
# Repeated persuasion of a learning receiver
# ---------------------------------------------------------------------------------------------

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
    """A decision subject facing a stream of recommendations (the opponent of :class:`PersuasionRecommendEnv`).

    * ``reset(context, rng)``: start an episode with the prior-level :class:`ReceiverContext`; ``rng`` is
      the env's ``np_random`` (the only allowed source of randomness, so episodes stay seeded).
    * ``follow_probabilities()``: ``(A,)`` in ``[0, 1]``, the probability of following each recommendation
      now (part of the principal's observation).
    * ``respond(recommendation, rng)``: the action (an int in ``0..A-1``) taken on this recommendation.
    * ``update(recommendation, action, utility)``: what the receiver experienced: its realized ``u_A``.

    RL or quantal-response receivers (``stratgym.agents``) plug in through this protocol; the env checks
    what they return (``ValueError`` otherwise).
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

    def reset(self, context: ReceiverContext, rng: np.random.Generator | None = None) -> None:
        """Forget everything: values back to the initial (optimistic) ones, counts to 0."""
        start = 1.0 - context.costs if self.initial_values is None else self.initial_values
        if start.shape != context.costs.shape or not np.all(np.isfinite(start)):
            raise ValueError(f"initial_values must be {context.costs.shape[0]} finite numbers, got {start}")
        self.values = start.copy()
        self.counts = np.zeros(context.costs.shape[0], dtype=np.int64)
        self.default_action = int(context.default_action)
        self.benchmark = float(context.prior_values[self.default_action])

    def _follows(self) -> np.ndarray:
        follows = self.values >= self.benchmark
        follows[self.default_action] = True
        return follows

    def follow_probabilities(self) -> np.ndarray:
        """``(A,)``: 1 where the receiver would follow now, 0 elsewhere."""
        return self._follows().astype(np.float64)

    def respond(self, recommendation: int, rng: np.random.Generator | None = None) -> int:
        """``recommendation`` if followed, else the default action."""
        return int(recommendation) if self._follows()[recommendation] else self.default_action

    def update(self, recommendation: int, action: int, utility: float) -> None:
        """Fold ``utility`` into the running mean of ``recommendation`` if it was followed."""
        if action == recommendation:
            self.counts[action] += 1
            self.values[action] += (utility - self.values[action]) / self.counts[action]

    def __repr__(self) -> str:
        return f"LearningReceiver(initial_values={self.initial_values!r})"


def receiver_context(game: PersuasionGame, regions: Regions, tie_tol: float = TIE_TOL) -> ReceiverContext:
    """The :class:`ReceiverContext` of ``game``: prior values ``(A,)``, the no-information action, the costs."""
    masses = regions.masses / regions.masses.sum()
    prior_values = masses @ regions.agent_payoffs
    default = int(no_information_scheme(regions, tie_tol)[0].argmax())  # one-hot rows: the prior best response
    prior_values.setflags(write=False)
    return ReceiverContext(prior_values, default, game.costs)


class PersuasionRecommendEnv(_PersuasionEnv):
    """Repeated persuasion: each round the principal sees the rule's region and recommends an action.

    | | |
    |---|---|
    | Creation | ``gym.make("stratgym/PersuasionRecommend-v0", game=None, receiver=None)`` |
    | Actions | Discrete ``A``: the recommended action |
    | Observations | Box ``(R + 2A,)``: one-hot region of this round's rule, the receiver's follow probabilities, its cumulative gain from following each recommendation (``history=False``: without the last) |
    | Players | principal (learns); receiver = :class:`LearningReceiver` or any :class:`Receiver` |
    | Reference solver | ``stratgym.baselines.signaling.optimal_scheme`` (one-shot BIC value per round) |
    | Known optimum | no closed form; per round at most ``sum_s pi_s max_a u_P(a, s)`` (an always-obedient receiver) |

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
    commitment value instead of over 100%, ``BENCHMARKS.md``).

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
    | ``receiver`` | a :class:`Receiver` or ``None`` | ``None`` (``LearningReceiver()``) | who decides whether to follow |
    | ``regions`` | ``Regions`` or ``None`` | ``None`` (computed) | precomputed ``equivalence_regions(game)`` |
    | ``tie_tol`` | float | ``TIE_TOL`` | ties in the receiver's prior best response |
    | ``history`` | bool | ``True`` | observe the cumulative gain of following each recommendation |
    | ``render_mode`` | ``"ansi"``, ``"rgb_array"`` or ``None`` | ``None`` | text, or a numpy-drawn frame of the last step (``RoundEnv.render``) |

    ``info`` of a step: ``region``, ``recommendation``, ``action``, ``followed``, ``principal_utility``,
    ``agent_utility`` (the receiver's realized ``u_A``).

    ## Version History

    * v0: Initial version.
    """

    def __init__(self, game: PersuasionGame | None = None, receiver: Receiver | None = None,
                 regions: Regions | None = None, tie_tol: float = TIE_TOL, render_mode: str | None = None,
                 history: bool = True):
        super().__init__(game, regions, render_mode, tie_tol, episode_length=None)
        if not isinstance(history, (bool, np.bool_)):
            raise ValueError(f"history must be True or False, got {history!r}")
        if receiver is None:
            receiver = LearningReceiver()
        for method in ("reset", "follow_probabilities", "respond", "update"):
            if not callable(getattr(receiver, method, None)):
                raise ValueError(f"receiver must implement the Receiver protocol (reset, follow_probabilities, "
                                 f"respond, update); {receiver!r} has no {method}()")
        self.receiver = receiver
        self._trusted_receiver = type(receiver) is LearningReceiver
        self.context = receiver_context(self.game, self.regions, self.tie_tol)
        n_regions, n_actions = self.regions.n_regions, self.regions.n_actions
        self.action_space = spaces.Discrete(n_actions)
        self.history = bool(history)
        low = np.zeros(n_regions + n_actions * (2 if self.history else 1), dtype=np.float32)
        low[n_regions + n_actions:] = -1.0
        self.observation_space = spaces.Box(low=low, high=np.ones_like(low), dtype=np.float32)
        self._no_information_value = float(self.context.prior_values[self.context.default_action])
        self._following_gains = np.zeros(n_actions)  # x_a of the class doc (utility units)
        self._region = 0

    def _observation(self) -> np.ndarray:
        follow = self.receiver.follow_probabilities()
        if not self._trusted_receiver:
            follow = np.asarray(follow, dtype=np.float64)
            if follow.shape != (self._n_actions,) or not np.all((follow >= 0) & (follow <= 1)):
                raise ValueError(f"receiver.follow_probabilities() must return {self._n_actions} numbers "
                                 f"in [0, 1], got {follow!r}")
        obs = np.zeros(self.observation_space.shape, dtype=np.float32)
        obs[self._region] = 1.0
        obs[self._n_regions:self._n_regions + self._n_actions] = follow
        if self.history:
            obs[self._n_regions + self._n_actions:] = self._following_gains / (1.0 + np.abs(self._following_gains))
        return obs

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self.receiver.reset(self.context, self.np_random)
        self._following_gains[:] = 0.0
        self._round = 0
        self._region = self._draw_region()
        self._last_info = {"region": self._region}
        return self._observation(), {}

    def step(self, action):
        self._begin_step()
        recommendation = int(check_action(self.action_space, action))
        taken = self.receiver.respond(recommendation, self.np_random)
        if not self._trusted_receiver and (isinstance(taken, (bool, np.bool_)) or not isinstance(taken, (int, np.integer))
                                           or not 0 <= taken < self._n_actions):
            raise ValueError(f"receiver.respond() must return an action in 0..{self._n_actions - 1}, got {taken!r}")
        taken = int(taken)
        region = self._region
        principal = float(self.regions.principal_payoffs[region, taken])
        agent = float(self.regions.agent_payoffs[region, taken])
        self.receiver.update(recommendation, taken, agent)
        if taken == recommendation:
            self._following_gains[taken] += agent - self._no_information_value
        info = {"region": region, "recommendation": recommendation, "action": taken,
                "followed": taken == recommendation, "principal_utility": principal, "agent_utility": agent}
        self._round += 1
        self._region = self._draw_region()
        self._last_info = info
        return self._observation(), principal, False, False, info


# ---------------------------------------------------------------------------------------------
# The decision subject's side
# ---------------------------------------------------------------------------------------------

#: Scheme builders ``(regions, tie_tol) -> (R, A) scheme`` that :class:`PersuasionAgentEnv` accepts by name.
#: Envs import no solver, so ``"optimal"`` (the signaling LP) is declared in the persuasion family's registry entry
#: (``named_policies``) and added by ``stratgym/__init__.py``, which sits above both envs and baselines; add your own
#: with :func:`register_scheme`.
SCHEME_BUILDERS: dict[str, Callable[[Regions, float], np.ndarray]] = {
    "full-revelation": full_revelation_scheme, "no-information": no_information_scheme}


def register_scheme(name: str, builder: Callable[[Regions, float], np.ndarray]) -> None:
    """Make ``scheme=name`` of :class:`PersuasionAgentEnv` build its scheme with ``builder(regions, tie_tol)``."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"name must be a non-empty string, got {name!r}")
    if not callable(builder):
        raise ValueError(f"builder must be callable as builder(regions, tie_tol), got {builder!r}")
    SCHEME_BUILDERS[name] = builder


def recommendation_observation(game: PersuasionGame, recommendation: int) -> np.ndarray:
    """``PersuasionAgent-v0``'s observation ``(A + m,)`` float32 on hearing ``recommendation``: its one-hot, then the
    agent's features ``x_0 / max(1, max |x_0|)``. Public so that a trained agent model can be asked outside the env."""
    n_actions = game.n_actions
    if as_positive_int(recommendation, "recommendation", minimum=0) >= n_actions:
        raise ValueError(f"recommendation must be an action in 0..{n_actions - 1}, got {recommendation!r}")
    features = game.features
    observation = np.zeros(n_actions + features.size, dtype=np.float32)
    observation[recommendation] = 1.0
    observation[n_actions:] = features / max(1.0, float(np.abs(features).max()))
    return observation


class PersuasionAgentEnv(_PersuasionEnv):
    """The decision subject hears a recommendation drawn from a fixed scheme and chooses an action.

    | | |
    |---|---|
    | Creation | ``gym.make("stratgym/PersuasionAgent-v0", game=None, scheme="optimal")`` |
    | Actions | Discrete ``A``: the action taken |
    | Observations | Box ``[-1, 1]^(A + m)``: one-hot recommendation, the agent's features ``x_0`` (scaled) |
    | Players | agent (learns); principal = a fixed scheme |
    | Reference solver | ``stratgym.games.persuasion.evaluate_scheme(regions, scheme).responses`` (posterior best response) |
    | Known optimum | ``evaluate_scheme(regions, scheme).agent_value`` per episode; for a BIC scheme, obeying reaches it |

    ## Description

    Harris et al., "Bayesian Persuasion for Algorithmic Recourse" (NeurIPS 2022), from the agent's
    side. The principal has committed to ``scheme`` (regions × actions); each episode a rule is drawn
    from the prior, a recommendation from the scheme's row of its region, and the agent, who sees
    only the recommendation and its own features, acts. The best policy maps each recommendation to
    the posterior best response; for a BIC scheme that is obedience.

    ``scheme``: ``"optimal"`` (default: the principal-optimal BIC scheme of the signaling LP,
    ``stratgym.baselines.signaling.optimal_scheme``), ``"full-revelation"`` (the best response in each
    region, ties to the principal), ``"no-information"`` (always the prior best response), another
    name added with :func:`register_scheme`, or any ``(R, A)`` array whose rows lie on the simplex.

    ## Action Space

    ``Discrete(A)``: the action taken (``0`` = do nothing).

    ## Observation Space

    | Num | Observation | Min | Max |
    |-----|-------------|-----|-----|
    | ``0 .. A-1`` | one-hot recommendation | 0 | 1 |
    | ``A .. A+m-1`` | features ``x_0 / max(1, max_i |x_0,i|)`` (constant) | -1 | 1 |

    ## Rewards

    The agent's realized utility ``u_A(a, theta) = 1{theta . (x_0 + Delta(a)) >= 0} - c(a)``.

    ## Starting State

    A region drawn from the prior masses and a recommendation from the scheme (``np_random``).

    ## Episode End

    Termination after the single decision. No truncation.

    ## Arguments

    ```python
    >>> import gymnasium as gym
    >>> import stratgym
    >>> env = gym.make("stratgym/PersuasionAgent-v0", scheme="no-information")
    >>> obs, info = env.reset(seed=0)
    >>> int(obs[:4].argmax()), info["recommendation"]
    (0, 0)

    ```

    | Parameter | Type | Default | Description |
    |---|---|---|---|
    | ``game`` | ``PersuasionGame`` or ``None`` | ``None`` (``synthetic_credit()``) | the game instance |
    | ``scheme`` | a name of ``SCHEME_BUILDERS`` or an ``(R, A)`` array | ``"optimal"`` | the principal's committed scheme |
    | ``regions`` | ``Regions`` or ``None`` | ``None`` (computed) | precomputed ``equivalence_regions(game)`` |
    | ``tie_tol`` | float | ``TIE_TOL`` | ties in the named schemes' best responses |
    | ``render_mode`` | ``"ansi"``, ``"rgb_array"`` or ``None`` | ``None`` | text, or a numpy-drawn frame of the last step (``RoundEnv.render``) |

    ``info``: at reset the ``recommendation``; after the step also ``region``, ``action``,
    ``principal_utility`` and ``best_response`` (the posterior best response to the recommendation).

    ## Version History

    * v0: Initial version.
    """

    def __init__(self, game: PersuasionGame | None = None, scheme: str | np.ndarray = "optimal",
                 regions: Regions | None = None, tie_tol: float = TIE_TOL, render_mode: str | None = None):
        super().__init__(game, regions, render_mode, tie_tol)
        if isinstance(scheme, str):
            if scheme not in SCHEME_BUILDERS:
                raise ValueError(f"scheme must be one of {sorted(SCHEME_BUILDERS)} or an (R, A) array, got {scheme!r}")
            scheme = SCHEME_BUILDERS[scheme](self.regions, self.tie_tol)
        self.scheme = check_scheme(scheme, self.regions.n_regions, self.regions.n_actions)
        self.scheme.setflags(write=False)
        self.evaluation = evaluate_scheme(self.regions, self.scheme, self.tie_tol)
        self._cumulative_scheme = np.cumsum(self.scheme, axis=1).tolist()
        n_actions, features = self.regions.n_actions, self.game.features
        self.action_space = spaces.Discrete(n_actions)
        self.observation_space = spaces.Box(low=-1.0, high=1.0, shape=(n_actions + features.size,), dtype=np.float32)
        self._observations = [recommendation_observation(self.game, a) for a in range(n_actions)]
        self._region, self._recommendation = 0, 0

    def _observation(self) -> np.ndarray:
        return self._observations[self._recommendation].copy()

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self._round = 0
        self._region = self._draw_region()
        self._recommendation = self._draw(self._cumulative_scheme[self._region])
        info = {"recommendation": self._recommendation}
        self._last_info = info
        return self._observation(), dict(info)

    def step(self, action):
        self._begin_step()
        taken = int(check_action(self.action_space, action))
        region = self._region
        reward = float(self.regions.agent_payoffs[region, taken])
        info = {"recommendation": self._recommendation, "region": region, "action": taken,
                "principal_utility": float(self.regions.principal_payoffs[region, taken]),
                "best_response": int(self.evaluation.responses[self._recommendation])}
        self._round = 1
        self._last_info = info
        return self._observation(), reward, True, False, info
