"""scripts/bootstrap.sh: without root or sudo it prints the exact apt command and stops non-zero."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _stub(bin_dir: Path, name: str, body: str) -> None:
    path = bin_dir / name
    path.write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
    path.chmod(0o755)


def test_missing_packages_without_privileges_print_the_apt_command(tmp_path: Path) -> None:
    """GIVEN an unprivileged user and two missing packages WHEN bootstrapping THEN the exact command is shown."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    # The OS package database and identity are outside the system under test: stub them.
    _stub(
        bin_dir, "dpkg-query", 'case "$3" in pcscd|opensc) exit 1;; *) printf "install ok installed";; esac'
    )
    _stub(bin_dir, "id", "echo 1000")
    _stub(bin_dir, "sudo", "exit 1")
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "VENV": str(tmp_path / "venv")}
    result = subprocess.run(
        ["bash", str(ROOT / "scripts/bootstrap.sh")], capture_output=True, text=True, env=env, timeout=60
    )
    assert result.returncode != 0
    assert "missing: pcscd opensc" in result.stderr
    assert (
        "sudo apt-get update && sudo apt-get install -y --no-install-recommends pcscd opensc" in result.stderr
    )
    assert not (tmp_path / "venv").exists(), "nothing is installed when packages are missing"


def _fake_env(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """Every Debian package present, and a venv whose python only records how it was called."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    _stub(bin_dir, "dpkg-query", 'printf "install ok installed"')
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    calls = tmp_path / "calls.txt"
    _stub(venv / "bin", "python", f'echo "$@" >> {calls}')
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "VENV": str(venv)}
    return env, calls


def _run(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(ROOT / "scripts/bootstrap.sh")],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        cwd=ROOT,
    )


def test_changed_pyproject_reinstalls_the_project_with_all_extras(tmp_path: Path) -> None:
    """GIVEN a venv installed from another pyproject WHEN bootstrapping THEN the project is reinstalled."""
    env, calls = _fake_env(tmp_path)
    (tmp_path / "venv" / ".madoguchi-installed").write_text("an older pyproject\n", encoding="utf-8")
    result = _run(env)
    assert result.returncode == 0, result.stderr
    assert "-m pip install -q -e .[all]" in calls.read_text(encoding="utf-8")


def test_second_run_installs_nothing_when_everything_is_in_place(tmp_path: Path) -> None:
    """GIVEN packages, venv and a stamp of the current pyproject WHEN bootstrapping THEN nothing runs."""
    env, calls = _fake_env(tmp_path)
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    (tmp_path / "venv" / ".madoguchi-installed").write_text(digest + "\n", encoding="utf-8")
    result = _run(env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert not calls.exists(), "pip ran although nothing changed"
