"""``stratgym/PersuasionAgent-v0``: the decision subject hears a recommendation from a committed scheme and acts; its
scalar env and native vector env, both on :mod:`stratgym.envs.persuasion.core`."""

from __future__ import annotations

from typing import Callable

import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode

from stratgym.envs.persuasion.core import (PersuasionRoundEnv, cumulative_rows, draw_index, draw_indices,
                                           recommendation_observation)
from stratgym.envs.spaces import discrete_action
from stratgym.envs.vector import RoundVectorEnv, count
from stratgym.games.persuasion import (TIE_TOL, PersuasionGame, Regions, check_scheme, evaluate_scheme,
                                       full_revelation_scheme, no_information_scheme)

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


class PersuasionAgentEnv(PersuasionRoundEnv):
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

    ## Vectorized environment

    :class:`PersuasionAgentVectorEnv` steps many episodes at once with numpy (vector entry point
    ``stratgym.envs.persuasion:PersuasionAgentVectorEnv``, autoreset ``NEXT_STEP`` or ``SAME_STEP``).

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
        #: Cumulative recommendation probabilities ``(R, A)`` of each region (the law of a recommendation).
        self.scheme_cdf = cumulative_rows(self.scheme)
        self._scheme_cdf = self.scheme_cdf.tolist()
        n_actions, features = self.regions.n_actions, self.game.features
        self.action_space = spaces.Discrete(n_actions)
        self.observation_space = spaces.Box(low=-1.0, high=1.0, shape=(n_actions + features.size,), dtype=np.float32)
        #: The observation ``(A, A + m)`` on hearing each recommendation.
        self.observations = np.array([recommendation_observation(self.game, a) for a in range(n_actions)])
        self._observation_rows = list(self.observations)  # a list: one env's step indexes it without numpy
        self._region, self._recommendation = 0, 0

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self._round = 0
        self._region = self._draw_region()
        self._recommendation = draw_index(self._scheme_cdf[self._region], self.np_random.random())
        info = {"recommendation": self._recommendation}
        self._last_info = info
        return self._observation_rows[self._recommendation].copy(), dict(info)

    def step(self, action):
        self._begin_step()
        taken = discrete_action(self.action_space, action)
        region = self._region
        reward = float(self.regions.agent_payoffs[region, taken])
        info = {"recommendation": self._recommendation, "region": region, "action": taken,
                "principal_utility": float(self.regions.principal_payoffs[region, taken]),
                "best_response": int(self.evaluation.responses[self._recommendation])}
        self._round = 1
        self._last_info = info
        return self._observation_rows[self._recommendation].copy(), reward, True, False, info


class PersuasionAgentVectorEnv(RoundVectorEnv):
    """``num_envs`` :class:`PersuasionAgentEnv` episodes stepped together (native vector env).

    Same game, scheme, spaces (batched), rewards and observations as :class:`PersuasionAgentEnv`; autoreset
    ``NEXT_STEP`` (default: an episode is one decision, so a sub-env that just acted is reset by the next step) or
    ``SAME_STEP`` (see :mod:`stratgym.envs.vector`). Each new episode draws its region and then its recommendation
    from this env's ``np_random``, sub-env after sub-env; the reset info has each new ``recommendation``. ``info`` of
    a step: the scalar env's keys batched, each with its mask.

    ```python
    >>> import numpy as np
    >>> from stratgym.envs.persuasion import PersuasionAgentVectorEnv
    >>> envs = PersuasionAgentVectorEnv(num_envs=2, scheme="no-information")
    >>> obs, info = envs.reset(seed=0)
    >>> info["recommendation"]
    array([0, 0])

    ```
    """

    def __init__(self, num_envs: int = 1, game: PersuasionGame | None = None, scheme: str | np.ndarray = "optimal",
                 regions: Regions | None = None, tie_tol: float = TIE_TOL, autoreset_mode=AutoresetMode.NEXT_STEP):
        single = PersuasionAgentEnv(game, scheme, regions, tie_tol)
        super().__init__(single, num_envs, autoreset_mode)
        self.game, self.regions = single.game, single.regions
        self._region_cdf = np.array(single.region_cdf)
        self._regions = np.zeros(self.num_envs, dtype=np.int64)
        self._recommendations = np.zeros(self.num_envs, dtype=np.int64)

    def _restart(self, rows) -> dict:
        u = self.np_random.random((count(rows, self.num_envs), 2))  # per new episode: its region, its recommendation
        regions = draw_indices(self._region_cdf, u[:, 0])
        recommendations = draw_indices(self.single.scheme_cdf[regions], u[:, 1])
        self._regions, self._recommendations = self._regions.copy(), self._recommendations.copy()
        self._regions[rows], self._recommendations[rows] = regions, recommendations
        return {"recommendation": recommendations}

    def _play(self, rows, mapped: np.ndarray, actions):
        taken, region, recommendation = mapped[rows], self._regions[rows], self._recommendations[rows]
        info = {"recommendation": recommendation, "region": region, "action": taken,
                "principal_utility": self.regions.principal_payoffs[region, taken],
                "best_response": self.single.evaluation.responses[recommendation]}
        return self.regions.agent_payoffs[region, taken], np.ones(len(taken), dtype=bool), info

    def _observations(self) -> np.ndarray:
        return self.single.observations[self._recommendations]
