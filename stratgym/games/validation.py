"""Shared argument checks: every failure is a ``ValueError`` naming the parameter and the expected form."""

from __future__ import annotations

import numpy as np


def as_float_array(value, name: str) -> np.ndarray:
    """``value`` as a float64 array (the same object if it already is one, so hot paths pay nothing).

    Text is not a number here even where numpy would parse it (``"0.9"``), so strings, bytes and object
    arrays holding them are rejected, as are ragged nestings: ``ValueError`` naming ``name``. Boolean
    arrays convert to 0/1 (callers pass masks and labels); :func:`as_real_array` rejects a single boolean.
    """
    if type(value) is np.ndarray and value.dtype == np.float64:
        return value
    try:
        raw = np.asarray(value)
    except (TypeError, ValueError) as error:  # ragged nesting
        raise ValueError(f"{name} must be a real array, got {value!r}") from error
    if raw.dtype.kind in "SU" or (raw.dtype.kind == "O" and any(isinstance(x, (str, bytes)) for x in raw.flat)):
        raise ValueError(f"{name} must be real numbers, not text, got {value!r}")
    try:
        return raw.astype(np.float64, copy=False)
    except (TypeError, ValueError) as error:  # objects that are not numbers
        raise ValueError(f"{name} must be a real array, got {value!r}") from error


def as_real_array(value, name: str, shape: tuple | None = None, ndim: int | None = None) -> np.ndarray:
    """Return ``value`` as a read-only finite float64 array (a copy), checking its shape.

    ``shape`` entries may be ``None`` for "any length". Text is rejected (:func:`as_float_array`), and so is
    a boolean where a single number (``shape=()``) is asked for: ``budget=True`` is a slip, not ``1.0``.
    Raises ``ValueError`` naming ``name``.
    """
    single_bool = isinstance(value, (bool, np.bool_)) or (isinstance(value, np.ndarray) and value.dtype == bool)
    if shape == () and single_bool:
        raise ValueError(f"{name} must be a number, not a boolean, got {value!r}")
    array = np.array(as_float_array(value, name))  # a copy: the caller's array stays writable
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
    otherwise (booleans and strings are rejected by :func:`as_real_array`)."""
    array = as_real_array(value, name, shape=())
    check_range(array, name, low=0.0, low_open=positive)
    return float(array)


def as_bool(value, name: str) -> bool:
    """Return ``value`` if it is ``True`` or ``False`` (numpy booleans too); ``ValueError`` naming ``name`` otherwise:
    a flag given as ``"no"`` or ``0`` would otherwise be read by its truthiness."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def check_instance(value, kind: type | tuple[type, ...], name: str):
    """Return ``value`` if it is an instance of ``kind``; raise ``ValueError`` naming ``name`` otherwise (a wrong
    object would otherwise surface as an ``AttributeError`` deep inside a solver)."""
    if not isinstance(value, kind):
        kinds = kind if isinstance(kind, tuple) else (kind,)
        raise ValueError(f"{name} must be a {' or '.join(k.__name__ for k in kinds)}, got {type(value).__name__}")
    return value
