"""python-escpos' capability cache lives in a folder of ours, and kiosk commands leave nothing in the temp dir.

python-escpos 3.1 created an empty folder in the temp dir in every process that imported it (and re-read
its YAML database each time); on a kiosk that is one folder per start, per print test, per diagnosis.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from central_broker.broker import MosquittoBroker
from tests.fixtures.fleet import new_device_id

BIN = Path(sys.executable).parent


def _env(tmp_path: Path) -> dict[str, str]:
    """A private temp dir and cache home, so what the command leaves there is visible."""
    (tmp_path / "tmp").mkdir()
    env = {k: v for k, v in os.environ.items() if k != "ESCPOS_CAPABILITIES_PICKLE_DIR"}
    return {**env, "TMPDIR": str(tmp_path / "tmp"), "XDG_CACHE_HOME": str(tmp_path / "cache")}


def test_print_test_leaves_no_folder_in_the_temp_dir_and_caches_the_capabilities(tmp_path: Path) -> None:
    """GIVEN a private temp dir WHEN `kiosk print-test ticket` prints on the virtual printer THEN the temp
    dir is still empty and python-escpos' capabilities are cached under $XDG_CACHE_HOME/madoguchi/escpos."""
    env = _env(tmp_path)
    out = tmp_path / "printed"
    for _ in range(2):  # the second run reads the cache the first one wrote
        done = subprocess.run(
            [str(BIN / "kiosk"), "print-test", "ticket", "--printer", f"emulated://printer?out={out}"],
            capture_output=True, text=True, timeout=120, env=env,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
    assert list((tmp_path / "tmp").iterdir()) == []
    cached = list((tmp_path / "cache" / "madoguchi" / "escpos").iterdir())
    assert [p.name.endswith(".capabilities.pickle") for p in cached] == [True]


def test_a_kiosk_caches_the_capabilities_in_its_data_dir(tmp_path: Path) -> None:
    """GIVEN a kiosk data dir named with `use_data_dir` WHEN a ticket is encoded THEN the capability cache
    is in <data_dir>/cache/escpos and the temp dir stays empty."""
    env = _env(tmp_path)
    data_dir = tmp_path / "data"
    code = (
        "from pathlib import Path\n"
        "from device_drivers.printer import encode_job, profile_for\n"
        "from device_drivers.printer.escpos_cache import use_data_dir\n"
        "from device_drivers.printer.samples import sample_document\n"
        f"use_data_dir(Path({str(data_dir)!r}))\n"
        "assert len(encode_job(sample_document('ticket', 'ja'), profile_for(None)))\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120, env=env)
    assert list((tmp_path / "tmp").iterdir()) == []
    assert [p.suffix for p in (data_dir / "cache" / "escpos").iterdir()] == [".pickle"]


@pytest.mark.mosquitto
def test_kiosk_run_leaves_no_folder_in_the_temp_dir(mosquitto: MosquittoBroker, tmp_path: Path) -> None:
    """GIVEN a private temp dir WHEN `kiosk run --simulate --ui off` starts and stops THEN the temp dir
    is empty."""
    env = _env(tmp_path)
    kiosk = subprocess.Popen(
        [str(BIN / "kiosk"), "run", "--simulate", "--ui", "off", "--broker", mosquitto.url,
         "--data-dir", str(tmp_path / "data"), "--device-id", new_device_id()],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
    )  # fmt: skip
    try:
        assert kiosk.stderr is not None
        seen = []
        for line in kiosk.stderr:  # "kiosk <id>: fleet link to ..." once it runs
            seen.append(line)
            if b"fleet link to" in line:
                break
        assert seen and b"fleet link to" in seen[-1], b"".join(seen)
        kiosk.terminate()
        assert kiosk.wait(30) == 0
    finally:
        if kiosk.poll() is None:
            kiosk.kill()
            kiosk.wait(10)
    assert list((tmp_path / "tmp").iterdir()) == []
