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

from stratgym.envs.persuasion.core import (column_at, conservative_penalty_weight, penalized_value, scheme_decisions,
                                           sum_in_order)
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
                   precision: float, penalty: tuple[float | None, float] | None = None) -> dict[str, np.ndarray]:
    """One step of episodes facing ``applicants`` ``(k,)`` (population rows, :meth:`ApplicantTable.ensure` d) with
    schemes ``(k, 2^A, A)`` over every pattern (on the simplex; fastest as a view of a ``(2^A, A, k)`` array, see
    :func:`~stratgym.envs.persuasion.core.batch_last_simplex`), ties within ``tie_tol`` widened by ``precision``
    (:func:`~stratgym.games.ties.precision_slack`) units.

    Returns the ``scheme`` over each applicant's regions, in region order (``(k, R, A)``, or an object array of
    ``(R_i, A)`` schemes when the applicants' region counts differ), the ``responses`` ``(k, A)``,
    ``principal_value``, ``agent_value``, ``bic_slack``, the metrics (:data:`APPLICANT_METRICS`) and, with
    ``penalty = (penalty_weight, bic_margin)``, ``reward="penalized"``'s ``reward`` and ``bic_violation``
    (:func:`~stratgym.envs.persuasion.core.penalized_value`; weight ``None``: each applicant's conservative one),
    each ``(k,)``. The episodes are taken applicant by applicant (one product each, the same bits as for one
    episode), decided together, and returned in their order."""
    k, patterns, A = schemes.shape
    weighted = table.weighted
    batch_last = np.ascontiguousarray(schemes.transpose(1, 2, 0))  # (2^A, A, k)
    order = np.argsort(applicants, kind="stable")
    grouped = applicants[order]
    unique, starts = np.unique(grouped, return_index=True)
    bounds = starts.tolist() + [k]
    columns = np.empty((weighted.shape[2], A, k))  # in the grouped order
    counts = table.n_regions[unique]
    regional = np.empty((k, counts[0], A)) if (counts == counts[0]).all() else np.empty(k, dtype=object)
    for i, start, end in zip(unique.tolist(), bounds, bounds[1:]):
        episodes = batch_last if len(unique) == 1 else batch_last.take(order[start:end], axis=2)  # (2^A, A, k_i)
        columns[:, :, start:end] = matmul_columns(weighted[i].T, episodes.reshape(patterns, -1)).reshape(-1, A,
                                                                                                       end - start)
        own = episodes[table.region_rows(i)].transpose(2, 0, 1)  # (k_i, R_i, A)
        if regional.dtype == object:
            for offset, scheme in enumerate(own):
                regional[start + offset] = scheme
        else:
            regional[start:end] = own
    responses, principal_value, agent_value, bic_slack = scheme_decisions(columns, tie_tol,
                                                                          precision * table.units[grouped])
    values = {"scheme": regional, "responses": responses, "principal_value": principal_value,
              "agent_value": agent_value, "bic_slack": bic_slack}
    taken = responses.T  # (A, k)
    for index, name in enumerate(APPLICANT_METRICS[:3]):  # the mass of what is taken, per recommendation, added up
        values[name] = sum_in_order(column_at(columns, (2 * A + 1 + index * A) + taken).T)
    values["welfare"], values["principal"] = agent_value, principal_value
    if penalty is not None:
        weight, margin = penalty
        values["reward"], values["bic_violation"] = penalized_value(
            columns[:2 * A + 1].transpose(2, 1, 0), table.penalty_weights[grouped] if weight is None else weight,
            margin)
    unsorted = np.empty(k, dtype=np.int64)
    unsorted[order] = np.arange(k)
    return {name: value[unsorted] for name, value in values.items()}
