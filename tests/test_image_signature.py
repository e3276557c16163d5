"""SHA256SUMS and its detached Ed25519 signature for the kiosk image (`python -m provisioning.updates.sums`)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from madoguchi.errors import UserError
from provisioning.updates.keys import generate_key
from provisioning.updates.sums import main, sign_sums, verify_sums, write_sums

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def deploy(tmp_path: Path) -> Path:
    folder = tmp_path / "deploy"
    folder.mkdir()
    (folder / "madoguchi-kiosk.img.xz").write_bytes(b"\xfd7zXZ\0" + bytes(range(256)) * 64)
    (folder / "madoguchi-kiosk.bmap").write_text("<bmap/>\n")
    return folder


def test_signed_sums_verify_and_name_the_key(deploy: Path, tmp_path: Path) -> None:
    """GIVEN an image and its bmap WHEN summed and signed with an image key THEN verify names the key."""
    public = generate_key(tmp_path / "keys" / "image-2026.key")
    sums = write_sums(deploy.glob("madoguchi-kiosk.*"))
    sign_sums(sums, tmp_path / "keys" / "image-2026.key")
    report = verify_sums(sums, public)
    assert report.files == ("madoguchi-kiosk.bmap", "madoguchi-kiosk.img.xz")
    assert report.key_id is not None
    assert (deploy / "SHA256SUMS.sig").stat().st_size == 64
    if shutil.which("sha256sum"):
        subprocess.run(["sha256sum", "--quiet", "-c", "SHA256SUMS"], cwd=deploy, check=True)


def test_a_changed_image_or_sums_file_is_refused(deploy: Path, tmp_path: Path) -> None:
    """GIVEN a signed SHA256SUMS WHEN the image or the SUMS file changes THEN verification fails, naming which."""
    public = generate_key(tmp_path / "image.key")
    sums = write_sums(deploy.glob("madoguchi-kiosk.*"))
    sign_sums(sums, tmp_path / "image.key")
    image = deploy / "madoguchi-kiosk.img.xz"
    image.write_bytes(image.read_bytes()[:-1] + b"\0")
    with pytest.raises(UserError, match=r"madoguchi-kiosk\.img\.xz does not match"):
        verify_sums(sums, public)
    write_sums(deploy.glob("madoguchi-kiosk.*"))  # re-summed after the change, but not re-signed
    with pytest.raises(UserError, match="not a valid signature"):
        verify_sums(sums, public)


def test_another_key_is_refused(deploy: Path, tmp_path: Path) -> None:
    """GIVEN SUMS signed with one key WHEN verified against another THEN it is refused."""
    generate_key(tmp_path / "a.key")
    other = generate_key(tmp_path / "other" / "b.key")
    sums = write_sums(deploy.glob("madoguchi-kiosk.*"))
    sign_sums(sums, tmp_path / "a.key")
    with pytest.raises(UserError, match="not a valid signature"):
        verify_sums(sums, other)


def test_openssl_verifies_the_signature_without_this_project(deploy: Path, tmp_path: Path) -> None:
    """GIVEN a signed SHA256SUMS THEN stock OpenSSL (3.x, -rawin) accepts the signature with the .pub file."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed")
    public = generate_key(tmp_path / "image.key")
    sums = write_sums(deploy.glob("madoguchi-kiosk.*"))
    sig = sign_sums(sums, tmp_path / "image.key")
    argv = [openssl, "pkeyutl", "-verify", "-pubin", "-inkey", str(public), "-rawin", "-in", str(sums)]
    done = subprocess.run([*argv, "-sigfile", str(sig)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    sig.write_bytes(bytes(64))
    assert subprocess.run([*argv, "-sigfile", str(sig)], capture_output=True, check=False).returncode != 0


def test_cli_write_sign_verify(deploy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """GIVEN the documented commands WHEN run in order THEN verify prints OK and exits 0; a missing file exits 1."""
    public = generate_key(tmp_path / "image.key")
    files = [str(p) for p in sorted(deploy.glob("madoguchi-kiosk.*"))]
    assert main(["write", *files]) == 0
    assert main(["sign", str(deploy / "SHA256SUMS"), "--key", str(tmp_path / "image.key")]) == 0
    assert main(["verify", str(deploy / "SHA256SUMS"), "--keys", str(public)]) == 0
    assert "OK: 2 files match SHA256SUMS, signature by key" in capsys.readouterr().out
    (deploy / "madoguchi-kiosk.bmap").unlink()
    assert main(["verify", str(deploy / "SHA256SUMS"), "--keys", str(public)]) == 1
    assert "madoguchi-kiosk.bmap (listed in SHA256SUMS) is missing" in capsys.readouterr().err


def test_module_runs_as_documented() -> None:
    """GIVEN `python -m provisioning.updates.sums --help` THEN it runs from the repository."""
    done = subprocess.run(
        [sys.executable, "-m", "provisioning.updates.sums", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0
    assert "write" in done.stdout
