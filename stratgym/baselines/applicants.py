"""Signaling over a population of applicants (:mod:`stratgym.games.applicants`): the exact reference is each
applicant's optimal signaling LP (:func:`~stratgym.baselines.signaling.optimal_scheme`), summed and averaged (the
paper's total decision-maker utility), beside full revelation and no information, with social metrics per group."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from stratgym.baselines.signaling import SignalingResult, full_revelation, no_information, optimal_scheme
from stratgym.games._validation import check_instance
from stratgym.games.applicants import ApplicantPopulation, applicant_metrics, population_metrics
from stratgym.games.metrics import SocialMetrics

#: Policy name -> the single-applicant solver it applies to every applicant.
POLICIES: dict[str, Callable] = {"optimal signaling": optimal_scheme, "full revelation": full_revelation,
                                 "no information": no_information}


@dataclass(frozen=True)
class PopulationSignaling:
    """One signaling policy applied to every applicant.

    Attributes:
        policy: a key of :data:`POLICIES`.
        results: one :class:`~stratgym.baselines.signaling.SignalingResult` per applicant.
        principal_values: ``(N,)`` each applicant's expected ``u_P``.
        total: ``sum_i u_P^i``, the decision maker's total utility over the applicants.
        mean: ``sum_i w_i u_P^i``, its weighted average.
        metrics: social metrics per group and overall.
        solve_time: seconds.
    """

    policy: str
    results: tuple[SignalingResult, ...]
    principal_values: np.ndarray
    total: float
    mean: float
    metrics: SocialMetrics
    solve_time: float


def population_signaling(population: ApplicantPopulation,
                         policies: Sequence[str] = tuple(POLICIES)) -> dict[str, PopulationSignaling]:
    """Each of ``policies`` on every applicant of ``population`` (regions computed once per applicant)."""
    check_instance(population, ApplicantPopulation, "population")
    unknown = sorted(set(policies) - set(POLICIES))
    if unknown:
        raise ValueError(f"policies must be among {tuple(POLICIES)}, got {unknown}")
    outputs = {}
    for name in policies:
        start = time.perf_counter()
        results = tuple(POLICIES[name](population.regions(i)) for i in range(population.n_applicants))
        metrics = population_metrics(population, [applicant_metrics(population.regions(i), result.scheme)
                                                  for i, result in enumerate(results)])
        values = np.array([result.principal_value for result in results])
        outputs[name] = PopulationSignaling(name, results, values, float(values.sum()),
                                            float(population.weights @ values), metrics, time.perf_counter() - start)
    return outputs
