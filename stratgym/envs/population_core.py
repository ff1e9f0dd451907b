"""The pure core of ``PersuasionPopulation-v0`` (as in gymnax): what each applicant's episode needs, computed once
per applicant, and one step for one episode or a batch of episodes facing different applicants, shared by the
scalar env and its native vector env (so the two agree bit for bit).

Every applicant's quantities are laid out over the ``2^A`` decision patterns of
:func:`~stratgym.games.applicants.pattern_table` (rows of patterns that are not its regions are 0), the rows of the
env's action, so a batch's schemes are multiplied as they come, one product per applicant present
(:func:`~stratgym.envs.persuasion.core.scheme_columns`), and the agent's answers and the metrics of the whole batch
are decided together (:func:`~stratgym.envs.persuasion.core.scheme_decisions`).
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from stratgym.envs.persuasion.core import (sum_in_order, column_at, conservative_penalty_weight, penalized_value,
                                           scheme_columns, scheme_decisions)
from stratgym.games.applicants import ApplicantPopulation, pattern_rows, pattern_table
from stratgym.games.linalg import matmul_columns
from stratgym.games.persuasion import precision_unit, weighted_payoffs

#: The metrics of one applicant, in the order of :func:`~stratgym.games.applicants.applicant_metrics`.
APPLICANT_METRICS = ("improvement", "gaming", "recourse", "welfare", "principal")


class ApplicantTable:
    """Per applicant of ``population`` (filled on first use: its regions are the slow part, and cached on the
    population): ``n_regions`` ``(N,)``, ``rows`` ``(N, 2^A)`` (its regions' pattern rows in region order, then
    0s), ``weighted`` ``(N, 2^A, 5A + 1)``,
    ``units`` ``(N,)`` (:func:`~stratgym.games.persuasion.precision_unit`), ``observations`` ``(N, obs_dim)`` from
    ``observe(applicant)`` and, with ``penalty``, ``penalty_weights`` ``(N,)`` (the conservative weights).

    ``weighted[i]``, in pattern order: :func:`~stratgym.games.persuasion.weighted_payoffs` (``2A + 1`` columns), then
    for every action ``b`` the normalized mass where ``b`` is desirable (``u_P > 0``), where it is undesirable and
    not doing nothing, and where the rule approves it: the coefficients of the metrics
    (:func:`~stratgym.games.applicants.applicant_metrics`) of an agent taking ``b``.
    """

    def __init__(self, population: ApplicantPopulation, observe: Callable[[int], np.ndarray], obs_dim: int,
                 penalty: bool = False):
        n_actions = population.template.n_actions
        self.population, self._observe, self._penalty = population, observe, penalty
        count, patterns = population.n_applicants, len(pattern_table(n_actions))
        self.n_regions = np.zeros(count, dtype=np.int64)
        self.rows = np.zeros((count, patterns), dtype=np.int64)
        self.weighted = np.zeros((count, patterns, 5 * n_actions + 1))
        self.units = np.zeros(count)
        self.observations = np.zeros((count, obs_dim), dtype=np.float32)
        self.penalty_weights = np.zeros(count)
        self._known = np.zeros(count, dtype=bool)

    def region_rows(self, applicant: int) -> np.ndarray:
        """``(R,)`` the pattern rows of ``applicant``'s regions, in region order."""
        return self.rows[applicant, :self.n_regions[applicant]]

    def ensure(self, applicants: np.ndarray) -> None:
        """Fill the entries of ``applicants`` (population rows) not computed yet."""
        for i in np.unique(applicants[~self._known[applicants]]).tolist():
            regions = self.population.regions(i)
            rows = pattern_rows(regions)
            self.n_regions[i], self.rows[i, :len(rows)] = len(rows), rows
            masses = regions.masses / regions.masses.sum()
            desirable = regions.principal_payoffs > 0
            acting = np.arange(regions.n_actions) != 0
            self.weighted[i, rows] = np.concatenate(
                [weighted_payoffs(regions), masses[:, None] * desirable, masses[:, None] * (~desirable & acting),
                 masses[:, None] * regions.patterns], axis=1)
            self.units[i] = precision_unit(regions)
            self.observations[i] = self._observe(i)
            if self._penalty:
                self.penalty_weights[i] = conservative_penalty_weight(regions)
            self._known[i] = True


def applicant_step(table: ApplicantTable, applicants: np.ndarray, schemes: np.ndarray, tie_tol: float,
                   precision: float) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """One step of episodes facing ``applicants`` ``(k,)`` (population rows, :meth:`ApplicantTable.ensure` d) with
    schemes ``(k, 2^A, A)`` over every pattern (on the simplex; fastest as a view of a ``(2^A, A, k)`` array, see
    :func:`~stratgym.envs.persuasion.core.batch_last_simplex`), ties within ``tie_tol`` widened by ``precision``
    (:func:`~stratgym.games.ties.precision_slack`) units: ``(sums (k, A, 2A + 1), values)``, ``values`` the
    ``responses`` ``(k, A)``, ``principal_value``, ``agent_value``, ``bic_slack`` and the metrics
    (:data:`APPLICANT_METRICS`), each ``(k,)``."""
    k, patterns, A = schemes.shape
    weighted = table.weighted
    unique = np.unique(applicants)
    if len(unique) == 1:
        columns = scheme_columns(weighted[unique[0]], schemes)
    else:  # one product per applicant over its episodes (the same bits as for one episode), sorted by applicant
        order = np.argsort(applicants, kind="stable")
        batch_last = np.ascontiguousarray(schemes.transpose(1, 2, 0)).take(order, axis=2)  # (2^A, A, k), sorted
        by_applicant = np.empty((weighted.shape[2], A, k))
        bounds = np.searchsorted(applicants[order], unique).tolist() + [k]
        for i, start, end in zip(unique.tolist(), bounds, bounds[1:]):
            episodes = np.ascontiguousarray(batch_last[:, :, start:end]).reshape(patterns, -1)
            by_applicant[:, :, start:end] = matmul_columns(weighted[i].T, episodes).reshape(-1, A, end - start)
        unsorted = np.empty(k, dtype=np.int64)
        unsorted[order] = np.arange(k)
        columns = by_applicant.take(unsorted, axis=2)  # back in episode order
    responses, principal_value, agent_value, bic_slack = scheme_decisions(columns, tie_tol,
                                                                          precision * table.units[applicants])
    taken = responses.T  # (A, k)
    values = {"responses": responses, "principal_value": principal_value, "agent_value": agent_value,
              "bic_slack": bic_slack}
    for index, name in enumerate(APPLICANT_METRICS[:3]):  # the mass of what is taken, per recommendation, added up
        values[name] = sum_in_order(column_at(columns, (2 * A + 1 + index * A) + taken).T)
    values["welfare"], values["principal"] = agent_value, principal_value
    return columns[:2 * A + 1].transpose(2, 1, 0), values


def penalized_rewards(table: ApplicantTable, applicants: np.ndarray, sums: np.ndarray, penalty_weight: float | None,
                      bic_margin: float) -> tuple[np.ndarray, np.ndarray]:
    """``(reward, violation)`` ``(k,)`` of ``reward="penalized"``
    (:func:`~stratgym.envs.persuasion.core.penalized_value`) from :func:`applicant_step`'s ``sums``:
    ``penalty_weight``, or (``None``) each applicant's conservative weight."""
    weight = table.penalty_weights[applicants] if penalty_weight is None else penalty_weight
    return penalized_value(sums, weight, bic_margin)
