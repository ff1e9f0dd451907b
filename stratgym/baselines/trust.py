"""An exact upper bound on what any principal earns in ``PersuasionRecommend-v0`` against its default
:class:`~stratgym.games.behaviour.receivers.LearningReceiver`, as one LP (HiGHS).

The learning receiver follows recommendation ``a`` (other than the default action ``d``) the first time iff its
start value ``v_a^0 >= V_d`` (``V_d`` the prior value of ``d``), and later iff the mean of the utilities it realized
when following ``a`` is ``>= V_d``. So along every episode in which it follows ``a`` ``n >= 1`` times with
utilities ``u_1..u_n``, the first ``n - 1`` have a mean ``>= V_d`` and

    sum_i (u_i - V_d)  >=  u_n - V_d  >=  -c_a,        c_a = max(V_d - min_s u_A(s, a), 0)  (over regions of positive mass).

Rules are drawn afresh each round, independently of the past, so the expected number of rounds of region ``s``
in which ``a`` is recommended and followed is ``T y[s, a]`` with ``y >= 0`` and ``sum_a y[s, a] <= pi_s``,
whatever the principal's (adaptive) policy; taking expectations of the inequality above gives the LP

    max  T sum_s (pi_s u_P(s, d) + sum_{a != d} y[s, a] (u_P(s, a) - u_P(s, d)))
    s.t. sum_s y[s, a] (u_A(s, a) - V_d) >= -c_a / T   for every a with v_a^0 >= V_d,
         y[s, a] = 0 for the others, y >= 0, sum_a y[s, a] <= pi_s,

an upper bound on the expected episode return of every policy, including those that read the receiver's state.
It is the same ex-ante trade-off as a BIC constraint, with ``V_d`` (what the receiver compares its running mean
with) where the one-shot game has the posterior value of ``d``. If no non-default action starts trusted
(``v_a^0 < V_d`` for all of them), the receiver never follows one and the bound is the no-information value
``T sum_s pi_s u_P(s, d)``, however high the one-shot LP (the commitment value) is. ``margin > 0`` is the bound
against a stricter receiver, one that demands ``V_d + margin`` (``V_d`` replaced by it throughout): the robust
version, where the receiver gains strictly from every recommendation it keeps following.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy.optimize import linprog

from stratgym.games.behaviour.receivers import ReceiverContext
from stratgym.games.persuasion import Regions
from stratgym.games.validation import as_nonnegative_float, as_positive_int, as_real_array


class TrustBound(NamedTuple):
    """The LP's value and the occupancy behind it.

    Attributes:
        value: the bound on the expected episode return (principal utility summed over ``rounds``).
        occupancy: ``(R, A)`` the per-round probability ``y[s, a]`` that the rule is in region ``s`` and ``a`` is
            recommended and followed (column ``d``: the rest of ``pi_s``, where the receiver plays ``d``).
    """

    value: float
    occupancy: np.ndarray


def learning_receiver_bound(regions: Regions, context: ReceiverContext, start_values, rounds: int,
                            margin: float = 0.0) -> TrustBound:
    """The upper bound of the module docstring for an episode of ``rounds`` rounds against a
    :class:`~stratgym.games.behaviour.receivers.LearningReceiver` with the prior-level facts ``context``
    (:func:`~stratgym.envs.persuasion.receiver_context`: ``V_d`` and ``d``) starting from ``start_values``
    ``(A,)``; ``margin`` (utility units, ``>= 0``): against the receiver that demands ``V_d + margin``.

    ``ValueError`` naming the argument for a bad shape, round count or margin.
    """
    masses = np.asarray(regions.masses, dtype=np.float64)
    prior = masses / masses.sum()
    principal, agent = regions.principal_payoffs, regions.agent_payoffs
    n_regions, n_actions = agent.shape
    start = as_real_array(start_values, "start_values", shape=(n_actions,))
    rounds = as_positive_int(rounds, "rounds")
    margin = as_nonnegative_float(margin, "margin")
    default = int(context.default_action)
    benchmark = float(context.prior_values[default]) + margin
    stay = float(prior @ principal[:, default])
    trusted = [a for a in range(n_actions) if a != default and start[a] >= benchmark]
    occupancy = np.zeros((n_regions, n_actions))
    occupancy[:, default] = prior
    if not trusted:
        return TrustBound(rounds * stay, occupancy)
    # Variables y[s, a] for the trusted actions, region-major; the receiver's last loss happens in a region it meets.
    gains = principal[:, trusted] - principal[:, [default]]
    region_rows = np.kron(np.eye(n_regions), np.ones((1, len(trusted))))
    trust_rows = -np.kron(np.ones((1, n_regions)), np.eye(len(trusted))) * \
        (agent[:, trusted] - benchmark).reshape(1, -1)
    last_loss = np.maximum(benchmark - agent[masses > 0][:, trusted].min(axis=0), 0.0) / rounds
    result = linprog(-gains.ravel(), A_ub=np.vstack([region_rows, trust_rows]),
                     b_ub=np.concatenate([prior, last_loss]), bounds=(0, None), method="highs")
    if result.status != 0:  # y = 0 is always feasible and the objective is bounded: only a numerical failure
        raise RuntimeError(f"the trust LP failed: {result.message}")
    followed = result.x.reshape(n_regions, len(trusted))
    occupancy[:, trusted] = followed
    occupancy[:, default] = prior - followed.sum(axis=1)
    return TrustBound(rounds * (stay - float(result.fun)), occupancy)
