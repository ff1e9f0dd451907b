"""What the games' frozen parameter dataclasses share: sizes read off their arrays' shapes, and field-wise equality.

The games (:class:`~stratgym.games.matrix.MatrixGame`, :class:`~stratgym.games.stateful.StatefulGame`,
:class:`~stratgym.games.persuasion.PersuasionGame`), the persuasion priors and :class:`~stratgym.games.persuasion.Regions`
are frozen dataclasses of validated numpy arrays. A dataclass's generated ``__eq__`` would compare arrays with ``==``
(an array, not a bool), so they are declared with ``eq=False`` and take :class:`FieldwiseEqual` instead.
"""

from __future__ import annotations

import dataclasses

import numpy as np


def values_equal(a, b) -> bool:
    """Whether two field values are equal: arrays element for element (same shape), anything else by ``==``."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.array_equal(a, b)
    return not a != b


def fields_equal(first, second) -> bool:
    """Whether two dataclass instances have the same type and equal fields (:func:`values_equal`)."""
    return type(first) is type(second) and all(values_equal(getattr(first, item.name), getattr(second, item.name))
                                               for item in dataclasses.fields(first))


class FieldwiseEqual:
    """Equality of a frozen parameter dataclass declared with ``eq=False``: the same type and equal fields
    (:func:`fields_equal`). Unhashable: equal instances could not be given equal hashes cheaply, arrays being
    unhashable."""

    def __eq__(self, other) -> bool:
        return fields_equal(self, other) if isinstance(other, type(self)) else NotImplemented

    __hash__ = None


def axis_length(field: str, axis: int, doc: str) -> property:
    """A read-only property documented by ``doc``: the length of axis ``axis`` of the array field ``field`` (a size of
    the game, e.g. ``n_features = axis_length("features", 0, ...)``)."""

    def length(self) -> int:
        return getattr(self, field).shape[axis]

    return property(length, doc=doc)
