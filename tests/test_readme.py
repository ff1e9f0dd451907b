"""The README's Python examples run as written (they are the first code a user copies)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)


def test_readme_has_the_quickstart_examples():
    assert len(BLOCKS) >= 3


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_example_runs(index, capsys):
    exec(compile(BLOCKS[index], f"README.md python block {index}", "exec"), {})
    assert capsys.readouterr().out.strip()  # every example prints what it shows


def test_vector_env_line_of_the_readme_works():
    import gymnasium as gym
    import numpy as np

    import stratgym  # noqa: F401

    envs = gym.make_vec("stratgym/StatefulAgent-v0", num_envs=4, vectorization_mode="vector_entry_point")
    observations, _ = envs.reset(seed=0)
    assert observations.shape[0] == 4
    _, rewards, *_ = envs.step(envs.action_space.sample())
    assert rewards.shape == (4,) and np.all(np.isfinite(rewards))
    envs.close()
