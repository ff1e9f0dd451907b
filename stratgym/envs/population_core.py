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

from stratgym.envs.persuasion.core import (conservative_penalty_weight, penalized_value, scheme_decisions,
                                           taken_index, taken_sum)
from stratgym.envs.stateful import RoundResponses, feature_bounds
from stratgym.envs.stateful.core import common_round, reciprocal_scale
from stratgym.games.applicants import ApplicantPopulation, pattern_rows, pattern_table
from stratgym.games.behaviour import Lookahead
from stratgym.games.linalg import matmul_columns, matmul_rows
from stratgym.games.metrics import SocialAverages
from stratgym.games.persuasion import precision_unit, weighted_payoffs
from stratgym.games.population import StatefulPopulation, effort_term_weights, subject_metrics
from stratgym.games.stateful import CONVERSIONS, favoured_choice
from stratgym.games.stateful.dynamics import discount_factors
from stratgym.games.stateful.tiebreak import response_table

#: The metrics of one applicant, in the order of :func:`~stratgym.games.applicants.applicant_metrics`.
APPLICANT_METRICS = ("improvement", "gaming", "recourse", "welfare", "principal")


class ApplicantTable:
    """Per applicant of ``population`` (filled on first use: its regions are the slow part, and cached on the
    population): ``n_regions`` ``(N,)``, ``rows`` ``(N, 2^A)`` (its regions' pattern rows in region order, then
    0s), ``weighted`` ``(N, 2^A, 5A + 1)``,
    ``units`` ``(N,)`` (:func:`~stratgym.games.persuasion.precision_unit`), ``observations`` ``(N, obs_dim)`` from
    ``observe(applicant)``, ``in_pattern_order`` ``(N,)`` (whether its regions are every pattern, in pattern order:
    then its scheme over the regions is the action itself) and, with ``penalty``, ``penalty_weights`` ``(N,)`` (the
    conservative weights).

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
        self.in_pattern_order = np.zeros(count, dtype=bool)
        self._known = np.zeros(count, dtype=bool)
        self._all_known = False
        self._columns: np.ndarray | None = None

    def columns(self, shape: tuple[int, ...]) -> np.ndarray:
        """The float64 work array of shape ``shape`` that :func:`applicant_step` multiplies into, kept from step to step:
        a fresh one (megabytes at thousands of episodes) made glibc hand the step's memory back to the OS and fault it
        in again every step (PersuasionPopulation x4096: about 700 page faults a step, half its time)."""
        if self._columns is None or self._columns.shape != shape:
            self._columns = np.empty(shape)
        return self._columns

    def region_rows(self, applicant: int) -> np.ndarray:
        """``(R,)`` the pattern rows of ``applicant``'s regions, in region order."""
        return self.rows[applicant, :self.n_regions[applicant]]

    def ensure(self, applicants: np.ndarray) -> None:
        """Fill the entries of ``applicants`` (population rows) not computed yet."""
        # Every reset's check once the population (or the split the env draws from) is filled: two numpy calls.
        if self._all_known or self._known[applicants].all():
            return
        for i in np.unique(applicants[~self._known[applicants]]).tolist():
            regions = self.population.regions(i)
            rows = pattern_rows(regions)
            self.n_regions[i], self.rows[i, :len(rows)] = len(rows), rows
            self.in_pattern_order[i] = np.array_equal(rows, np.arange(self.rows.shape[1]))
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
        self._all_known = bool(self._known.all())


def applicant_step(table: ApplicantTable, applicants: np.ndarray, schemes: np.ndarray, tie_tol: float,
                   precision: float, penalty: tuple[float | None, float] | None = None,
                   info: bool = True) -> dict[str, np.ndarray]:
    """One step of episodes facing ``applicants`` ``(k,)`` (population rows, :meth:`ApplicantTable.ensure` d) with
    schemes ``(k, 2^A, A)`` over every pattern (on the simplex; fastest as a view of a ``(2^A, A, k)`` array, see
    :func:`~stratgym.envs.persuasion.core.batch_last_simplex`), ties within ``tie_tol`` widened by ``precision``
    (:func:`~stratgym.games.ties.precision_slack`) units.

    Returns the ``scheme`` over each applicant's regions, in region order (``(k, R, A)``, or an object array of
    ``(R_i, A)`` schemes when the applicants' region counts differ), the ``responses`` ``(k, A)``,
    ``principal_value``, ``agent_value``, ``bic_slack``, the metrics (:data:`APPLICANT_METRICS`) and, with
    ``penalty = (penalty_weight, bic_margin)``, ``reward="penalized"``'s ``reward`` and ``bic_violation``
    (:func:`~stratgym.envs.persuasion.core.penalized_value`; weight ``None``: each applicant's conservative one),
    each ``(k,)``; ``info=False``: only the reward, ``principal_value`` (``reward`` with ``penalty``), for a vector env
    whose infos nobody reads. The episodes are taken applicant by applicant (one product each, the same bits as for
    one episode), decided together, and returned in their order."""
    k, patterns, A = schemes.shape
    weighted = table.weighted
    batch_last = np.ascontiguousarray(schemes.transpose(1, 2, 0))  # (2^A, A, k)
    # Stable sorts of 16-bit keys are radix sorts: several times faster than of int64 ones.
    keys = applicants.astype(np.uint16) if table.population.n_applicants <= 1 << 16 else applicants
    order = np.argsort(keys, kind="stable")
    grouped = applicants[order]
    starts = np.flatnonzero(grouped[1:] != grouped[:-1]) + 1  # where each applicant's block begins
    unique = grouped[np.concatenate(([0], starts))] if k else grouped
    bounds = [0] + starts.tolist() + [k]
    columns = table.columns((weighted.shape[2], A, k))  # in the grouped order; nothing returned is a view of it
    counts = table.n_regions[unique]
    # Every applicant's regions are the patterns in order: each scheme over its regions is its action, as given.
    as_given = bool(table.in_pattern_order[unique].all())
    regional = None if as_given or not info else np.empty((k, counts[0], A)) if (counts == counts[0]).all() else \
        np.empty(k, dtype=object)
    # Each applicant's episodes gathered into one contiguous (2^A, A k_i) block. Multiplying strided views of the
    # grouped batch in place instead was measured up to 2x slower at k = 4096, in some runs (its rows are 8 A k
    # bytes apart, a power of two there: likely the same cache sets).
    for i, start, end in zip(unique.tolist(), bounds, bounds[1:]):
        episodes = batch_last if len(unique) == 1 else batch_last.take(order[start:end], axis=2)  # (2^A, A, k_i)
        columns[:, :, start:end] = matmul_columns(weighted[i].T, episodes.reshape(patterns, -1)).reshape(-1, A,
                                                                                                       end - start)
        if regional is None:
            continue
        own = episodes[table.region_rows(i)].transpose(2, 0, 1)  # (k_i, R_i, A)
        if regional.dtype == object:
            for offset, scheme in enumerate(own):
                regional[start + offset] = scheme
        else:
            regional[start:end] = own
    responses, principal_value, agent_value, bic_slack = scheme_decisions(columns, tie_tol,
                                                                          precision * table.units[grouped])
    values = {"responses": responses, "principal_value": principal_value, "agent_value": agent_value,
              "bic_slack": bic_slack}
    if regional is not None:
        values["scheme"] = regional
    if info:
        taken = taken_index(responses.T)
        for index, name in enumerate(APPLICANT_METRICS[:3]):  # the mass of what is taken, per recommendation, added up
            values[name] = taken_sum(columns, taken, 2 * A + 1 + index * A)
        values["welfare"], values["principal"] = agent_value, principal_value
    if penalty is not None:
        weight, margin = penalty
        values["reward"], values["bic_violation"] = penalized_value(
            columns[:2 * A + 1].transpose(2, 1, 0), table.penalty_weights[grouped] if weight is None else weight,
            margin)
    unsorted = np.empty(k, dtype=np.int64)
    unsorted[order] = np.arange(k)
    if not info:
        name = "principal_value" if penalty is None else "reward"
        return {name: values[name][unsorted]}
    values = {name: value[unsorted] for name, value in values.items()}
    return {"scheme": schemes, **values} if regional is None else values


# ---------------------------------------------------------------------------------------------
# StatefulPopulation-v0: every agent type answering one published rule per round
# ---------------------------------------------------------------------------------------------

class PopulationEpisodes(NamedTuple):
    """The state of ``k`` ``StatefulPopulation-v0`` episodes, batch first (the scalar env keeps ``k = 1``); the arrays
    the core makes are views of batch-last memory (its passes run over the batch, see :class:`PopulationRounds`).

    Attributes:
        rounds: ``(k,)`` rounds played.
        states: ``(k, K, d)`` every type's state ``s_t``.
        observations: ``(k, observation_size)`` float32, what the principal sees now (:meth:`PopulationRounds.step`).
        effort_terms: ``(k, K, 3)`` every type's efforts so far times
            :func:`~stratgym.games.population.effort_term_weights`, added up round by round.
        agent_utility: ``(k, K)`` every type's discounted scores so far.
        scores: ``(k, K)`` every type's score ``y_t`` of the last round (0 before round 1).
    """

    rounds: np.ndarray
    states: np.ndarray
    observations: np.ndarray
    effort_terms: np.ndarray
    agent_utility: np.ndarray
    scores: np.ndarray


class PopulationRounds:
    """What does not change during ``StatefulPopulation-v0`` episodes (gymnax's ``EnvParams``) and their pure step:
    ``population`` (a :class:`~stratgym.games.population.StatefulPopulation`), every type answering as ``agent`` (a
    ``Lookahead(k)``), one rule per group if ``per_group``, else one for everyone (arguments already checked).

    The types' parameters are stacked type by type, so a round is a fixed number of numpy passes whatever the number
    of types: each pass takes one effort or feature index of every type and every episode, laid out ``(K, k)``
    (batch last: long inner loops). Every quantity the episodes show is computed elementwise, the same bits for
    one episode as for any batch; on a linear game a type's effort is a budget vertex, chosen by the game's own tie
    rule (:func:`~stratgym.games.stateful.favoured_choice`, one call for all types that share ``lambda``) from
    marginal values that are one matrix product (their last bits choose nothing).

    Attributes:
        responses: each type's per-round answers (:class:`~stratgym.envs.stateful.RoundResponses`), in type order
            (what answers on a concave game).
        rule_rows: ``G'``, rules published per round (the number of groups with ``per_group``, else 1).
        group_of_type: ``(K,)`` the row of the round's rules each type answers.
        feature_scale: ``(n,)`` the observation's scale of each feature (1 / its largest value over the types).
        average_weights: ``(1 + G, K)`` (``(1, K)`` without ``per_group``): the population weights, then per group
            its types' weights renormalized within the group (0 elsewhere), the averages the principal observes.
        observation_size: the length of an observation.
    """

    def __init__(self, population: StatefulPopulation, agent: Lookahead, per_group: bool):
        self.population, self.agent, self.per_group = population, agent, per_group
        types, n, groups = population.types, population.n_features, len(population.group_names)
        d, K, T = types[0].n_efforts, population.n_types, population.horizon
        self.responses = [RoundResponses(game, agent) for game in types]
        self.rule_rows = groups if per_group else 1
        self.group_of_type = population.group_index() if per_group else np.zeros(K, dtype=int)
        self.feature_scale = reciprocal_scale(np.max([feature_bounds(game) for game in types], axis=0))
        members = population.group_index() == np.arange(groups)[:, None]
        within = [population.weights * member / (population.weights @ member) for member in members]
        self.average_weights = np.array([population.weights] + (within if per_group else []))
        self.observation_size = 1 + n + (groups * n if per_group else 0) + self.rule_rows * n
        # Per type, stacked on the last axis: (n, d, K) W, (d, K) p, omega and s_1, (3, d, K) the metric terms.
        self._conversion = np.stack([game.conversion_matrix for game in types], axis=-1)
        self._persistence = np.stack([game.persistence for game in types], axis=-1)
        self._retention = np.stack([game.retention for game in types], axis=-1)
        self._initial = np.stack([game.initial_state for game in types], axis=-1)
        self._terms = np.stack([effort_term_weights(game).T for game in types], axis=-1)
        self._discounts = discount_factors(types[0])  # gamma is shared
        self._average_scale = np.tile(self.feature_scale, len(self.average_weights))[:, None]
        self._average_columns = self.average_weights.T[:, :, None, None]  # (K, 1 (+ G), 1, 1): one pass per type
        self._social = SocialAverages(population.weights, population.groups)
        self._linear = types[0].is_linear  # g is shared
        if self._linear:
            tables = [response_table(game, agent.name) for game in types]
            # (T, d * K, n): round t's marginal values of every (effort, type) pair are this times the rule.
            self._values = np.stack([np.einsum("ij,tj->tji", game.conversion_matrix, weights)
                                     for game, (weights, _, _) in zip(types, tables)], axis=2).reshape(T, d * K, n)
            self._scales = np.stack([scales for _, scales, _ in tables], axis=-1)  # (T, K)
            # Types that share lambda share the tie rule's order: one call of it per distinct lambda.
            profiles = {}
            for j, game in enumerate(types):
                profiles.setdefault(tuple(game.effort_value.tolist()), []).append(j)
            self._profiles = [(types[members[0]], np.array(members)) for members in profiles.values()]
            # Type j's budget vertices (no effort, then all budget on effort type 0 .. d-1) are entries
            # j (d + 1) .. j (d + 1) + d of (d, K (d + 1)), so a choice c of type j is entry j (d + 1) + c + 1.
            vertices = np.concatenate([np.vstack([np.zeros(d), np.eye(d) * game.budget]).T for game in types],
                                      axis=1)
            self._vertices = vertices
            self._offsets = (np.arange(K) * (d + 1) + 1)[:, None]
            self._vertex_terms = _effort_terms(self._terms.repeat(d + 1, axis=-1), vertices[:, :, None])[:, :, 0]
            # Each vertex's term of the reward, w_K lambda . e: the products the reward adds up, taken, not made.
            self._vertex_rewards = population.weights.repeat(d + 1) * self._vertex_terms[0]

    def start(self, k: int) -> PopulationEpisodes:
        """``k`` new episodes: every type at its initial state, nothing played or seen."""
        K, d = self.population.n_types, self._initial.shape[0]
        return PopulationEpisodes(np.zeros(k, dtype=np.int64),
                                  np.repeat(self._initial[:, :, None], k, axis=2).transpose(2, 1, 0),
                                  np.zeros((k, self.observation_size), dtype=np.float32),
                                  np.zeros((3, K, k)).transpose(2, 1, 0), np.zeros((K, k)).T, np.zeros((K, k)).T)

    def step(self, episodes: PopulationEpisodes, rules: np.ndarray, rng: np.random.Generator,
             tie_tol: float, metrics: bool = True) -> tuple[PopulationEpisodes, np.ndarray, dict]:
        """One round of ``episodes`` (none past its last round) under ``rules`` ``(k, G', n)`` on the simplex, ties
        within ``tie_tol`` round scales: ``(the new episodes, rewards (k,), info)``, the inputs left unchanged.

        The reward is ``sum_K w_K lambda . e^K_t``; ``info`` holds ``rules``, ``efforts`` ``(k, K, d)``, ``states``
        (before the round), ``features`` ``(k, K, n)``, ``average_features`` ``(k, n)`` and, when every episode has
        played its last round and ``metrics`` is true, ``metrics`` (:meth:`metrics`; a vector env whose infos nobody
        reads skips them)."""
        population, rounds = self.population, episodes.rounds
        t = common_round(rounds)
        states = episodes.states.transpose(2, 1, 0)  # (d, K, k)
        faced = rules.transpose(2, 1, 0)  # (n, G', k)
        faced = faced[:, self.group_of_type] if self.per_group else faced  # (n, K or 1, k)
        if self._linear:
            choices = self._choices(faced, rounds, t, tie_tol)
            efforts, terms = self._vertices.take(choices, axis=1), self._vertex_terms.take(choices, axis=1)
            rewards = _type_rows_sum(self._vertex_rewards.take(choices))
        else:  # a concave game: each type's own responses, over the batch
            efforts = np.stack([responses.respond(rules[:, group], states[:, j].T, rounds, rng, tie_tol).T
                                for j, (responses, group) in enumerate(zip(self.responses, self.group_of_type))],
                               axis=1)
            terms = _effort_terms(self._terms, efforts)
            rewards = _type_sum(population.weights, terms[0])
        features = CONVERSIONS[population.types[0].conversion][0](_products(self._conversion, states + efforts))
        scores = _weighted_rows(faced, features)  # (K, k)
        discount = self._discounts[t] if t is not None else self._discounts[rounds]
        averages = _type_sum(self._average_columns, features)  # (1 (+ G), n, k)
        after = PopulationEpisodes(rounds + 1,
                                   (self._persistence[..., None] * states
                                    + self._retention[..., None] * efforts).transpose(2, 1, 0),
                                   self._observe(rounds + 1, averages, rules),
                                   (episodes.effort_terms.transpose(2, 1, 0) + terms).transpose(2, 1, 0),
                                   (episodes.agent_utility.T + discount * scores).T, scores.T)
        info = {"rules": rules, "efforts": efforts.transpose(2, 1, 0), "states": episodes.states,
                "features": features.transpose(2, 1, 0),
                "average_features": averages[0].T}
        if metrics and (after.rounds == population.horizon).all():
            info["metrics"] = self.metrics(after)
        return after, rewards, info

    def _choices(self, faced: np.ndarray, rounds: np.ndarray, t: int | None, tie_tol: float) -> np.ndarray:
        """``(K, k)`` every type's budget vertex (an entry of ``_vertices``) against the rules it faces ``(n, K or 1,
        k)``: the game's per-round response (:func:`~stratgym.games.stateful.per_round_response`) of every type at
        once."""
        K, k = self.population.n_types, faced.shape[-1]
        d = len(self._values[0]) // K
        if faced.shape[1] == 1:  # one rule for every type
            values = matmul_rows(self._values[t], faced[:, 0]) if t is not None else \
                np.einsum("kri,ik->rk", self._values[rounds], faced[:, 0])
        else:
            rows = np.arange(d * K) % K
            values = np.einsum("kri,irk->rk", self._values[rounds], faced[:, rows]) if t is None else \
                np.einsum("ri,irk->rk", self._values[t], faced[:, rows])
        values = values.reshape(d, K, k).transpose(1, 2, 0)  # (K, k, d): the tie rule's layout
        scales = self._scales[t][:, None] if t is not None else self._scales[rounds].T
        choices = np.empty((K, k), dtype=np.int64)
        for game, members in self._profiles:
            if len(members) == K:
                choices = favoured_choice(game, values, scales, tie_tol)
            else:
                choices[members] = favoured_choice(game, values[members], scales[members], tie_tol)
        return choices + self._offsets

    def _observe(self, rounds: np.ndarray, averages: np.ndarray, rules: np.ndarray) -> np.ndarray:
        """``(k, observation_size)`` float32: rounds played ``/ T``, the ``averages`` ``(1 (+ G), n, k)`` of the
        features (:attr:`average_weights`) times :attr:`feature_scale`, the rules just published, clipped to
        ``[0, 1]``."""
        k = len(rounds)
        parts = np.empty((self.observation_size, k))
        parts[0] = rounds / self.population.horizon
        averaged = 1 + averages.shape[0] * averages.shape[1]
        parts[1:averaged] = averages.reshape(-1, k) * self._average_scale
        parts[averaged:] = rules.reshape(k, -1).T
        return np.clip(parts, 0.0, 1.0, out=parts).astype(np.float32).T

    def metrics(self, episodes: PopulationEpisodes) -> dict[str, np.ndarray]:
        """The social metrics of finished ``episodes`` (:meth:`~stratgym.games.metrics.SocialMetrics.flat` keys, each
        ``(k,)``): every type's metrics (:func:`~stratgym.games.population.subject_metrics` of the episode's running
        sums), averaged by :func:`~stratgym.games.metrics.social_metrics` (prepared once)."""
        population = self.population
        gained = _type_rows_sum(episodes.states.transpose(2, 1, 0)) - _type_rows_sum(self._initial)[:, None]
        columns = subject_metrics(episodes.effort_terms, episodes.scores, episodes.agent_utility, gained.T,
                                  population.threshold)
        return self._social(columns).flat()

    def observations(self, episodes: PopulationEpisodes) -> np.ndarray:
        """``(k, observation_size)`` float32: what the principal sees now (0 before round 1)."""
        return episodes.observations


def _products(matrices: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """``(m, K, k)``: type ``j``'s matrix ``matrices[:, :, j]`` ``(m, p)`` times its vectors ``vectors[:, j]``
    ``(p, k)``, for every type at once, each entry added up in order of ``p``."""
    total = matrices[:, 0, :, None] * vectors[0]
    for index in range(1, len(vectors)):
        total += matrices[:, index, :, None] * vectors[index]
    return total


def _effort_terms(weights: np.ndarray, efforts: np.ndarray) -> np.ndarray:
    """``(3, K, k)`` the metric terms of efforts ``(d, K, k)`` with every type's ``(3, d, K)`` weights."""
    return _products(weights, efforts)


def _weighted_rows(rules: np.ndarray, features: np.ndarray) -> np.ndarray:
    """``(K, k)`` the scores ``theta . o``: rules ``(n, K or 1, k)`` times features ``(n, K, k)``, in feature order."""
    total = rules[0] * features[0]
    for index in range(1, len(features)):
        total += rules[index] * features[index]
    return total


def _type_sum(weights: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``sum_j weights[j] values[..., j, :]`` over the types of ``values`` ``(..., K, k)``, in type order; ``weights``
    ``(K, ...)``, each ``weights[j]`` broadcasting against ``values[..., j, :]`` (several weightings in one pass)."""
    total = weights[0] * values[..., 0, :]
    for j in range(1, len(weights)):
        total = total + weights[j] * values[..., j, :]
    return total


def _type_rows_sum(values: np.ndarray) -> np.ndarray:
    """``(K, ...)``: ``values`` ``(d, K, ...)`` added up over ``d``, in order."""
    total = values[0].copy()
    for row in values[1:]:
        total += row
    return total
