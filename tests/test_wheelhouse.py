"""The kiosk wheelhouse (`provisioning/image/wheelhouse.sh`): built on x86 from PyPI, installs offline on aarch64.

The build needs PyPI (or `PIP_INDEX_URL`); the tests skip when the script says it cannot reach it. pip's
download cache (`PIP_CACHE_DIR`, default `~/.cache/pip`) makes a second run fast. PyPI has no Linux
wheel of pyscard at all (sdist only), so the tests stand in for the arm64 builder's wheel
(`pyscard-2.3.1-cp313-cp313-linux_aarch64.whl`, metadata only) through `KIOSK_EXTRA_WHEELS`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name, parse_wheel_filename

from madoguchi.errors import UserError
from provisioning.updates.sums import SUMS_NAME, verify_sums
from provisioning.updates.wheelhouse import check_wheelhouse, kiosk_requirements
from tests.release_wheels import make_wheel

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "provisioning" / "image" / "wheelhouse.sh"
NEEDS_INDEX = 2  # the script's exit code when PyPI or the mirror cannot be reached

pytestmark = pytest.mark.slow


def _run(out: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "PYTHON": sys.executable, **env}
    return subprocess.run(
        [str(SCRIPT), str(out)], capture_output=True, text=True, env=full_env, timeout=600, check=False
    )


def _stand_in_pyscard(folder: Path) -> Path:
    """What the arm64 builder's `pip wheel pyscard==2.3.1` yields, as far as pip's resolver can tell."""
    return make_wheel(folder, "2.3.1", name="pyscard", tag="cp313-cp313-linux_aarch64")


@pytest.fixture(scope="module")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    extra = tmp_path_factory.mktemp("extra-wheels")
    _stand_in_pyscard(extra)
    out = tmp_path_factory.mktemp("wheelhouse")
    done = _run(out, KIOSK_EXTRA_WHEELS=str(extra))
    if done.returncode == NEEDS_INDEX:
        pytest.skip(f"no package index reachable: {done.stderr.strip().splitlines()[-1]}")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "OK: madoguchi[kiosk]==" in done.stdout
    return out


def test_wheelhouse_installs_offline_on_aarch64_cp313(wheelhouse: Path) -> None:
    """GIVEN the built wheelhouse WHEN pip resolves madoguchi[kiosk] from it alone for cp313/aarch64
    THEN every kiosk dependency comes from the folder and nothing is left over."""
    version = next(wheelhouse.glob("madoguchi-*.whl")).name.split("-")[1]
    report = check_wheelhouse(wheelhouse, "madoguchi", version, ["kiosk"])
    resolved = {parse_wheel_filename(name)[0] for name in report.resolved}
    wanted = {
        "madoguchi",
        "kivy",
        "pyscard",
        "pydantic-core",
        "cryptography",
        "pillow",
        "weasyprint",
        "paho-mqtt",
    }
    assert wanted <= resolved
    assert report.unused == ()


def test_every_wheel_is_aarch64_or_pure(wheelhouse: Path) -> None:
    """GIVEN the wheelhouse THEN each wheel is pure Python or built for aarch64 (never x86 or an sdist)."""
    files = sorted(wheelhouse.iterdir())
    assert not [p.name for p in files if p.suffix not in {".whl", ""} and p.name != "constraints.txt"]
    for path in files:
        if path.suffix != ".whl":
            continue
        platforms = {tag.platform for tag in parse_wheel_filename(path.name)[3]}
        assert platforms == {"any"} or all(p.endswith("_aarch64") for p in platforms), path.name
    app = next(wheelhouse.glob("madoguchi-*.whl")).name
    assert app.endswith("-py3-none-any.whl")


def test_every_kiosk_requirement_has_a_wheel(wheelhouse: Path) -> None:
    """GIVEN pyproject's kiosk extra THEN each of its distributions has a wheel in the folder."""
    names = {parse_wheel_filename(p.name)[0] for p in wheelhouse.glob("*.whl")}
    for requirement in kiosk_requirements(REPO / "pyproject.toml", ["kiosk"]):
        assert canonicalize_name(Requirement(requirement).name) in names, requirement


def test_sha256sums_cover_the_wheelhouse(wheelhouse: Path) -> None:
    """GIVEN the wheelhouse THEN SHA256SUMS lists every wheel and constraints.txt, and each hash matches."""
    report = verify_sums(wheelhouse / SUMS_NAME)
    expected = {p.name for p in wheelhouse.glob("*.whl")} | {"constraints.txt"}
    assert set(report.files) == expected
    if shutil.which("sha256sum"):
        subprocess.run(["sha256sum", "--quiet", "-c", SUMS_NAME], cwd=wheelhouse, check=True)


def test_check_refuses_a_wheelhouse_without_pyscard(wheelhouse: Path, tmp_path: Path) -> None:
    """GIVEN the wheelhouse without the pyscard wheel WHEN checked THEN pip's offline resolution fails naming it."""
    copy = tmp_path / "wh"
    shutil.copytree(wheelhouse, copy, ignore=shutil.ignore_patterns("pyscard-*", SUMS_NAME))
    version = next(copy.glob("madoguchi-*.whl")).name.split("-")[1]
    with pytest.raises(UserError, match="pyscard"):
        check_wheelhouse(copy, "madoguchi", version, ["kiosk"])


def test_check_refuses_an_x86_wheel_and_a_changed_file(wheelhouse: Path, tmp_path: Path) -> None:
    """GIVEN an x86_64 wheel, or a wheel changed after SHA256SUMS was written THEN the check refuses."""
    copy = tmp_path / "wh"
    shutil.copytree(wheelhouse, copy)
    version = next(copy.glob("madoguchi-*.whl")).name.split("-")[1]
    tampered = next(copy.glob("pyscard-*.whl"))
    tampered.write_bytes(tampered.read_bytes() + b"\0")
    with pytest.raises(UserError, match="does not match its SHA-256"):
        check_wheelhouse(copy, "madoguchi", version, ["kiosk"])
    (copy / SUMS_NAME).unlink()
    make_wheel(copy, "9.9.9", name="x86thing", tag="cp313-cp313-manylinux_2_17_x86_64")
    with pytest.raises(UserError, match="cannot install on the kiosks"):
        check_wheelhouse(copy, "madoguchi", version, ["kiosk"])


def test_without_an_arm64_pyscard_the_script_says_what_to_build(wheelhouse: Path, tmp_path: Path) -> None:
    """GIVEN no KIOSK_EXTRA_WHEELS WHEN the script runs THEN it stops naming pyscard and the fix."""
    done = _run(tmp_path / "out", KIOSK_EXTRA_WHEELS="")
    assert done.returncode == 3, done.stderr
    assert "has no wheel of pyscard" in done.stderr
    assert "KIOSK_EXTRA_WHEELS" in done.stderr


def test_without_an_index_the_script_says_it_needs_pypi_or_a_mirror(tmp_path: Path) -> None:
    """GIVEN an unreachable index (no network) WHEN the script runs THEN it fails at once and says so."""
    done = _run(tmp_path / "out", PIP_INDEX_URL="http://127.0.0.1:9/simple", WHEELHOUSE_TIMEOUT="5")
    assert done.returncode == NEEDS_INDEX, done.stderr
    assert "needs PyPI or a mirror (PIP_INDEX_URL)" in done.stderr
