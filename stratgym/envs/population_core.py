"""The pure core of ``PersuasionPopulation-v0`` (as in gymnax): what each applicant's episode needs, computed once
per applicant, and one step for one episode or a batch of episodes facing different applicants, shared by the
scalar env and its native vector env (so the two agree bit for bit).

Every applicant's quantities are laid out over the ``2^A`` decision patterns of
:func:`~stratgym.games.applicants.pattern_table` (rows of patterns that are not its regions are 0), the rows of the
env's action, so a batch's schemes are multiplied as they come, one product per applicant present
(:func:`~stratgym.envs.persuasion.core.scheme_columns`), and the agent's answers and the metrics of the whole batch
are decided together (:func:`~stratgym.envs.persuasion.core.scheme_decisions`).

``StatefulPopulation-v0``'s core, :class:`PopulationRounds`, is the same idea for the stateful game: the episode
state (:class:`PopulationEpisodes`) is explicit, batch first, and one round of any number of episodes is one call,
so the scalar env (a batch of one) and its vector env run the same arithmetic.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

from stratgym.envs.persuasion.core import (column_at, conservative_penalty_weight, penalized_value, scheme_decisions,
                                           sum_in_order)
from stratgym.envs.stateful import RoundResponses, feature_bounds
from stratgym.envs.stateful.core import reciprocal_scale, row_dot
from stratgym.games.applicants import ApplicantPopulation, pattern_rows, pattern_table
from stratgym.games.behaviour import Lookahead
from stratgym.games.linalg import matmul_columns
from stratgym.games.metrics import social_metrics
from stratgym.games.persuasion import precision_unit, weighted_payoffs
from stratgym.games.population import StatefulPopulation, stateful_subject_metrics
from stratgym.games.stateful import next_state, observe

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


# ---------------------------------------------------------------------------------------------
# StatefulPopulation-v0: every agent type answering one published rule per round
# ---------------------------------------------------------------------------------------------

class PopulationEpisodes(NamedTuple):
    """The state of ``k`` ``StatefulPopulation-v0`` episodes, batch first (the scalar env keeps ``k = 1``).

    Attributes:
        rounds: ``(k,)`` rounds played.
        states: ``(k, K, d)`` every type's state ``s_t``.
        rules: ``(k, T, G', n)`` the rules published so far (0 for rounds not played).
        efforts: ``(k, K, T, d)`` every type's efforts so far (0 for rounds not played).
        features: ``(k, K, n)`` every type's features of the last round (0 before round 1).
    """

    rounds: np.ndarray
    states: np.ndarray
    rules: np.ndarray
    efforts: np.ndarray
    features: np.ndarray


class PopulationRounds:
    """What does not change during ``StatefulPopulation-v0`` episodes (gymnax's ``EnvParams``) and their pure step:
    ``population`` (a :class:`~stratgym.games.population.StatefulPopulation`), every type answering as ``agent`` (a
    ``Lookahead(k)``), one rule per group if ``per_group``, else one for everyone (arguments already checked).

    Attributes:
        responses: each type's per-round answers (:class:`~stratgym.envs.stateful.RoundResponses`), in type order.
        rule_rows: ``G'``, rules published per round (the number of groups with ``per_group``, else 1).
        group_of_type: ``(K,)`` the row of the round's rules each type answers.
        feature_scale: ``(n,)`` the observation's scale of each feature (1 / its largest value over the types).
        group_weights: per group, the population weights of its types (0 elsewhere), ``(K,)`` each.
        observation_size: the length of an observation.
    """

    def __init__(self, population: StatefulPopulation, agent: Lookahead, per_group: bool):
        self.population, self.agent, self.per_group = population, agent, per_group
        n, groups = population.n_features, len(population.group_names)
        self.responses = [RoundResponses(game, agent) for game in population.types]
        self.rule_rows = groups if per_group else 1
        self.group_of_type = population.group_index() if per_group else np.zeros(population.n_types, dtype=int)
        self.feature_scale = reciprocal_scale(np.max([feature_bounds(game) for game in population.types], axis=0))
        self.group_weights = [population.weights * (population.group_index() == g) for g in range(groups)]
        self.observation_size = 1 + n + (groups * n if per_group else 0) + self.rule_rows * n
        self._initial = np.array([game.initial_state for game in population.types])

    def start(self, k: int) -> PopulationEpisodes:
        """``k`` new episodes: every type at its initial state, nothing played."""
        population = self.population
        K, n, T, d = population.n_types, population.n_features, population.horizon, population.types[0].n_efforts
        return PopulationEpisodes(np.zeros(k, dtype=np.int64), np.tile(self._initial, (k, 1, 1)),
                                  np.zeros((k, T, self.rule_rows, n)), np.zeros((k, K, T, d)), np.zeros((k, K, n)))

    def step(self, episodes: PopulationEpisodes, rules: np.ndarray, rng: np.random.Generator,
             tie_tol: float) -> tuple[PopulationEpisodes, np.ndarray, dict]:
        """One round of ``episodes`` (none past its last round) under ``rules`` ``(k, G', n)`` on the simplex, ties
        within ``tie_tol`` round scales: ``(the new episodes, rewards (k,), info)``, the inputs left unchanged.

        The reward is ``sum_K w_K lambda . e^K_t``; ``info`` holds ``rules``, ``efforts`` ``(k, K, d)``, ``states``
        (before the round), ``features`` ``(k, K, n)``, ``average_features`` ``(k, n)`` and, when every episode has
        played its last round, ``metrics`` (:meth:`metrics`). Types are taken in order, each over the whole batch
        (its responses' batched rule on linear games), and weighted sums add the types in order."""
        population = self.population
        k, rounds, states = len(rules), episodes.rounds, episodes.states
        efforts, features, after = np.empty_like(states), np.empty(episodes.features.shape), np.empty_like(states)
        rewards = np.zeros(k)
        for j, (game, responses, group) in enumerate(zip(population.types, self.responses, self.group_of_type)):
            efforts[:, j] = responses.respond(rules[:, group], states[:, j], rounds, rng, tie_tol)
            features[:, j] = observe(game, states[:, j], efforts[:, j])
            after[:, j] = next_state(game, states[:, j], efforts[:, j])
            rewards = rewards + population.weights[j] * row_dot(efforts[:, j], game.effort_value)
        played, record, batch = episodes.rules.copy(), episodes.efforts.copy(), np.arange(k)
        played[batch, rounds], record[batch, :, rounds] = rules, efforts
        new = PopulationEpisodes(rounds + 1, after, played, record, features)
        info = {"rules": rules, "efforts": efforts, "states": states, "features": features,
                "average_features": weighted_sum(population.weights, features)}
        if (new.rounds == population.horizon).all():
            info["metrics"] = self.metrics(new)
        return new, rewards, info

    def metrics(self, episodes: PopulationEpisodes) -> dict[str, np.ndarray]:
        """The social metrics of finished ``episodes``
        (:meth:`~stratgym.games.metrics.SocialMetrics.flat` keys, each ``(k,)``): every type's metrics under the rules
        of its group (:func:`~stratgym.games.population.stateful_subject_metrics`), averaged by
        :func:`~stratgym.games.metrics.social_metrics`."""
        population = self.population
        per_type = [stateful_subject_metrics(game, episodes.efforts[:, j], episodes.rules[:, :, self.group_of_type[j]],
                                             population.threshold) for j, game in enumerate(population.types)]
        columns = {name: np.stack([values[name] for values in per_type], axis=-1) for name in per_type[0]}
        return social_metrics(columns, population.weights, population.groups).flat()

    def observations(self, episodes: PopulationEpisodes) -> np.ndarray:
        """``(k, observation_size)`` float32: rounds played ``/ T``, the weighted average features (overall, then per
        group with ``per_group``) times :attr:`feature_scale`, the last round's rules (0 before round 1), clipped to
        ``[0, 1]``."""
        population, k = self.population, len(episodes.rounds)
        parts = [(episodes.rounds / population.horizon)[:, None],
                 weighted_sum(population.weights, episodes.features) * self.feature_scale]
        if self.per_group:
            parts += [weighted_sum(w, episodes.features) / w.sum() * self.feature_scale for w in self.group_weights]
        last = episodes.rules[np.arange(k), np.maximum(episodes.rounds - 1, 0)] * (episodes.rounds > 0)[:, None, None]
        parts.append(last.reshape(k, -1))
        return np.clip(np.concatenate(parts, axis=1), 0.0, 1.0).astype(np.float32)


def weighted_sum(weights: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``weights @ values`` ``(K,) @ (..., K, n)``, the types added in order (one pass per type over the batch)."""
    total = weights[0] * values[..., 0, :]
    for j in range(1, len(weights)):
        total = total + weights[j] * values[..., j, :]
    return total
