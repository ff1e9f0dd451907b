"""Atomic writes: all or nothing, and the permissions a plain write would give."""

import os
import stat

import pytest

from stratgym.io import write_atomic


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_atomic_files_get_the_permissions_of_a_plain_write(tmp_path, umask):
    previous = os.umask(umask)
    try:
        plain = tmp_path / "plain.txt"
        plain.write_text("x")
        atomic = write_atomic(tmp_path / "sub" / "atomic.txt", "x")
    finally:
        os.umask(previous)
    assert atomic.read_text() == "x"
    assert stat.S_IMODE(atomic.stat().st_mode) == stat.S_IMODE(plain.stat().st_mode) == 0o666 & ~umask
    assert [p.name for p in atomic.parent.iterdir()] == ["atomic.txt"]  # no temporary left behind


def test_a_failed_write_leaves_the_previous_file(tmp_path, monkeypatch):
    target = write_atomic(tmp_path / "out.txt", "old")

    def broken_replace(source, destination):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        write_atomic(target, "new")
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["out.txt"]
