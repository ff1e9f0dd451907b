"""Gymnasium environments of populations: one principal policy facing many decision subjects.

| Environment | Who learns | One step is | Opponent |
|---|---|---|---|
| ``StatefulPopulationEnv`` (``stratgym/StatefulPopulation-v0``) | principal | one round: publish ``theta_t`` (or one rule per group) | every agent type of a :class:`~stratgym.games.population.StatefulPopulation`, myopic or forecasting |
| ``PersuasionPopulationEnv`` (``stratgym/PersuasionPopulation-v0``) | principal | one applicant: commit to a scheme over every decision pattern | the applicant's Bayesian best response |

Both take their population as an object or by name (``NAMED_POPULATIONS``, ``NAMED_APPLICANTS``), report the
social metrics of :mod:`stratgym.games.metrics` in ``info`` and import nothing from ``stratgym.baselines``.
"""

from __future__ import annotations

import functools
from typing import Sequence

import numpy as np
from gymnasium import spaces

from stratgym.envs.base import RoundEnv
from stratgym.envs.persuasion.core import BIC_MARGIN
from stratgym.envs.population_core import (APPLICANT_METRICS, ApplicantTable, PopulationEpisodes, PopulationRounds,
                                          applicant_step)
from stratgym.envs.spaces import simplex_action, simplex_box
from stratgym.games.behaviour import Bayesian, Lookahead, agent_argument, as_behaviour
from stratgym.games.validation import as_bool, as_nonnegative_float, as_positive_int, check_instance
from stratgym.games.applicants import (NAMED_APPLICANTS, ApplicantPopulation, pattern_rows, pattern_table,
                                       synthetic_applicants)
from stratgym.games.persuasion import TIE_TOL
from stratgym.games.population import NAMED_POPULATIONS, StatefulPopulation, classroom_groups
from stratgym.games.ties import precision_slack


def _named(value, kind: type, names: dict, default, what: str):
    """``value`` if it is a ``kind``; a name of ``names`` built with its defaults; ``None``: ``default()``."""
    if value is None:
        return default()
    if isinstance(value, str):
        if value not in names:
            raise ValueError(f"{what} must be a {kind.__name__} or one of {sorted(names)}, got {value!r}")
        return names[value]()
    return check_instance(value, kind, what)


class StatefulPopulationEnv(RoundEnv):
    """The principal publishes one rule per round to a whole population of agent types.

    | | |
    |---|---|
    | Creation | ``gym.make("stratgym/StatefulPopulation-v0", population=None, agent=None, per_group=False)`` (``None``: ``Lookahead(None)``, forecasting) |
    | Actions | Box ``[-1, 1]^n`` onto the simplex (``per_group``: ``[-1, 1]^(G, n)``, one rule per group) |
    | Observations | Box ``[0, 1]^(1 + n + G' n (+ G n))``: round, average features, last rules |
    | Players | principal (learns); every agent type, a ``Lookahead(k)`` agent (myopic, forecasting, ...; ties to the principal) |
    | Reference solver | ``stratgym.baselines.population.population_optimum(population, agent, per_group)`` (exact MILP) |
    | Known optimum | default ``classroom_groups()``, forecasting: ``U_P* = 3.35`` (uniform rule: 1.65) |

    ## Description

    The stateful game (Harris, Heidari, Wu, NeurIPS 2021) against a population
    (:class:`~stratgym.games.population.StatefulPopulation`): every type ``k`` (own ``W``, budget, retention, initial
    state) faces the published rule of its group and answers round by round as
    :class:`~stratgym.envs.stateful.StatefulPrincipalEnv`'s ``Lookahead(k)`` agent does (e.g. ``"myopic"``, ties to
    the principal, widened by the action's precision, :mod:`stratgym.games.ties`). The principal never sees
    efforts or states, only the population's weighted average features. With ``per_group=True`` the principal
    publishes one rule per group, so group-specific and common rules can be compared.

    ## Action Space

    ``Box(-1, 1, (n,), float32)`` (``per_group``: ``(G, n)``, rows in the order of ``population.group_names``),
    mapped row-wise by ``box_to_simplex`` to rules ``theta_t``.

    ## Observation Space

    | Num | Observation | Min | Max |
    |-----|-------------|-----|-----|
    | 0 | rounds played ``t / T`` | 0 | 1 |
    | ``1 .. n`` | last round's weighted average features ``/ O`` (``O`` the largest type's ``feature_bounds``; 0 before round 1) | 0 | 1 |
    | next ``G n`` (``per_group`` only) | last round's average features per group ``/ O`` | 0 | 1 |
    | last ``G' n`` | last rules (``G' = G`` with ``per_group``, else 1; 0 before round 1) | 0 | 1 |

    ## Rewards

    ``sum_k w_k lambda^k . e^k_t``: the population's weighted principal utility of this round; the return is the
    population's ``U_P``.

    ## Starting State

    Every type at its initial state ``s_1``; ``reset`` draws nothing (the response models are deterministic).

    ## Episode End

    Termination after the ``T``-th round. No truncation.

    ## Arguments

    ```python
    >>> import gymnasium as gym
    >>> import numpy as np
    >>> import stratgym
    >>> env = gym.make("stratgym/StatefulPopulation-v0")
    >>> obs, info = env.reset(seed=0)
    >>> project = np.array([-1.0, -1.0, 1.0], dtype=np.float32)  # all weight on the project score
    >>> total = sum(env.step(project)[1] for _ in range(5))
    >>> round(total, 6)  # the optimum, 3.35, mixes in other weights
    3.15

    ```

    | Parameter | Type | Default | Description |
    |---|---|---|---|
    | ``population`` | ``StatefulPopulation``, a name of ``NAMED_POPULATIONS`` or ``None`` | ``None`` (``classroom_groups()``) | the agent types |
    | ``agent`` | ``Lookahead(k)``, ``"myopic"``, ``"forecasting"`` or ``None`` | ``None`` (``Lookahead(None)``) | every type's response (``response_model=``: its deprecated name) |
    | ``per_group`` | bool | ``False`` | one rule per group |
    | ``render_mode`` | ``"ansi"``, ``"rgb_array"`` or ``None`` | ``None`` | text, or a numpy-drawn frame of the last step |

    ``info`` of a step: ``rules`` ``(G', n)``, ``efforts`` ``(K, d)``, ``states`` ``(K, d)``, ``features`` ``(K, n)``,
    ``average_features`` ``(n,)``; after the last round also ``metrics``, the social metrics of the episode
    (:meth:`~stratgym.games.metrics.SocialMetrics.flat`: per group, overall and disparities).

    ## Version History

    * v0: Initial version.
    """

    def __init__(self, population: StatefulPopulation | str | None = None, agent: Lookahead | str | None = None,
                 per_group: bool = False, render_mode: str | None = None, *, response_model: str | None = None):
        self.population = _named(population, StatefulPopulation, NAMED_POPULATIONS, classroom_groups, "population")
        super().__init__(render_mode, self.population.horizon)
        agent = as_behaviour(agent_argument(agent, Lookahead(None), response_model=response_model))
        if type(agent) is not Lookahead:
            raise ValueError(f"agent must be a Lookahead(k) ('myopic', 'forecasting', ...): every type answers each "
                             f"round's rule as the game's per-round agent, got {agent!r}")
        #: Every type's behaviour: a ``Lookahead(k)``.
        self.agent = agent
        self.per_group = as_bool(per_group, "per_group")
        #: The episodes' parameters and pure step, shared with the vector env (:class:`PopulationRounds`).
        self.rounds = PopulationRounds(self.population, agent, self.per_group)
        groups, n = len(self.population.group_names), self.population.n_features
        self.action_space = simplex_box(groups, n) if self.per_group else simplex_box(n)
        self.observation_space = spaces.Box(low=0.0, high=1.0, shape=(self.rounds.observation_size,),
                                            dtype=np.float32)
        self._episode: PopulationEpisodes | None = None

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self._round = 0
        self._episode = self.rounds.start(1)
        self._last_info = {}
        return self.rounds.observations(self._episode)[0].copy(), {}

    def step(self, action):
        self._begin_step()
        rules = simplex_action(self.action_space, action).reshape(1, self.rounds.rule_rows, -1)
        tie_tol = TIE_TOL + precision_slack(action, self.population.n_features)
        self._episode, rewards, info = self.rounds.step(self._episode, rules, self.np_random, tie_tol)
        info = {key: {name: float(value[0]) for name, value in entry.items()} if key == "metrics" else entry[0]
                for key, entry in info.items()}
        self._round += 1
        self._last_info = info
        return (self.rounds.observations(self._episode)[0].copy(), float(rewards[0]), self._round == self.population.horizon,
                False, info)


@functools.lru_cache(maxsize=1)
def default_applicants() -> ApplicantPopulation:
    """The default population of :class:`PersuasionPopulationEnv`: 40 of the synthetic rejected applicants, spread
    over their fitted scores (:func:`~stratgym.games.applicants.synthetic_applicants`); built once (its regions
    are cached on it as they are computed)."""
    return synthetic_applicants(max_applicants=40)


#: Splits of :class:`PersuasionPopulationEnv`.
SPLITS = ("train", "evaluation", "all")


def split_applicants(groups: Sequence[str], evaluation_fraction: float, split_seed: int) -> dict[str, np.ndarray]:
    """``{"train", "evaluation", "all"}`` applicant indices (sorted), stratified by group so that both sets hold every
    group with two or more members: within each group a seeded permutation, its first ``max(1, round(fraction n_g))``
    members held out (at most ``n_g - 1``; a group of one trains)."""
    groups = list(groups)
    if len(groups) < 2:
        raise ValueError(f"a train/evaluation split needs at least 2 applicants, got {len(groups)}; use split='all'")
    fraction = as_nonnegative_float(evaluation_fraction, "evaluation_fraction")
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"evaluation_fraction must lie in (0, 1), got {evaluation_fraction!r}")
    rng = np.random.default_rng(as_positive_int(split_seed, "split_seed", minimum=0))
    held_out = []
    for group in dict.fromkeys(groups):
        members = rng.permutation([i for i, g in enumerate(groups) if g == group])
        held_out.extend(members[:min(max(1, round(fraction * len(members))), len(members) - 1)].tolist())
    evaluation = np.sort(np.array(held_out, dtype=np.int64))
    return {"train": np.setdiff1d(np.arange(len(groups)), evaluation), "evaluation": evaluation,
            "all": np.arange(len(groups))}


class PersuasionPopulationEnv(RoundEnv):
    """Each episode an applicant arrives; the principal sees its features and group and commits to a scheme.

    | | |
    |---|---|
    | Creation | ``gym.make("stratgym/PersuasionPopulation-v0", population=None, split="train", reward="expected")`` |
    | Actions | Box ``[-1, 1]^(2^A, A)``, row-wise onto the simplex: a scheme over every decision pattern |
    | Observations | Box ``[0, 1]^(m - 1 + G + 2^A)``: features, group one-hot, pattern masses |
    | Players | principal (learns, one contextual policy for every applicant); the applicant (posterior best response, ties to obedience) |
    | Reference solver | per applicant ``stratgym.baselines.signaling.optimal_scheme(population.regions(i))``, averaged over the episodes (``stratgym.baselines.applicants.population_signaling`` over the population) |
    | Known optimum | default population, all applicants: mean LP value 0.385 (full revelation 0.123, no information 0) |

    ## Description

    Bayesian persuasion for algorithmic recourse (Harris et al., NeurIPS 2022) over a population of applicants
    (:class:`~stratgym.games.applicants.ApplicantPopulation`): all face one secret rule ``theta`` drawn from the
    shared prior, each from its own features ``x_0``. An episode draws an applicant of the env's ``split`` (with
    the population's weights, from ``self.np_random``), shows it, and the principal commits to a scheme for it:
    a recommendation distribution for every decision pattern (``2^A`` rows in the order of
    :func:`~stratgym.games.applicants.pattern_table`, so one action space fits every applicant; rows of patterns
    that are not the applicant's regions are ignored). The applicant best-responds to each recommendation's
    posterior, exactly as in ``PersuasionScheme-v0`` (ties within ``tie_tol`` widened by the action's precision).
    A policy must generalize across applicants: train on ``split="train"``, score on ``split="evaluation"``, the
    held-out applicants (a seeded split, ``evaluation_fraction`` of each group: :func:`split_applicants`).

    ## Action Space

    ``Box(-1, 1, (2^A, A), float32)``; row ``r`` is mapped by ``box_to_simplex`` to the recommendation distribution
    when the rule's pattern is ``pattern_table(A)[r]``.

    ## Observation Space

    | Num | Observation | Min | Max |
    |-----|-------------|-----|-----|
    | ``0 .. m-2`` | the applicant's features but the intercept, min-max scaled over the population | 0 | 1 |
    | next ``G`` | one-hot group (order of ``population.group_names``) | 0 | 1 |
    | last ``2^A`` | prior mass of each pattern for this applicant (0 for patterns that are not its regions) | 0 | 1 |

    The masses are a function of the features and the public prior; they are shown so that a policy need not
    re-derive the Gaussian orthant probabilities.

    ## Rewards

    ``reward="expected"`` (default): the principal's exact expected utility ``E[u_P]`` of the scheme for this
    applicant (:func:`~stratgym.games.persuasion.evaluate_scheme`).

    ``reward="penalized"``, for training only (score learners with ``"expected"``): as in
    ``PersuasionScheme-v0``, the expected reward is 0 on most of the box and drops where a recommendation stops
    being obeyed, right at each applicant's optimum, which stalls gradient learners. This reward is the
    exact-penalty relaxation of the applicant's signaling LP
    (:func:`~stratgym.envs.persuasion.core.penalized_value`, the scheme env's function): the principal's utility
    if the applicant obeyed, minus ``penalty_weight`` times each recommendation's BIC violation measured with
    margin ``bic_margin`` (posterior utility units). On schemes BIC with that margin it equals the expected
    reward; for a weight above the LP's BIC multipliers its maximum is the applicant's LP optimum tightened by the
    margin. ``penalty_weight=None``: :func:`~stratgym.envs.persuasion.core.conservative_penalty_weight` of the
    episode's applicant (20 for every applicant of the default population).

    ## Starting State

    An applicant of the split drawn with the population's weights; ``reset(options={"applicant": i})`` picks
    population row ``i`` (it must be in the split).

    ## Episode End

    The applicant's answer to the one scheme terminates the episode; it is never truncated.

    ## Arguments

    ``reset(options={"applicant": i})`` picks an applicant of the split, here held-out applicant 2 of the default
    population. The zero action recommends every action equally in every pattern, which tells it nothing: the
    principal earns 0, and the social metrics of that applicant's response come with the reward.

    ```python
    >>> import gymnasium as gym
    >>> import numpy as np
    >>> import stratgym
    >>> env = gym.make("stratgym/PersuasionPopulation-v0", split="evaluation")
    >>> obs, info = env.reset(seed=0, options={"applicant": 2})
    >>> info
    {'applicant': 2, 'group': 'income < 0'}
    >>> obs, reward, terminated, truncated, info = env.step(np.zeros((16, 4), dtype=np.float32))
    >>> reward, terminated, sorted(info["metrics"])
    (0.0, True, ['gaming', 'improvement', 'principal', 'recourse', 'welfare'])

    ```

    | Parameter | Type | Default | Description |
    |---|---|---|---|
    | ``population`` | ``ApplicantPopulation``, ``"synthetic"``, ``"german"`` or ``None`` | ``None`` (:func:`default_applicants`) | the applicants |
    | ``split`` | ``"train"``, ``"evaluation"`` or ``"all"`` | ``"train"`` | which applicants episodes draw |
    | ``evaluation_fraction`` | float in (0, 1) | 0.25 | share held out for evaluation |
    | ``split_seed`` | int >= 0 | 0 | seed of the split (not of the episodes) |
    | ``tie_tol`` | float | ``TIE_TOL`` | posterior utilities this close are ties |
    | ``render_mode`` | ``"ansi"``, ``"rgb_array"`` or ``None`` | ``None`` | text, or a numpy-drawn frame of the last step |
    | ``agent`` | ``Bayesian()``, ``"bayesian"`` or ``None`` | ``None`` (``Bayesian()``) | every applicant's behaviour: the posterior best response (the only one this env plays) |
    | ``reward`` | ``"expected"`` or ``"penalized"`` | ``"expected"`` | exact expectation, or the training relaxation |
    | ``penalty_weight`` | float > 0 or ``None`` | ``None`` (the applicant's ``conservative_penalty_weight``) | ``"penalized"`` only: weight of the BIC violation |
    | ``bic_margin`` | float >= 0 or ``None`` | ``None`` (``BIC_MARGIN``) | ``"penalized"`` only: margin of the BIC constraints |

    ``info``: ``applicant`` (population row) and ``group`` after reset and step; after the step also ``scheme``
    ``(R, A)`` (the applicant's regions), ``responses``, ``principal_value``, ``agent_value``, ``bic_slack`` (exact,
    whatever the reward), ``metrics``, the applicant's social metrics (improvement, gaming, recourse, welfare,
    principal), and for ``"penalized"`` the ``bic_violation``.

    ## Version History

    * v0: Initial version.
    """

    def __init__(self, population: ApplicantPopulation | str | None = None, split: str = "train",
                 evaluation_fraction: float = 0.25, split_seed: int = 0, tie_tol: float = TIE_TOL,
                 render_mode: str | None = None, agent: Bayesian | str | None = None, reward: str = "expected",
                 penalty_weight: float | None = None, bic_margin: float | None = None):
        super().__init__(render_mode, 1)
        #: Every applicant's behaviour: the Bayesian agent.
        self.agent = as_behaviour(Bayesian() if agent is None else agent)
        if not isinstance(self.agent, Bayesian):
            raise ValueError(f"agent of PersuasionPopulation-v0 must be Bayesian() (every applicant best-responds to its "
                             f"posterior), got {self.agent!r}")
        self.population = _named(population, ApplicantPopulation, NAMED_APPLICANTS, default_applicants, "population")
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
        self.split = split
        population = self.population
        self.applicants = (np.arange(population.n_applicants) if split == "all" else
                           split_applicants(population.groups, evaluation_fraction, split_seed)[split])
        self.tie_tol = as_nonnegative_float(tie_tol, "tie_tol")
        if reward not in ("expected", "penalized"):
            raise ValueError(f"reward must be 'expected' or 'penalized', got {reward!r}")
        for name, value in (("penalty_weight", penalty_weight), ("bic_margin", bic_margin)):
            if value is not None and reward != "penalized":
                raise ValueError(f"{name} applies only to reward='penalized' (reward is {reward!r}); leave it None")
        self.reward = reward
        if reward == "penalized":
            #: ``None``: each applicant's ``conservative_penalty_weight`` (``table.penalty_weights``, filled as drawn).
            self.penalty_weight = (None if penalty_weight is None
                                   else as_nonnegative_float(penalty_weight, "penalty_weight", positive=True))
            self.bic_margin = BIC_MARGIN if bic_margin is None else as_nonnegative_float(bic_margin, "bic_margin")
        n_actions = population.template.n_actions
        self.patterns = pattern_table(n_actions)
        self.action_space = simplex_box(len(self.patterns), n_actions)
        m, groups = population.template.n_features, len(population.group_names)
        self.observation_space = spaces.Box(0.0, 1.0, (m - 1 + groups + len(self.patterns),), np.float32)
        low, high = population.features[:, 1:].min(axis=0), population.features[:, 1:].max(axis=0)
        self._low, self._span = low, np.where(high > low, high - low, 1.0)
        weights = population.weights[self.applicants]
        #: The split's applicants' cumulative draw probabilities (their weights renormalized; uniform if all are 0),
        #: a list for ``searchsorted`` on one draw; the vector env draws its batch from the same numbers.
        self.cumulative_weights = np.cumsum(weights / weights.sum() if weights.sum() > 0 else
                                     np.full(len(weights), 1.0 / len(weights))).tolist()
        self._applicant = None
        #: Every applicant's arrays for the core's step (:mod:`stratgym.envs.population_core`), shared with the
        #: vector env.
        self.table = ApplicantTable(population, self._observation, self.observation_space.shape[0],
                                    penalty=reward == "penalized")

    def _observation(self, applicant: int) -> np.ndarray:
        population = self.population
        regions = population.regions(applicant)
        masses = np.zeros(len(self.patterns))
        masses[pattern_rows(regions)] = regions.masses / regions.masses.sum()
        group = np.array([g == population.groups[applicant] for g in population.group_names], dtype=np.float64)
        features = (population.features[applicant, 1:] - self._low) / self._span
        return np.clip(np.concatenate([features, group, masses]), 0.0, 1.0).astype(np.float32)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        chosen = (options or {}).get("applicant")
        if chosen is None:
            draw = self.np_random.random()
            chosen = int(self.applicants[min(np.searchsorted(self.cumulative_weights, draw, side="right"),
                                             len(self.applicants) - 1)])
        elif chosen not in set(self.applicants.tolist()):
            raise ValueError(f"options['applicant'] must be an applicant of split {self.split!r}, got {chosen!r}")
        self._applicant = int(chosen)
        self._round = 0
        info = {"applicant": self._applicant, "group": self.population.groups[self._applicant]}
        self._last_info = {}
        self.table.ensure(np.array([self._applicant]))
        return self.table.observations[self._applicant].copy(), info

    def step(self, action):
        self._begin_step()
        applicant = np.array([self._applicant])
        scheme = simplex_action(self.action_space, action)
        # The core's step for a batch of one: the vector env's arithmetic, bit for bit.
        penalty = (self.penalty_weight, self.bic_margin) if self.reward == "penalized" else None
        values = applicant_step(self.table, applicant, scheme[None], self.tie_tol,
                                precision_slack(action, self.population.template.n_actions), penalty)
        first = {name: value[0] for name, value in values.items()}
        info = {"applicant": self._applicant, "group": self.population.groups[self._applicant],
                "scheme": first["scheme"], "responses": first["responses"],
                **{name: float(first[name]) for name in ("principal_value", "agent_value", "bic_slack")},
                "metrics": {name: float(first[name]) for name in APPLICANT_METRICS}}
        reward = info["principal_value"]
        if penalty is not None:
            reward, info["bic_violation"] = float(first["reward"]), float(first["bic_violation"])
        self._round = 1
        self._last_info = info
        return self.table.observations[self._applicant].copy(), float(reward), True, False, info

