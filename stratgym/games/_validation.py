"""Shared argument checks: every failure is a ``ValueError`` naming the parameter and the expected form."""

from __future__ import annotations

import numpy as np


def as_real_array(value, name: str, shape: tuple | None = None, ndim: int | None = None) -> np.ndarray:
    """Return ``value`` as a read-only finite float64 array, checking its shape.

    ``shape`` entries may be ``None`` for "any length". Raises ``ValueError`` naming ``name``.
    """
    try:
        array = np.array(value, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} must be a real array, got {value!r}") from error
    expected_ndim = len(shape) if shape is not None else ndim
    if expected_ndim is not None and array.ndim != expected_ndim:
        raise ValueError(f"{name} must be {_describe(shape, expected_ndim)}, got shape {array.shape}")
    if shape is not None:
        for axis, (got, want) in enumerate(zip(array.shape, shape)):
            if want is not None and got != want:
                raise ValueError(f"{name} must have shape {_describe(shape, expected_ndim)}, got {array.shape} "
                                 f"(axis {axis} is {got}, expected {want})")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite (no NaN or inf), got {array!r}")
    array.setflags(write=False)
    return array


def _describe(shape: tuple | None, ndim: int | None) -> str:
    if shape is None:
        return f"a {ndim}-d array"
    if shape == ():
        return "a single number (shape ())"
    entries = ["any" if s is None else str(s) for s in shape]
    return "(" + ", ".join(entries) + ("," if len(entries) == 1 else "") + ")"


def check_range(array: np.ndarray, name: str, low: float | None = None, high: float | None = None,
                low_open: bool = False) -> None:
    """Raise ``ValueError`` naming ``name`` if any entry lies outside ``[low, high]`` (``(low, high]`` if ``low_open``)."""
    below = low is not None and (np.any(array <= low) if low_open else np.any(array < low))
    if below or (high is not None and np.any(array > high)):
        interval = (f"{'(' if low_open else '['}{'-inf' if low is None else low}, "
                    f"{'inf' if high is None else high}{')' if high is None else ']'}")
        raise ValueError(f"{name} must lie in {interval}, got {array!r}")


def as_positive_int(value, name: str, minimum: int = 1) -> int:
    """Return ``value`` as an int ``>= minimum``; booleans and non-integral numbers are rejected."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value}")
    return int(value)


def as_nonnegative_float(value, name: str, positive: bool = False) -> float:
    """Return a single real number ``>= 0`` (``> 0`` if ``positive``) as a float; ``ValueError`` naming ``name``
    otherwise (booleans and strings are not numbers here)."""
    if isinstance(value, (bool, np.bool_, str, bytes)):
        raise ValueError(f"{name} must be a finite number {'>' if positive else '>='} 0, got {value!r}")
    array = as_real_array(value, name, shape=())
    check_range(array, name, low=0.0, low_open=positive)
    return float(array)
