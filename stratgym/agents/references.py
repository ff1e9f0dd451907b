"""What each stratgym env is scored against: env id -> side, description, exact optimum and baselines.

:data:`REFERENCES` is the one table that maps an env id to how its reference values are computed.
Values are in the units of the env's episode return (summed with :func:`Reference.discount`), for the
side that learns in that env, and in the currency learners are scored in
(:func:`stratgym.agents.evaluate.score_policy`: the exact expectation wherever the env gives one):

* stateful principal envs: the exact Stackelberg optimum against the env's agent and the reference rules
  (best constant rule, the one-round optimal rule repeated, uniform weights), all from
  :mod:`stratgym.baselines.stateful`;
* stateful agent env: the exact best-response utility against the principal plan of each evaluation
  episode, and the myopic, forecasting and no-effort agents' utilities against the same plans.
* persuasion: the scheme env against the signaling LP optimum, full revelation and no information
  (:mod:`stratgym.baselines.signaling`, on the env's own regions); the repeated env against the LP value per
  round times the rounds of an episode (the commitment benchmark: the env's receiver learns rather than
  reasons, so this is not an upper bound, ``Reference.upper_bound`` is False), with the three schemes *played*
  against the env's receiver on the evaluation episodes as baselines (sample means: a learning receiver has no
  exact expectation); the agent env against the exact expected utility of the posterior best response
  (``env.evaluation.agent_value``), with "always obey" and "always ignore" as baselines, exact too.

Every reference also has ``uniform``, the value of the policy every learner starts from (the all-zeros Box
action: the uniform rule, scheme or split; on the discrete envs the uniformly random action), the ``b`` of the
normalized score ``(learned - b) / (optimum - b)``, and ``robust_optimum``, the optimum with strict incentives
(margin ``ROBUST_MARGIN`` relative to the game's scale; ``robust_note`` says how, or why there is none), which
shows how much of the optimum rests on the agent's ties.

Values that depend on the episode (a plan or a rule drawn at reset) are averaged over the episodes
``seed .. seed + n_episodes - 1``, the very episodes :func:`stratgym.agents.evaluate.score_policy`
plays with the same ``seed``, so learned and reference values are paired.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import gymnasium as gym
import numpy as np

from stratgym.agents.evaluate import EVAL_SEED, persuasion_agent_value, score_basis, score_policy
from stratgym.agents.instances import make_env
from stratgym.agents.population_references import persuasion_population_reference, stateful_population_reference
from stratgym.baselines.signaling import full_revelation, no_information, optimal_scheme
from stratgym.baselines.stateful import best_constant_rule, repeated_one_round_rule, solve, uniform_weights
from stratgym.envs.persuasion import receiver_context
from stratgym.envs.stateful import PerRoundResponse
from stratgym.games._validation import as_positive_int
from stratgym.games.stateful import RESPONSE_MODELS, best_response, rollout, round_scales


class NoExactReference(ValueError):
    """The env has a reference solver, but not for this configuration (e.g. a quantal or lookahead agent)."""


@dataclass(frozen=True)
class Reference:
    """Reference values of one env instance for its learning side.

    Attributes:
        env_id: the env.
        side: ``"principal"`` or ``"agent"``.
        optimum: the exact optimal expected return.
        baselines: baseline name -> expected return, in a fixed order.
        solver: what computed ``optimum``.
        discount: the discount the returns are summed with (1 except for discounted agents).
        solve_time: seconds spent computing these values.
        n_episodes: how many evaluation episodes the values average over (1 if they do not depend on them).
        optimum_name: what ``optimum`` is, for legends ("exact optimum" unless the env has none).
        uniform: the value of the policy learners start from (module doc); ``None`` in references computed
            before it existed.
        robust_optimum: the optimum with strict incentives, ``None`` if none exists (``robust_note`` says why).
        robust_note: how ``robust_optimum`` was computed, or why there is none.
        score_basis: how these values and the learners' scores are computed: ``"exact"``, ``"exact per
            episode"`` or ``"sampled"`` (:func:`stratgym.agents.evaluate.score_basis`).
        upper_bound: whether ``optimum`` bounds every policy's expected return (not the commitment value of
            ``PersuasionRecommend-v0``); a learner above an upper bound beyond its CI is an error.
    """

    env_id: str
    side: str
    optimum: float
    baselines: dict[str, float] = field(default_factory=dict)
    solver: str = ""
    discount: float = 1.0
    solve_time: float = 0.0
    n_episodes: int = 1
    optimum_name: str = "exact optimum"
    uniform: float | None = None
    robust_optimum: float | None = None
    robust_note: str = ""
    score_basis: str = "sampled"
    upper_bound: bool = True

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return dict(self.__dict__)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Reference":
        """Inverse of :meth:`to_json`."""
        return cls(**data)


@dataclass(frozen=True)
class EnvReference:
    """How one env is scored.

    Attributes:
        side: who learns in it (``"principal"`` or ``"agent"``).
        description: one line for ``stratgym list``.
        solver: one line naming the reference solver.
        compute: ``compute(env, n_episodes, seed) -> _Values`` for an env instance built from the user's kwargs.
        optimum_name: what the optimum is ("exact optimum" unless the env has none).
        upper_bound: whether the optimum bounds every policy (:attr:`Reference.upper_bound`).
    """

    side: str
    description: str
    solver: str
    compute: Callable[[gym.Env, int, int], "_Values"]
    optimum_name: str = "exact optimum"
    upper_bound: bool = True


#: Bumped whenever a :class:`Reference` gains a field or a value changes meaning, so cached references are recomputed.
REFERENCE_VERSION = 2
#: Margin of the robust optima, relative to the game's scale: ``ROBUST_MARGIN x`` the smallest round scale
#: (stateful, :func:`stratgym.games.stateful.round_scales`) or the range of ``u_A`` (persuasion, posterior units).
ROBUST_MARGIN = 1e-3
#: Robust optimum of the agent envs: the agent's own best response rests on no tie of another player.
AGENT_ROBUST_NOTE = "n/a: the agent's own best response (robust optimum = optimum)"


@dataclass(frozen=True)
class _Values:
    """What a family's ``compute`` returns (the fields of :class:`Reference` it determines)."""

    optimum: float
    baselines: dict[str, float]
    uniform: float | None
    robust_optimum: float | None
    robust_note: str
    score_basis: str
    discount: float = 1.0
    n_episodes: int = 1


def _zero_action_value(env: gym.Env, n_episodes: int, seed: int, discount: float = 1.0) -> float:
    """The score of the all-zeros Box action, the uniform rule / scheme / split (``box_to_simplex``) every
    learner starts from, on the evaluation episodes."""
    zeros = np.zeros(env.action_space.shape, dtype=env.action_space.dtype)
    return score_policy(lambda observation: zeros, env, n_episodes, seed, discount=discount).mean


# ---------------------------------------------------------------------------------------------
# Scores against a reference
# ---------------------------------------------------------------------------------------------

#: Scores within ``SCORE_RTOL * max(1, |optimum|)`` of the optimum (or of the uniform value) count as equal to it:
#: the exact optima are stated to about 1e-9 and float32 actions earn them within 1e-6 relative (issue 13, item 1).
SCORE_RTOL = 1e-6


def score_tolerance(optimum: float) -> float:
    """Absolute tolerance of the score checks at ``optimum`` (:data:`SCORE_RTOL`)."""
    return SCORE_RTOL * max(1.0, abs(float(optimum)))


def normalized_score(value: float, optimum: float, uniform: float | None) -> float | None:
    """``(value - b) / (optimum - b)`` with ``b = uniform``, the value of the policy learners start from: 0 for it,
    1 for the optimum, defined whatever the optimum's sign (as Atari's human-normalized scores). ``None`` when
    ``uniform`` is unknown or equals the optimum (within :func:`score_tolerance`): nothing to learn."""
    if uniform is None or abs(optimum - uniform) <= score_tolerance(optimum):
        return None
    return (value - uniform) / (optimum - uniform)


def above_optimum(reference: Reference, seed_means: Sequence[float], ci95: float, basis: str) -> bool:
    """Whether learned values exceed an optimum that is an upper bound (``reference.upper_bound``) by more than
    their uncertainty: an error to surface (the optimum or the scoring is wrong), never a result.

    The rule: the mean over seeds minus its 95% half-width (0 if undefined) above the optimum, beyond
    :func:`score_tolerance`; and with exact scores (``basis`` not ``"sampled"``), any one seed above it, since an
    exact expectation cannot beat the exact optimum.
    """
    if not reference.upper_bound:
        return False
    limit = reference.optimum + score_tolerance(reference.optimum)
    half_width = 0.0 if np.isnan(ci95) else ci95
    if float(np.mean(seed_means)) - half_width > limit:
        return True
    return basis != "sampled" and max(seed_means) > limit


# ---------------------------------------------------------------------------------------------
# Stateful game
# ---------------------------------------------------------------------------------------------

def _robust_stateful(game, model: str) -> tuple[float | None, str]:
    margin = ROBUST_MARGIN * float(round_scales(game, model).min())
    try:
        value = solve(game, model, margin=margin).principal_value
    except ValueError as error:  # no rule achieves the margin (or concave g, where margins are not supported)
        return None, f"none at margin {margin:.3g}: {error}"
    return float(value), f"solve(game, {model!r}, margin={margin:.3g}) ({ROBUST_MARGIN:g} x the smallest round scale)"


def _stateful_principal(env: gym.Env, n_episodes: int, seed: int) -> _Values:
    """Both stateful principal envs: the exact optimum against the env's agent, which must be one the solvers know
    (``"rational"``, or the game's own ``"myopic"`` / ``"forecasting"``)."""
    response_model = env.unwrapped.response_model
    if isinstance(response_model, str):  # the commitment env keeps "rational" as the string
        model = response_model
    elif type(response_model) is PerRoundResponse:
        model = response_model.model
    else:
        raise NoExactReference(f"exact references exist for the game's own response models {RESPONSE_MODELS} "
                               f"only, got {response_model!r}")
    game = env.unwrapped.game
    baselines = {"best constant rule": best_constant_rule(game, model).principal_value,
                 "one-round rule repeated": repeated_one_round_rule(game, model).principal_value,
                 "uniform rule": uniform_weights(game, model).principal_value}
    return _Values(float(solve(game, model).principal_value), {name: float(v) for name, v in baselines.items()},
                   _zero_action_value(env, 1, seed), *_robust_stateful(game, model), score_basis(env))


def _agent(env: gym.Env, n_episodes: int, seed: int) -> _Values:
    game = env.unwrapped.game
    models = {"optimum": "rational", "myopic agent": "myopic", "forecasting agent": "forecasting"}
    totals = dict.fromkeys([*models, "no effort"], 0.0)
    for episode in range(n_episodes):
        plan = env.reset(seed=seed + episode)[1]["theta"]
        for name, model in models.items():
            totals[name] += float(rollout(game, plan, best_response(game, plan, model).effort).agent_utility)
        totals["no effort"] += float(rollout(game, plan, np.zeros((game.horizon, game.n_efforts))).agent_utility)
    means = {name: total / n_episodes for name, total in totals.items()}
    optimum = means.pop("optimum")
    return _Values(optimum, means, _zero_action_value(env, n_episodes, seed, game.discount), optimum,
                   AGENT_ROBUST_NOTE, score_basis(env), game.discount, n_episodes)


# ---------------------------------------------------------------------------------------------
# Persuasion game
# ---------------------------------------------------------------------------------------------

class SchemePolicy:
    """A signaling scheme ``(R, A)`` played as a policy of ``PersuasionRecommend-v0``: recommend ``a ~ scheme[region]``.

    The region is read from the observation's one-hot block; draws come from ``rng``.
    """

    def __init__(self, scheme: np.ndarray, rng: np.random.Generator):
        self.cumulative, self.rng = np.cumsum(np.asarray(scheme, dtype=np.float64), axis=1), rng

    def __call__(self, observation) -> int:
        row = self.cumulative[int(np.argmax(observation[:self.cumulative.shape[0]]))]
        return int(min(np.searchsorted(row, self.rng.random() * row[-1], side="right"), row.size - 1))


def _signaling_values(regions) -> dict[str, Any]:
    return {"optimal signaling": optimal_scheme(regions), "full revelation": full_revelation(regions),
            "no information": no_information(regions)}


def _robust_signaling(regions, rounds: int = 1) -> tuple[float | None, str]:
    """The robust LP value (strict BIC with margin ``ROBUST_MARGIN x`` the range of ``u_A``) times ``rounds``."""
    positive = regions.masses > 0
    margin = ROBUST_MARGIN * float(np.ptp(regions.agent_payoffs[positive]))
    if margin == 0:
        return None, "none: u_A is constant, every recommendation is a tie"
    try:
        value = optimal_scheme(regions, bic_margin=margin).principal_value
    except ValueError as error:
        return None, f"none at bic_margin {margin:.3g}: {error}"
    times = f" x {rounds} rounds" if rounds > 1 else ""
    return float(value) * rounds, (f"optimal_scheme(regions, bic_margin={margin:.3g}){times} "
                                   f"({ROBUST_MARGIN:g} x the range of u_A)")


def _scheme(env: gym.Env, n_episodes: int, seed: int) -> _Values:
    if np.isfinite(env.unwrapped.agent_beta):
        raise NoExactReference(f"exact references exist for the exact Bayesian agent only (agent_beta=inf), got "
                               f"agent_beta={env.unwrapped.agent_beta}")
    regions = env.unwrapped.regions
    results = _signaling_values(regions)
    optimum = results.pop("optimal signaling").principal_value
    return _Values(float(optimum), {name: float(result.principal_value) for name, result in results.items()},
                   _zero_action_value(env, 1, seed), *_robust_signaling(regions), score_basis(env))


def _recommend(env: gym.Env, n_episodes: int, seed: int) -> _Values:
    rounds = env.spec.max_episode_steps if env.spec is not None else None
    if rounds is None:
        raise ValueError("PersuasionRecommend-v0 needs a time limit (max_episode_steps) for its reference values")
    regions = env.unwrapped.regions
    results = _signaling_values(regions)
    baselines = {f"{name} vs this receiver": score_policy(SchemePolicy(result.scheme, np.random.default_rng(seed)),
                                                         env, n_episodes, seed).mean
                 for name, result in results.items()}
    # A learning receiver has no exact expectation: the uniformly random recommender is sampled, like every score.
    uniform_rng = np.random.default_rng(seed)
    uniform = score_policy(lambda observation: int(uniform_rng.integers(regions.n_actions)), env, n_episodes,
                           seed).mean
    return _Values(float(results["optimal signaling"].principal_value) * rounds, baselines, uniform,
                   *_robust_signaling(regions, rounds), score_basis(env), n_episodes=n_episodes)


def _persuasion_agent(env: gym.Env, n_episodes: int, seed: int) -> _Values:
    unwrapped = env.unwrapped
    default = receiver_context(unwrapped.game, unwrapped.regions, unwrapped.tie_tol).default_action
    actions = unwrapped.regions.n_actions
    policies = {"obey the recommendation": lambda obs: int(np.argmax(obs[:actions])),
                "ignore it (prior best response)": lambda obs: default}
    baselines = {name: persuasion_agent_value(policy, unwrapped) for name, policy in policies.items()}
    masses = unwrapped.regions.masses / unwrapped.regions.masses.sum()
    # The uniformly random action, whatever is recommended: its exact expectation.
    uniform = float(masses @ unwrapped.regions.agent_payoffs.mean(axis=1))
    optimum = float(unwrapped.evaluation.agent_value)
    return _Values(optimum, baselines, uniform, optimum, AGENT_ROBUST_NOTE, score_basis(env))


REFERENCES: dict[str, EnvReference] = {
    "stratgym/StatefulCommitment-v0": EnvReference(
        "principal", "stateful game: the principal commits to a whole assessment policy; a rational agent best-responds",
        "baselines.stateful.solve(game, response_model): exact MILP (rational) / per-round optimum (linear g)",
        _stateful_principal),
    "stratgym/StatefulPrincipal-v0": EnvReference(
        "principal", "stateful game, round by round: the principal publishes one rule per round to a myopic/forecasting agent",
        "baselines.stateful.solve(game, response_model): exact per-round optimum (linear g)", _stateful_principal),
    "stratgym/StatefulAgent-v0": EnvReference(
        "agent", "stateful game, round by round: the agent spends its effort budget against a principal plan",
        "games.stateful.best_response(game, plan, 'rational'): exact best response", _agent),
    "stratgym/PersuasionScheme-v0": EnvReference(
        "principal", "persuasion game: the principal commits to a signaling scheme; a Bayesian agent best-responds",
        "baselines.signaling.optimal_scheme(regions): exact signaling LP", _scheme),
    "stratgym/PersuasionRecommend-v0": EnvReference(
        "principal", "repeated persuasion: each round the principal sees the rule's region and recommends to a learning receiver",
        "signaling LP value per round x rounds (the commitment value; no exact optimum against a learning "
        "receiver, which a learner may exploit beyond it)", _recommend, "commitment value (LP x rounds)",
        upper_bound=False),
    "stratgym/PersuasionAgent-v0": EnvReference(
        "agent", "persuasion game, agent side: hear a recommendation from a fixed scheme and act",
        "games.persuasion.evaluate_scheme(...).agent_value: exact expected utility of the posterior best response",
        _persuasion_agent),
    "stratgym/StatefulPopulation-v0": EnvReference(
        "principal", "stateful population: one rule per round (or per group) to every agent type of a population",
        "baselines.population.population_optimum(population, response_model, per_group): exact population MILP",
        lambda env, n_episodes, seed: _Values(**stateful_population_reference(env, n_episodes, seed))),
    "stratgym/PersuasionPopulation-v0": EnvReference(
        "principal", "persuasion population: a contextual scheme per applicant, scored on held-out applicants",
        "baselines.signaling.optimal_scheme per drawn applicant (the signaling LP), averaged over the episodes",
        lambda env, n_episodes, seed: _Values(**persuasion_population_reference(env, n_episodes, seed))),
}


def env_reference(env_id: str) -> EnvReference:
    """The :class:`EnvReference` of ``env_id``; ``ValueError`` listing the known ids otherwise."""
    if env_id not in REFERENCES:
        raise ValueError(f"no reference solver for env {env_id!r}; known envs: {sorted(REFERENCES)}")
    return REFERENCES[env_id]


def reference_values(env_id: str, env_kwargs: dict | None = None, n_episodes: int = 10,
                     seed: int = EVAL_SEED) -> Reference:
    """Compute the :class:`Reference` of ``env_id`` built with ``env_kwargs`` (JSON scheme of :mod:`~stratgym.agents.instances`)."""
    entry = env_reference(env_id)
    n_episodes = as_positive_int(n_episodes, "n_episodes")
    start = time.perf_counter()
    env = make_env(env_id, env_kwargs)
    try:
        values = entry.compute(env, n_episodes, int(seed))
    finally:
        env.close()
    return Reference(env_id=env_id, side=entry.side, optimum=float(values.optimum), baselines=values.baselines,
                     solver=entry.solver, discount=float(values.discount), solve_time=time.perf_counter() - start,
                     n_episodes=values.n_episodes, optimum_name=entry.optimum_name, uniform=values.uniform,
                     robust_optimum=values.robust_optimum, robust_note=values.robust_note,
                     score_basis=values.score_basis, upper_bound=entry.upper_bound)
