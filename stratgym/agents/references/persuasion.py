"""Reference values of the persuasion envs (:mod:`stratgym.envs.persuasion`), named by their registry entries.

* scheme env: the signaling LP optimum, full revelation and no information (:mod:`stratgym.baselines.signaling`, on
  the env's own regions);
* repeated env: against the default learning receiver, the exact upper bound of
  :func:`~stratgym.baselines.trust.learning_receiver_bound` (the trust LP: what any policy can earn from a receiver
  that follows while its running mean beats the prior value of ignoring advice); against any other receiver, the
  LP value per round times the rounds of an episode (the commitment benchmark, not an upper bound:
  ``Reference.upper_bound`` is False); with the three schemes *played* against the env's receiver on the evaluation
  episodes as baselines (sample means: a learning receiver has no exact expectation);
* agent env: the exact expected utility of the posterior best response (``env.evaluation.agent_value``), with
  "always obey" and "always ignore" as baselines, exact too.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from stratgym.agents.evaluate import persuasion_agent_value, score_basis, score_policy
from stratgym.agents.references import (AGENT_ROBUST_NOTE, ROBUST_MARGIN, NoExactReference, ReferenceValues,
                                        zero_action_value)
from stratgym.baselines.signaling import full_revelation, no_information, optimal_scheme
from stratgym.baselines.trust import learning_receiver_bound
from stratgym.envs.persuasion import PersuasionRecommendEnv, receiver_context


#: The solver of ``PersuasionRecommend-v0``'s reference against its default learning receiver.
TRUST_SOLVER = ("baselines.trust.learning_receiver_bound: exact upper bound (LP) on any policy's expected return "
                "against the learning receiver")


class SchemePolicy:
    """A signaling scheme ``(R, A)`` played as a policy of ``PersuasionRecommend-v0``: recommend ``a ~ scheme[region]``.

    The region is read from the observation's one-hot block; draws come from ``rng``.
    """

    def __init__(self, scheme: np.ndarray, rng: np.random.Generator):
        self.cumulative, self.rng = np.cumsum(np.asarray(scheme, dtype=np.float64), axis=1), rng

    def __call__(self, observation) -> int:
        row = self.cumulative[int(np.argmax(observation[:self.cumulative.shape[0]]))]
        return int(min(np.searchsorted(row, self.rng.random() * row[-1], side="right"), row.size - 1))


def learning_receiver_env(env: gym.Env, user: str, history: bool = False) -> PersuasionRecommendEnv:
    """``env.unwrapped`` if it is ``PersuasionRecommend-v0`` with its default
    :class:`~stratgym.envs.persuasion.LearningReceiver` (and, with ``history``, the cumulative gains in its
    observation); otherwise ``ValueError`` saying that ``user`` needs one."""
    unwrapped = env.unwrapped
    if not isinstance(unwrapped, PersuasionRecommendEnv) or not unwrapped.trusted_receiver \
            or (history and not unwrapped.history):
        raise ValueError(f"{user} needs PersuasionRecommend-v0 with its LearningReceiver"
                         f"{' and history=True' if history else ''}, got {unwrapped!r}")
    return unwrapped


class TrustRationing:
    """A hand-written adaptive policy of ``PersuasionRecommend-v0`` against its learning receiver, read from the
    observation alone. Among the recommendations the receiver follows now and would still trust after this round
    (``x_a + u_A(a, s) - V_d >= 0``, ``x_a`` its cumulative gain from following ``a``), it recommends the one that pays
    the principal most over the default action, ties to the receiver's gain; when none pays more, it banks trust:
    the kept recommendation the receiver gains most from among those that cost the principal nothing now and pay it
    in some region; else the default. A feasible policy, so its expected return is a lower bound on the optimum (the
    trust bound is the upper one)."""

    def __init__(self, env: gym.Env):
        unwrapped = learning_receiver_env(env, "TrustRationing", history=True)
        regions = unwrapped.regions
        self.n_regions, self.n_actions = regions.n_regions, regions.n_actions
        self.default, benchmark = unwrapped.context.default_action, unwrapped.no_information_value
        self.pay = regions.principal_payoffs - regions.principal_payoffs[:, [self.default]]  # (R, A) over d
        self.gain = regions.agent_payoffs - benchmark  # (R, A): the receiver's gain over V_d
        self.useful = self.pay.max(axis=0) > 0.0  # worth banking trust for
        self.useful[self.default] = False

    def __call__(self, observation) -> int:
        observation = np.asarray(observation, dtype=np.float64)
        region = int(np.argmax(observation[:self.n_regions]))
        follows = observation[self.n_regions:self.n_regions + self.n_actions] > 0.5
        squashed = observation[self.n_regions + self.n_actions:]
        history = squashed / (1.0 - np.abs(squashed))  # the observation holds x / (1 + |x|)
        pay, gain = self.pay[region], self.gain[region]
        kept = follows & (history + gain >= 0.0)
        kept[self.default] = False
        paying = kept & (pay > 0.0)
        if paying.any():
            best = np.flatnonzero(paying & (pay >= pay[paying].max()))
            return int(best[np.argmax(gain[best])])
        banking = kept & self.useful & (pay >= 0.0) & (gain > 0.0)
        return int(np.argmax(np.where(banking, gain, -np.inf))) if banking.any() else self.default


def _signaling_values(regions) -> dict[str, Any]:
    return {"optimal signaling": optimal_scheme(regions), "full revelation": full_revelation(regions),
            "no information": no_information(regions)}


def robust_margin(regions) -> float:
    """The margin of the persuasion envs' robust optima: ``ROBUST_MARGIN x`` the range of ``u_A`` over the regions of
    positive mass (utility units)."""
    return ROBUST_MARGIN * float(np.ptp(regions.agent_payoffs[regions.masses > 0]))


def robust_signaling(regions, rounds: int = 1) -> tuple[float | None, str]:
    """The robust LP value (strict BIC with margin :func:`robust_margin`) times ``rounds``."""
    margin = robust_margin(regions)
    if margin == 0:
        return None, "none: u_A is constant, every recommendation is a tie"
    try:
        value = optimal_scheme(regions, bic_margin=margin).principal_value
    except ValueError as error:
        return None, f"none at bic_margin {margin:.3g}: {error}"
    times = f" x {rounds} rounds" if rounds > 1 else ""
    return float(value) * rounds, (f"optimal_scheme(regions, bic_margin={margin:.3g}){times} "
                                   f"({ROBUST_MARGIN:g} x the range of u_A)")


def scheme_reference(env: gym.Env, n_episodes: int, seed: int) -> ReferenceValues:
    agent, regions = env.unwrapped.agent, env.unwrapped.regions
    if "lp" not in agent.exact_methods(regions):
        raise NoExactReference(f"exact references exist for the exact Bayesian agent only (Bayesian(), agent_beta=inf), "
                               f"got the {agent.name!r} agent {agent!r}")
    results = _signaling_values(regions)
    optimum = results.pop("optimal signaling").principal_value
    return ReferenceValues(float(optimum), {name: float(result.principal_value) for name, result in results.items()},
                   zero_action_value(env, 1, seed), *robust_signaling(regions), score_basis(env))


def recommend_reference(env: gym.Env, n_episodes: int, seed: int) -> ReferenceValues:
    rounds = env.spec.max_episode_steps if env.spec is not None else None
    if rounds is None:
        raise ValueError("PersuasionRecommend-v0 needs a time limit (max_episode_steps) for its reference values")
    unwrapped = env.unwrapped
    regions = unwrapped.regions
    results = _signaling_values(regions)
    baselines = {f"{name} vs this receiver": score_policy(SchemePolicy(result.scheme, np.random.default_rng(seed)),
                                                         env, n_episodes, seed).mean
                 for name, result in results.items()}
    # A learning receiver has no exact expectation: the uniformly random recommender is sampled, like every score.
    uniform_rng = np.random.default_rng(seed)
    uniform = score_policy(lambda observation: int(uniform_rng.integers(regions.n_actions)), env, n_episodes,
                           seed).mean
    if not unwrapped.trusted_receiver:
        return ReferenceValues(float(results["optimal signaling"].principal_value) * rounds, baselines, uniform,
                               *robust_signaling(regions, rounds), score_basis(env), n_episodes=n_episodes)
    margin = robust_margin(regions)
    return ReferenceValues(receiver_bound(env), baselines, uniform, receiver_bound(env, margin),
                           f"receiver_bound(env, margin={margin:.3g}) ({ROBUST_MARGIN:g} x the range of u_A)",
                           score_basis(env), n_episodes=n_episodes, solver=TRUST_SOLVER,
                           optimum_name="trust bound (LP)", upper_bound=True)


def receiver_bound(env: gym.Env, margin: float = 0.0) -> float:
    """:func:`~stratgym.baselines.trust.learning_receiver_bound` of ``PersuasionRecommend-v0`` ``env`` (its regions,
    receiver context and start values, ``rounds`` = its time limit ``max_episode_steps``): an upper bound on the
    expected episode return of every principal policy, adaptive ones included, against its default
    :class:`~stratgym.envs.persuasion.LearningReceiver`. ``ValueError`` for another env or receiver, or no time limit.
    """
    unwrapped = learning_receiver_env(env, "receiver_bound")
    rounds = env.spec.max_episode_steps if env.spec is not None else None
    if rounds is None:
        raise ValueError("receiver_bound needs the env's time limit (max_episode_steps)")
    context = unwrapped.context
    return learning_receiver_bound(unwrapped.regions, context, unwrapped.receiver.start_values(context), rounds,
                                   margin).value


def agent_reference(env: gym.Env, n_episodes: int, seed: int) -> ReferenceValues:
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
    return ReferenceValues(optimum, baselines, uniform, optimum, AGENT_ROBUST_NOTE, score_basis(env))
