"""Reference values and social metrics of the population envs (``StatefulPopulation-v0``, ``PersuasionPopulation-v0``).

Each ``*_reference(env, n_episodes, seed)`` returns the :class:`~stratgym.agents.references.ReferenceValues` it
determines, in the units of the env's return:

* stateful population: the exact population optimum against the env's response model
  (:func:`~stratgym.baselines.population.population_optimum`, per group if the env publishes per-group rules) and
  the common-rule baselines of :func:`~stratgym.baselines.population.population_baselines`;
* persuasion population: per evaluation episode ``seed + e``, the drawn applicant's signaling LP optimum, full
  revelation and no information, averaged over the episodes the scorer plays (paired with the learner's score);
  with the env on ``split="evaluation"`` these are the held-out applicants.

:func:`policy_metrics` gives any policy's social metrics (per group, overall, disparities) on the same episodes.
"""

from __future__ import annotations

from typing import Any, Callable

import gymnasium as gym
import numpy as np

from stratgym.agents.evaluate import act, score_basis, score_policy
from stratgym.agents.references import ROBUST_MARGIN, ReferenceValues
from stratgym.agents.references.persuasion import robust_signaling
from stratgym.baselines.applicants import POLICIES
from stratgym.baselines.population import population_baselines, population_optimum
from stratgym.games.applicants import ApplicantPopulation, applicant_metrics, population_metrics
from stratgym.games.stateful import round_scales



def _uniform(env: gym.Env, n_episodes: int, seed: int) -> float:
    zeros = np.zeros(env.action_space.shape, dtype=env.action_space.dtype)
    return float(score_policy(lambda observation: zeros, env, n_episodes, seed).mean)


def stateful_population_reference(env: gym.Env, n_episodes: int, seed: int) -> ReferenceValues:
    """``StatefulPopulation-v0``: the exact population optimum and the common-rule baselines."""
    unwrapped = env.unwrapped
    population, model = unwrapped.population, unwrapped.agent
    optimal = population_optimum(population, model, per_group=unwrapped.per_group)
    baselines = {name: float(result.principal_value)
                 for name, result in population_baselines(population, model).items()}
    if unwrapped.per_group:
        baselines["common optimum"] = float(population_optimum(population, model).principal_value)
    margin = ROBUST_MARGIN * min(float(round_scales(game, model).min()) for game in population.types)
    try:
        robust = float(population_optimum(population, model, per_group=unwrapped.per_group, margin=margin).principal_value)
        note = (f"population_optimum(population, {model!r}, margin={margin:.3g}) ({ROBUST_MARGIN:g} x the smallest "
                f"round scale of any type)")
    except ValueError as error:  # no rule gives every type a strict incentive
        robust, note = None, f"none at margin {margin:.3g}: {error}"
    return ReferenceValues(float(optimal.principal_value), baselines, _uniform(env, 1, seed), robust, note,
                           score_basis(env), metrics=optimal.metrics.flat())


def persuasion_population_reference(env: gym.Env, n_episodes: int, seed: int) -> ReferenceValues:
    """``PersuasionPopulation-v0``: each evaluation episode's applicant solved exactly, averaged over the episodes."""
    population = env.unwrapped.population
    totals = dict.fromkeys(POLICIES, 0.0)
    robust, notes, chosen, optimal_metrics = 0.0, [], [], []
    for episode in range(n_episodes):
        applicant = env.reset(seed=seed + episode)[1]["applicant"]
        regions = population.regions(applicant)
        for name, solver in POLICIES.items():
            result = solver(regions)
            totals[name] += result.principal_value
            if name == "optimal signaling":
                optimal_metrics.append(applicant_metrics(regions, result.scheme))
        chosen.append(applicant)
        value, note = robust_signaling(regions)
        robust = None if robust is None or value is None else robust + value
        notes.append(note)
    means = {name: total / n_episodes for name, total in totals.items()}
    optimum = means.pop("optimal signaling")
    robust_note = (f"mean over the episodes' applicants of optimal_scheme(regions, bic_margin={ROBUST_MARGIN:g} x the "
                   f"range of the applicant's u_A)" if robust is not None
                   else next(note for note in notes if note.startswith("none")))
    return ReferenceValues(float(optimum), means, _uniform(env, n_episodes, seed),
                           None if robust is None else robust / n_episodes, robust_note, score_basis(env),
                           n_episodes=n_episodes,
                           metrics=population_metrics(_episode_population(population, chosen), optimal_metrics).flat())


def _episode_population(population: ApplicantPopulation, chosen: list[int]) -> ApplicantPopulation:
    """The applicants drawn by the evaluation episodes, one entry per episode (equal weights)."""
    return ApplicantPopulation(population.template, population.features[chosen],
                               tuple(population.groups[i] for i in chosen))


def policy_metrics(policy: Callable, env: gym.Env, n_episodes: int = 10, seed: int = 0) -> dict[str, float]:
    """Flat social metrics (:meth:`~stratgym.games.metrics.SocialMetrics.flat`) of ``policy`` (observation -> action,
    deterministic) on the episodes ``seed ..``: ``PersuasionPopulation-v0``: the episodes' applicants as a
    population (one entry per episode, equal weights); ``StatefulPopulation-v0``: the metrics of the episode
    ``seed`` (the env is deterministic)."""
    unwrapped = env.unwrapped
    if hasattr(unwrapped, "applicants"):
        chosen, per_applicant = [], []
        for episode in range(n_episodes):
            observation, info = env.reset(seed=seed + episode)
            chosen.append(info["applicant"])
            per_applicant.append(env.step(act(policy, observation, True))[4]["metrics"])
        return population_metrics(_episode_population(unwrapped.population, chosen), per_applicant).flat()
    observation, _ = env.reset(seed=seed)
    while True:
        observation, _, terminated, truncated, info = env.step(act(policy, observation, True))
        if terminated or truncated:
            return info["metrics"]
