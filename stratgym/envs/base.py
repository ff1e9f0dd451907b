"""What every stratgym env shares: the ``"ansi"`` and ``"rgb_array"`` render modes, the round counter and the step
guards."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.error import ResetNeeded

from stratgym.envs.render import as_panel, draw_panels


class RoundEnv(gym.Env):
    """Base of the stratgym envs: validates ``render_mode``, counts the rounds of an episode and guards ``step``.

    Subclasses set ``self._round = 0`` in ``reset`` (:meth:`_new_episode` does, where nothing is shown before the
    first step), call :meth:`_begin_step` first in ``step``, advance ``self._round`` and keep the last ``info`` in
    ``self._last_info`` (what ``render`` shows).
    """

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 4}

    def __init__(self, render_mode: str | None, episode_length: int | None):
        """``episode_length``: rounds after which the episode has ended (``None``: no natural end)."""
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be None or one of {self.metadata['render_modes']}, got {render_mode!r}")
        self.render_mode = render_mode
        self._round: int | None = None  # rounds played in this episode; None before the first reset
        self._episode_length = episode_length
        self._last_info: dict[str, Any] = {}

    def _new_episode(self, observation: np.ndarray, info: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        """``reset``'s return ``(observation, info)`` (``info`` default ``{}``) once the episode is set up: round 0,
        nothing to render yet. Called last, so that a ``reset`` that fails leaves the round counter as it was."""
        self._round = 0
        self._last_info = {}
        return observation, {} if info is None else info

    def _begin_step(self) -> int:
        """The 0-based index of the round about to be played; ``ResetNeeded`` if there is none."""
        if self._round is None:
            raise ResetNeeded("cannot call step() before reset()")
        if self._episode_length is not None and self._round >= self._episode_length:
            raise ResetNeeded("the episode has ended: call reset() before step()")
        return self._round

    def render(self) -> str | np.ndarray | None:
        """``"ansi"``: a text summary of the last step (or of the reset). ``"rgb_array"``: a ``(240, 320, 3)``
        ``uint8`` frame drawing each array of the last step's ``info`` (rule, effort, state, features; the scheme,
        the responses...) as a heatmap band, in ``info``'s order, each on its own min-max colour scale (white
        while there is nothing to show); envs whose ``info`` holds indices add them as one-hot bands (``_render_panels``)."""
        if self.render_mode is None:
            gym.logger.warn("render() called without a render_mode; pass render_mode='ansi' or 'rgb_array' to gym.make")
            return None
        if self.render_mode == "rgb_array":
            return draw_panels(self._render_panels()) if self._last_info else draw_panels([])
        length = "" if self._episode_length is None else f"/{self._episode_length}"
        lines = [f"{type(self).__name__}: round {self._round or 0}{length}"]
        for key, value in self._last_info.items():
            lines.append(f"  {key}: {np.array2string(np.asarray(value), precision=4, suppress_small=True)}")
        return "\n".join(lines) + "\n"

    def _render_panels(self) -> list[np.ndarray]:
        """The 2-D arrays an ``rgb_array`` frame draws after a step: the arrays of ``info``, in its order."""
        panels = (as_panel(value) for value in self._last_info.values())
        return [panel for panel in panels if panel is not None]
