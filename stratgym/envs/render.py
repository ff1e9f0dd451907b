"""``rgb_array`` rendering drawn with numpy alone (no display, no plotting library): the arrays of an env's last
step as heatmaps stacked on one fixed-size canvas, so frames of one env always have the same shape (what SB3's
``make_vec_env`` and Gymnasium's ``RecordVideo`` need)."""

from __future__ import annotations

from typing import Iterable

import numpy as np

#: Height and width of every frame, in pixels.
FRAME_SHAPE = (240, 320)
#: Pixels of white between two panels.
PANEL_GAP = 4
#: Colour map anchors (RGB), low to high: dark blue, teal, yellow (a viridis-like ramp).
_ANCHORS = np.array([[68, 1, 84], [33, 145, 140], [253, 231, 37]], dtype=np.float64)
_MISSING = np.array([160, 160, 160], dtype=np.uint8)  # NaN / inf cells


def colour(values: np.ndarray) -> np.ndarray:
    """RGB ``uint8`` ``(..., 3)`` for ``values`` in ``[0, 1]`` (``(...)``; NaN drawn grey)."""
    finite = np.isfinite(values)
    position = np.clip(np.where(finite, values, 0.0), 0.0, 1.0) * (len(_ANCHORS) - 1)
    low = np.minimum(position.astype(int), len(_ANCHORS) - 2)
    weight = (position - low)[..., None]
    rgb = (_ANCHORS[low] * (1.0 - weight) + _ANCHORS[low + 1] * weight).round().astype(np.uint8)
    rgb[~finite] = _MISSING
    return rgb


def as_panel(value) -> np.ndarray | None:
    """``value`` as a 2-D float array to draw (a vector is one row; more axes are flattened into columns), or
    ``None`` if it is not an array of at least two numbers."""
    array = np.asarray(value)
    if array.ndim == 0 or array.size < 2 or not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        return None
    array = array.astype(np.float64)
    return array[None, :] if array.ndim == 1 else array.reshape(array.shape[0], -1)


def draw_panels(arrays: Iterable[np.ndarray], shape: tuple[int, int] = FRAME_SHAPE) -> np.ndarray:
    """One frame ``(height, width, 3)`` ``uint8``: each 2-D array a heatmap band (its own min-max scale, cells
    stretched by nearest neighbour), top to bottom; a white frame if there is nothing to draw."""
    height, width = shape
    canvas = np.full((height, width, 3), 255, dtype=np.uint8)
    panels = list(arrays)
    if not panels:
        return canvas
    band = height // len(panels)
    for index, panel in enumerate(panels):
        rows_drawn = max(band - PANEL_GAP, 1)
        finite = panel[np.isfinite(panel)]
        low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        scaled = (panel - low) / (high - low) if high > low else np.full_like(panel, 0.5)
        rows = np.arange(rows_drawn) * panel.shape[0] // rows_drawn
        columns = np.arange(width) * panel.shape[1] // width
        top = index * band
        canvas[top:top + rows_drawn] = colour(scaled[rows][:, columns])
    return canvas
