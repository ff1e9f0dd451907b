"""What a tie is, once, for every game, solver and env of stratgym.

**Two options are tied when their values differ by at most ``TIE_TOL`` in the game's unit of value, plus
the error that the precision of the received action can put into that difference.** Ties are then broken
in the principal's favour (strong Stackelberg; in persuasion: obedience first). The game's unit of value
is the round's scale ``round_scales(game)`` in the stateful game (the largest marginal value any rule gives
an effort type that round) and the recommendation's probability ``P(a)`` in persuasion (ties are judged on
posterior utilities).

Solvers take float64 rules and schemes, whose precision term is negligible (``k * 2.2e-16``), so they
define their optimum with ``TIE_TOL`` alone; where an LP's tolerance cannot tell whether a rule lies in the
zone, the agent's own test decides (stateful game: :func:`~stratgym.games.stateful.tied_options`). An env receives a Box action that a learner computed in float32
(SB3 acts in float32); rounding an exactly indifferent optimum to float32 moves the agent's values by up to
about ``1e-7`` of the unit and would flip its choice. So the env widens the tie zone by
:func:`precision_slack`: ``k * eps(dtype)`` units, ``k`` the length of one simplex row of the action,
``eps`` its dtype's machine epsilon (1.19e-7 for float32, 2.2e-16 for float64; Python numbers and integer
arrays count as float64).

Why ``k * eps`` covers the rounding: a rule ``x`` encoded with its largest weight at 1
(:func:`~stratgym.envs.spaces.simplex_to_box`; ``w = (a + 1) / 2``, ``x = w / sum(w)``, ``sum(w) >= 1``)
is rounded entry by entry by at most ``eps / 4`` (``|a| <= 1``), so ``|dw_i| <= eps / 8`` and
``||dx||_1 <= 2 sum|dw| / sum(w) <= k eps / 4``. A value linear in the rule with coefficients bounded by
the unit moves by at most ``k eps / 4`` units, a difference of two by ``k eps / 2``: ``k eps`` leaves a factor
2. With that, the float32 encoding of every exact optimum earns the optimum in the env (tested on hundreds of
random instances); a rule that only a coarser encoding reaches (``sum(w) < 1``) gets no wider zone.

What the widening costs: an env can credit a float32 action with a tie the float64 solver would not see. In
the stateful game that changes the agent's choice only if the game has a preference within about ``1e-7`` of
the round's scale (a near tie; the solvers' optimum at ``TIE_TOL`` is then below what such an action earns).
In persuasion the agent obeys a recommendation violating BIC by less than the widening, which buys at most
that violation over the agent's utility gap per unit of mass: about ``1e-6`` of the payoff scale on the tested
instances. Both are checked: no float32 action tried beats the optimum by more.
"""

from __future__ import annotations

import numpy as np

#: Values this close (in the game's unit, see the module docstring) are ties, in solvers and envs alike.
TIE_TOL = 1e-9

_FLOAT64_EPS = float(np.finfo(np.float64).eps)
#: dtype -> its epsilon as used here (envs ask once per step).
_EPSILONS: dict = {}


def action_epsilon(action) -> float:
    """Machine epsilon of ``action``'s dtype (a float array's; float64's for anything else: Python numbers,
    lists, integer arrays), i.e. the relative precision the action was computed in."""
    dtype = getattr(action, "dtype", None)
    epsilon = _EPSILONS.get(dtype)
    if epsilon is None:
        floating = isinstance(dtype, np.dtype) and np.issubdtype(dtype, np.floating)
        epsilon = _EPSILONS[dtype] = float(np.finfo(dtype).eps) if floating else _FLOAT64_EPS
    return epsilon


def precision_slack(action, row_length: int) -> float:
    """How much wider than ``TIE_TOL`` (in the game's unit) an env's tie zone is for ``action``, whose simplex rows
    have ``row_length`` entries: ``row_length * action_epsilon(action)`` (see the module docstring)."""
    return row_length * action_epsilon(action)
