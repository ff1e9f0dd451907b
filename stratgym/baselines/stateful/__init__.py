"""Exact solvers and reference policies of the stateful game (:mod:`stratgym.games.stateful`).

Everything here returns a :class:`~stratgym.baselines.results.StackelbergResult` whose effort policy
was recomputed by :func:`~stratgym.games.stateful.best_response` (with its default tie tolerance) from
the returned assessment policy ``theta``; if the principal utility of that response differs from the
solver's claim by more than :data:`VALUE_TOL` (relative to ``T B max|lambda|``), or if the response fails
an independent check (linear ``g``: no one-round deviation scored by ``rollout`` beats it), a
``RuntimeError`` is raised instead: that would be a bug, never the input's fault. The solvers' LPs and MILP are
stated in budget shares and in units of ``max|lambda|``, so their answers scale exactly with ``B`` and ``lambda``.

Ties (strong Stackelberg), one meaning with the agent (:mod:`stratgym.games.ties`): a linear-``g`` agent counts
options within ``TIE_TOL`` of the round's scale of its best as tied and takes the principal's favourite among them
(:func:`~stratgym.games.stateful.favoured_option`). The exact solvers define their optimum with that same zone:
the MILP, the membership LP and brute force let the chosen option trail the best by up to ``TIE_TOL`` of the
round's scale (:func:`round_leads`), and every candidate rule is confirmed by the agent's own best response
before it is accepted, so a near tie (a difference just inside or just outside the zone) is decided by the agent's
rule, never by a solver's rounding, and valid input never makes a solver raise. The returned ``theta`` may leave
the agent indifferent (within the zone) between the option the principal wants and another one. Pass
``margin > 0`` for a robust rule: every chosen option then beats every other option (including "no effort") by
at least ``margin`` beyond the tie zone in the agent's marginal value. Because marginal values are ``>= 0``
(``W, theta, omega, p >= 0``), no effort can never be *strictly* preferred, so with ``margin > 0`` the agent
always spends its whole budget.

Linear ``g``: the agent ranks its options in round ``tau`` by values ``c_tau = A[tau] . theta``, linear in
``theta`` (:func:`response_operator`), and the principal's problem is a MILP over which option is the
argmax in each round (:func:`milp_optimum`), checked against brute force (:func:`brute_force_optimum`).
The myopic and forecasting agents decide each round from that round's rule alone, so their optimum
decomposes into one small problem per round (:func:`per_round_optimum`).

Concave ``g``: membership is an LP in ``theta`` built from the KKT conditions at the fixed effort
(:func:`incentivizing_rule`); the principal's optimum is searched over ``theta`` and reported with a
certified upper bound (:func:`search_optimum`).

Modules: ``common`` (tolerances, value units, argument checks), ``operators`` (the response operators, per-round
scales and leads), ``membership`` (the membership LP, :func:`incentivizing_rule`, :func:`incentive_margins`),
``verify`` (the re-check of every result), ``milp`` (:func:`milp_optimum`), ``search`` (brute force, the
per-round optimum, :func:`search_optimum`), ``dispatch`` (:func:`solve`), ``rules`` (reference principal
policies). Everything public is importable from ``stratgym.baselines.stateful``.
"""

from stratgym.baselines.stateful.common import SUPPORT_TOL, VALUE_TOL
from stratgym.baselines.stateful.dispatch import METHODS, solve
from stratgym.baselines.stateful.membership import incentive_margins, incentivizing_rule
from stratgym.baselines.stateful.milp import MAX_NO_GOOD_CUTS, milp_optimum
from stratgym.baselines.stateful.operators import response_operator
from stratgym.baselines.stateful.rules import (best_constant_rule, evaluate_rule, repeated_one_round_rule,
                                               uniform_weights)
from stratgym.baselines.stateful.search import BRUTE_FORCE_CAP, brute_force_optimum, per_round_optimum, search_optimum
# The game's tolerances the solvers' ties and gaps are stated in (re-exported, as the single module did).
from stratgym.games.stateful import GAP_TOL, RESPONSE_MODELS, TIE_TOL  # noqa: F401

__all__ = ["SUPPORT_TOL", "VALUE_TOL", "BRUTE_FORCE_CAP", "response_operator", "incentivizing_rule",
           "incentive_margins", "milp_optimum", "brute_force_optimum", "per_round_optimum", "search_optimum",
           "best_constant_rule", "repeated_one_round_rule", "uniform_weights", "evaluate_rule", "solve"]
