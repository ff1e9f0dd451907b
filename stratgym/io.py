"""Result files: atomic output (a temporary file in the same folder, then ``os.replace``, so an interrupted run
leaves either the previous file or the new one, never half a file), and what every result records about how it
was made (:func:`provenance`, :func:`config_hash`)."""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

#: Distributions whose versions every result file records (they determine the numbers in it).
RECORDED_PACKAGES = ("stratgym", "stable-baselines3", "torch", "gymnasium", "numpy", "scipy")


def write_atomic(path: str | Path, data: bytes | str) -> Path:
    """Write ``data`` (bytes, or text as UTF-8) to ``path`` through a temporary file in the same folder and
    ``os.replace``; the folder is created if needed. Returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(payload)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, _new_file_mode())  # mkstemp makes it owner-only; a result file is as open() would make it
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def _new_file_mode() -> int:
    """The permissions ``open(path, "w")`` would give a new file: ``0o666`` less the process umask."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_json_atomic(path: str | Path, data) -> Path:
    """Write ``data`` as indented JSON to ``path`` with :func:`write_atomic`. Returns the path."""
    return write_atomic(path, json.dumps(data, indent=1))


def package_versions() -> dict[str, str]:
    """Installed version of each of :data:`RECORDED_PACKAGES` (``"not installed"`` for a missing one)."""
    versions = {}
    for name in RECORDED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def provenance() -> dict[str, Any]:
    """``{"versions": package_versions(), "command": sys.argv}``: recorded in every meta, record and summary file."""
    return {"versions": package_versions(), "command": list(sys.argv)}


def config_hash(config: Any, length: int = 8) -> str:
    """Short hex digest of a JSON-style configuration (key order does not matter): the key of a run folder.

    Values JSON cannot encode are hashed by their ``repr``.
    """
    text = json.dumps(config, sort_keys=True, separators=(",", ":"), default=repr)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:length]
