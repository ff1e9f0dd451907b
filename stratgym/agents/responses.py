"""Decision-subject response models beyond the exact ones, under their previous names.

The models themselves are behaviour objects of the game layer (:mod:`stratgym.games.behaviour`), which every
principal env takes as ``agent=``:

| principal env | bounded-rationality agents it takes (``agent=``) |
|---|---|
| ``StatefulPrincipal-v0`` | :class:`~stratgym.games.behaviour.Lookahead`, :class:`~stratgym.games.behaviour.Quantal` (round by round) |
| ``StatefulCommitment-v0`` | the same objects, facing the committed policy round by round |
| ``PersuasionScheme-v0`` | ``Quantal(beta)``: the logit agent over posterior expected utilities (formerly ``agent_beta``) |
| ``PersuasionRecommend-v0`` | ``Learning(beta)``: the logit version of the learning receiver (:class:`QuantalReceiver`) |

Lookahead has no meaning in the persuasion game, which is one decision per rule.

The previous names stay: ``LookaheadResponse(lookahead)`` is ``Lookahead(lookahead)``, ``QuantalResponse(beta,
lookahead=None)`` is ``Quantal(beta, lookahead)``, and :class:`QuantalReceiver`, :func:`planning_game` and
:func:`respond_to_policy` (:mod:`stratgym.envs.stateful`) are re-exported here.
"""

from __future__ import annotations

from stratgym.envs.stateful import respond_to_policy
from stratgym.games.behaviour import Lookahead, Quantal, QuantalReceiver, planning_game

__all__ = ["LookaheadResponse", "QuantalResponse", "QuantalReceiver", "planning_game", "respond_to_policy"]


def LookaheadResponse(lookahead: int | None) -> Lookahead:  # noqa: N802 (the previous release's class name)
    """``Lookahead(lookahead)``: plans ``lookahead`` rounds ahead (1 = myopic; ``None``: the rest of the horizon)."""
    return Lookahead(lookahead)


def QuantalResponse(beta: float, lookahead: int | None = None) -> Quantal:  # noqa: N802 (the previous class name)
    """``Quantal(beta, lookahead)``: the logit agent over the budget set's vertices by their lookahead values."""
    return Quantal(beta, lookahead)
