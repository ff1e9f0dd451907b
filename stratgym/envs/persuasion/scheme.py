"""``stratgym/PersuasionScheme-v0``: the principal commits to a whole signaling scheme in one step; its scalar env
and native vector env, both on :mod:`stratgym.envs.persuasion.core`."""

from __future__ import annotations

import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode

from stratgym.envs.persuasion.core import (BIC_MARGIN, PersuasionRoundEnv, conservative_penalty_weight,
                                           cumulative_rows, draw_indices, penalized_value, quantal_choice,
                                           scheme_observation, scheme_outcomes)
from stratgym.envs.persuasion.core import batch_last_simplex
from stratgym.envs.spaces import simplex_action, simplex_box
from stratgym.envs.vector import RoundVectorEnv
from stratgym.games.behaviour import Bayesian, Quantal, agent_argument, as_behaviour
from stratgym.games.persuasion import TIE_TOL, PersuasionGame, Regions, best_responses, precision_unit, weighted_payoffs
from stratgym.games.ties import precision_slack
from stratgym.games.validation import as_nonnegative_float


def scheme_agent(agent, game: PersuasionGame) -> Bayesian | Quantal:
    """``PersuasionScheme-v0``'s ``agent=`` as ``Bayesian()`` or ``Quantal(beta)`` (a number is ``beta``, ``inf``
    ``Bayesian()``); ``ValueError`` naming ``agent`` otherwise."""
    try:
        agent = as_behaviour(agent, game)
    except ValueError as error:
        raise ValueError(f"agent: {error}") from None
    if isinstance(agent, Quantal) and agent.k is None:
        return Bayesian() if np.isinf(agent.beta) else agent
    if isinstance(agent, Bayesian):
        return agent
    raise ValueError(f"agent of PersuasionScheme-v0 must be Bayesian(), Quantal(beta) (no lookahead: the game is one "
                     f"decision) or a number beta >= 0, got {agent!r}")


class PersuasionSchemeEnv(PersuasionRoundEnv):
    """The principal commits to a signaling scheme; a Bayesian agent best-responds to each recommendation.

    | | |
    |---|---|
    | Creation | ``gym.make("stratgym/PersuasionScheme-v0", game=None, reward="expected", agent=None)`` |
    | Actions | Box ``[-1, 1]^(R, A)``, row-wise onto the simplex: the scheme ``q`` (``R`` regions, ``A`` actions) |
    | Observations | Box ``[0, 1]^R``: the region masses (constant) |
    | Players | principal (learns); agent ``Bayesian()`` (exact posterior best response, ties to obedience) or ``Quantal(beta)`` |
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

    ``agent=Quantal(beta)`` (finite ``beta``) replaces that agent by a quantal (logit) one: after recommendation ``a`` it
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
    of the optimum on ``synthetic_credit()``). ``penalty_weight=None``: :func:`conservative_penalty_weight`, a
    heuristic that can fall below the multipliers on near-degenerate games (its docstring gives one).
    It relaxes the exact agent's obedience constraints, so it needs the ``Bayesian()`` agent (a quantal agent's
    expected reward is smooth already).

    ## Starting State

    The constant masses; ``reset`` draws nothing.

    ## Episode End

    The scheme is the episode's one action: the step that plays it terminates the episode, which is never truncated.

    ## Arguments

    A game built by hand with two regions: acting (cost 0.5) is approved only in the second, of prior mass 0.3.
    Recommending it always there and 3/7 of the time in the first leaves the agent indifferent after a
    recommendation to act, so it obeys every recommendation, and the principal earns the LP optimum 0.6.

    ```python
    >>> import gymnasium as gym
    >>> import numpy as np
    >>> import stratgym
    >>> from stratgym.envs.spaces import simplex_to_box
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
    | ``agent`` | ``Bayesian()``, ``Quantal(beta)`` (``beta >= 0`` in 1/utility units), ``"bayesian"``, a number ``beta`` or ``None`` | ``None`` (``Bayesian()``) | the agent (``agent_beta=beta``: its deprecated form; ``inf`` is ``Bayesian()``) |
    | ``render_mode`` | ``"ansi"``, ``"rgb_array"`` or ``None`` | ``None`` | text, or a numpy-drawn frame of the last step (``RoundEnv.render``) |

    ``info`` after the step: ``scheme`` ``(R, A)``, ``responses`` ``(A,)`` (the exact agent's response to
    each recommendation), ``principal_value``, ``agent_value``, ``bic_slack`` (exact), for a quantal agent
    its ``choice_probabilities`` ``(A, A)`` (row: recommendation), for ``"sampled"`` the drawn ``region``,
    ``recommendation``, ``action``, and for ``"penalized"`` the ``bic_violation``.

    ## Vectorized environment

    :class:`PersuasionSchemeVectorEnv` steps many episodes at once with numpy (vector entry point
    ``stratgym.envs.persuasion:PersuasionSchemeVectorEnv``, autoreset ``NEXT_STEP`` or ``SAME_STEP``).

    ## Version History

    * v0: Initial version.
    """

    def __init__(self, game: PersuasionGame | None = None, reward: str = "expected", regions: Regions | None = None,
                 tie_tol: float = TIE_TOL, render_mode: str | None = None, penalty_weight: float | None = None,
                 bic_margin: float | None = None, agent: Bayesian | Quantal | str | float | None = None, *,
                 agent_beta: float | None = None):
        super().__init__(game, regions, render_mode, tie_tol)
        if reward not in ("expected", "sampled", "penalized"):
            raise ValueError(f"reward must be 'expected', 'sampled' or 'penalized', got {reward!r}")
        self.agent = scheme_agent(agent_argument(agent, Bayesian(), agent_beta=agent_beta), self.game)
        #: The agent's rationality: ``inf`` for the Bayesian agent.
        self.agent_beta = float("inf") if isinstance(self.agent, Bayesian) else self.agent.beta
        self.quantal = bool(np.isfinite(self.agent_beta))  # decided once: step is a hot path
        if reward == "penalized" and self.quantal:
            raise ValueError(f"reward='penalized' relaxes the exact agent's obedience constraints; it needs the "
                             f"Bayesian() agent (agent_beta=inf), got agent={self.agent!r}")
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
        self.constant_observation = scheme_observation(self.regions)
        self.weighted = weighted_payoffs(self.regions)  # evaluate_scheme's game-dependent part
        self.precision_unit = precision_unit(self.regions)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        return self._new_episode(self.constant_observation.copy())

    def scheme_values(self, schemes: np.ndarray, outcomes: tuple) -> tuple:
        """``(reward, info, choice)`` of schemes (one ``(R, A)`` or a batch ``(k, R, A)``) from their ``outcomes``
        (:func:`~stratgym.games.persuasion.best_responses` or :func:`~stratgym.envs.persuasion.core.scheme_outcomes`):
        the exact agent's values, a quantal agent's instead (``choice``: its choice probabilities, else ``None``), the
        penalized reward; everything but ``reward="sampled"``'s draws."""
        sums, responses, principal_value, agent_value, bic_slack = outcomes
        info = {"scheme": schemes, "responses": np.asarray(responses), "principal_value": principal_value,
                "agent_value": agent_value, "bic_slack": bic_slack}
        choice = None
        if self.quantal:
            choice, principal_value, agent_value = quantal_choice(sums, self.agent_beta)
            info |= {"choice_probabilities": choice, "principal_value": principal_value, "agent_value": agent_value}
        reward = principal_value
        if self.reward == "penalized":
            reward, info["bic_violation"] = penalized_value(sums, self.penalty_weight, self.bic_margin)
        return reward, info, choice

    def step(self, action):
        self._begin_step()
        scheme = simplex_action(self.action_space, action)
        # evaluate_scheme(regions, scheme, tie_tol, check=False, precision) without the posterior table nobody reads.
        widening = precision_slack(action, self._n_actions) * self.precision_unit
        outcomes = best_responses(self.weighted, scheme, self.tie_tol, widening)
        reward, info, choice = self.scheme_values(scheme, outcomes)
        responses = outcomes[1]
        if self.reward == "sampled":
            region = self._draw_region()
            recommendation = self._draw(np.cumsum(scheme[region]).tolist())
            taken = (self._draw(np.cumsum(choice[recommendation]).tolist()) if self.quantal
                     else responses[recommendation])
            reward = float(self.regions.principal_payoffs[region, taken])
            info |= {"region": region, "recommendation": recommendation, "action": taken}
        self._round = 1
        self._last_info = info
        return self.constant_observation.copy(), reward, True, False, info


class PersuasionSchemeVectorEnv(RoundVectorEnv):
    """``num_envs`` :class:`PersuasionSchemeEnv` episodes stepped together (native vector env).

    Same game, arguments, spaces (batched), rewards and observations as :class:`PersuasionSchemeEnv`; autoreset
    ``NEXT_STEP`` (default: an episode is one step, so a sub-env that just played is reset by the next step) or
    ``SAME_STEP`` (see :mod:`stratgym.envs.vector`). The agent's answers to every scheme of the batch come from one
    product and a few passes over the batch (:func:`~stratgym.envs.persuasion.core.scheme_outcomes`, the scalar
    env's rule); ``reward="sampled"`` draws the region, the recommendation (and a quantal agent's action) of each
    sub-env from this env's ``np_random``, sub-env after sub-env. ``info``: the scalar env's keys batched
    (``scheme`` ``(num_envs, R, A)``, ``responses`` ``(num_envs, A)``, ``principal_value``, ...), each with its mask.

    ```python
    >>> import numpy as np
    >>> from stratgym.envs.persuasion import PersuasionSchemeVectorEnv
    >>> envs = PersuasionSchemeVectorEnv(num_envs=2)
    >>> obs, info = envs.reset(seed=0)
    >>> obs, rewards, terminated, truncated, info = envs.step(np.ones((2,) + envs.single_action_space.shape))
    >>> bool(rewards[0] == rewards[1]), terminated
    (True, array([ True,  True]))

    ```
    """

    def __init__(self, num_envs: int = 1, game: PersuasionGame | None = None, reward: str = "expected",
                 regions: Regions | None = None, tie_tol: float = TIE_TOL, penalty_weight: float | None = None,
                 bic_margin: float | None = None, agent: Bayesian | Quantal | str | float | None = None,
                 autoreset_mode=AutoresetMode.NEXT_STEP, *, agent_beta: float | None = None):
        single = PersuasionSchemeEnv(game, reward, regions, tie_tol, penalty_weight=penalty_weight,
                                     bic_margin=bic_margin, agent=agent_argument(agent, None, agent_beta=agent_beta))
        super().__init__(single, num_envs, autoreset_mode)
        self.game, self.regions = single.game, single.regions
        self._region_cdf = np.array(single.region_cdf)
        self._observation = np.repeat(single.constant_observation[None], self.num_envs, axis=0)

    def _restart(self, rows) -> dict:
        return {}

    def _map_actions(self, actions) -> np.ndarray:
        """The schemes laid out batch last for the product of ``scheme_outcomes`` when every entry lies inside the box (a
        policy's actions; the same bits as ``simplex_action``), else through ``simplex_action``'s checks."""
        if isinstance(actions, np.ndarray) and actions.shape == self.action_space.shape \
                and actions.dtype in (np.float32, np.float64) and max(-actions.min(), actions.max()) < 1.0:  # not NaN
            return batch_last_simplex(actions)
        return super()._map_actions(actions)

    def _play(self, rows, mapped: np.ndarray, actions):
        single = self.single
        schemes = mapped[rows]
        widening = precision_slack(actions, self.regions.n_actions) * single.precision_unit
        outcomes = scheme_outcomes(single.weighted, schemes, single.tie_tol, widening)
        rewards, info, choice = single.scheme_values(schemes, outcomes)
        responses = outcomes[1]
        if single.reward == "sampled":
            k = len(schemes)
            u = self.np_random.random((k, 3 if single.quantal else 2))
            envs = np.arange(k)
            region = draw_indices(self._region_cdf, u[:, 0])
            recommendation = draw_indices(cumulative_rows(schemes[envs, region]), u[:, 1])
            taken = (draw_indices(cumulative_rows(choice[envs, recommendation]), u[:, 2]) if single.quantal
                     else responses[envs, recommendation])
            rewards = self.regions.principal_payoffs[region, taken]
            info |= {"region": region, "recommendation": recommendation, "action": taken}
        return rewards, np.ones(len(schemes), dtype=bool), info

    def _observations(self) -> np.ndarray:
        return self._observation.copy()
