"""The README's Python examples run as written (they are the first code a user copies)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
TEXT = README.read_text()
#: The "Add your own game" section registers a family: its examples run together in a subprocess, so the registry
#: of this session keeps the packaged families only.
OWN_GAME = re.search(r"\n## Add your own game\n(.*?)\n## ", TEXT, flags=re.DOTALL).group(1)
OWN_GAME_BLOCKS = re.findall(r"```python\n(.*?)```", OWN_GAME, flags=re.DOTALL)
BLOCKS = re.findall(r"```python\n(.*?)```", TEXT.replace(OWN_GAME, ""), flags=re.DOTALL)


def test_readme_has_the_quickstart_examples():
    assert len(BLOCKS) >= 3 and len(OWN_GAME_BLOCKS) >= 2


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_example_runs(index, capsys):
    exec(compile(BLOCKS[index], f"README.md python block {index}", "exec"), {})
    assert capsys.readouterr().out.strip()  # every example prints what it shows


def test_the_add_your_own_game_examples_register_score_and_benchmark_a_new_family():
    done = subprocess.run([sys.executable, "-c", "\n".join(OWN_GAME_BLOCKS)], capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr
    scores, benchmark = done.stdout.strip().splitlines()[-2:]
    values = [float(value) for value in re.findall(r": (\S+)", scores)]
    assert values == pytest.approx([0.6, 0.5, 0.6])  # offering the cost (a tie) earns the optimum
    label, learner, _, learned, _, optimum = benchmark.split()
    assert (label, learner) == ("Bonus-v0", "ppo") and float(optimum) == pytest.approx(0.7)
    assert 0.0 <= float(learned) <= float(optimum) + 1e-6


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
