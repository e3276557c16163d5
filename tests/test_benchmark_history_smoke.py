"""The ingest and payment benchmarks give honest figures when run again on what an earlier run left.

`fleet_ingest --store` on a store that already holds statistics counts only this run's statistics
(the kiosks continue after their acknowledged seqs); `payment_sale --dir` can reuse its folder and
names the file system as mounted (figures are printed, not checked).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from central_broker.store import open_store, sqlite_url
from madoguchi.contracts.messages import StatsBatch, StatsItem

pytestmark = pytest.mark.slow

_ROOT = Path(__file__).resolve().parents[1]


def _ids(kiosks: int) -> list[str]:
    return [f"jp-{100000 + i // 4:06d}-k{i % 4 + 1:02d}" for i in range(kiosks)]  # as fleet_ingest names them


@pytest.mark.mosquitto
def test_fleet_ingest_on_a_store_with_history_counts_only_its_own_statistics(tmp_path: Path) -> None:
    """GIVEN a store where the benchmark's 20 kiosks already have 50 statistics each WHEN `fleet_ingest --store`
    runs 5 statistics per kiosk THEN it reports 100 stored, de-duplicated, at a rate measured on those 100."""
    url = sqlite_url(tmp_path / "central.db")
    store = open_store(url)
    try:
        for dev in _ids(20):
            items = [StatsItem.model_validate({"seq": s, "ts": s, "kind": "payment"}) for s in range(1, 51)]
            store.record_stats(dev, StatsBatch(batch=(1, 50), items=items))
    finally:
        store.close()
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.fleet_ingest", "--kiosks", "20", "--items", "5", "--duration", "1",
         "--rate", "100", "--store", url],
        cwd=_ROOT, capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "stored 100 (de-duplicated: yes)" in result.stdout, result.stdout


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc/self/mounts")
def test_payment_sale_benchmark_reuses_its_folder_and_names_the_file_system(tmp_path: Path) -> None:
    """GIVEN `payment_sale.py --dir D` has run once WHEN it runs again with the same folder THEN it succeeds,
    names the file system as `findmnt` does (ext4, not "ext2/ext3") and leaves no journal behind."""
    command = [sys.executable, "-m", "benchmarks.payment_sale", "--sales", "3", "--dir", str(tmp_path)]
    for _ in range(2):
        result = subprocess.run(command, cwd=_ROOT, capture_output=True, text=True, timeout=180, check=False)
        assert result.returncode == 0, result.stdout + result.stderr
    mounted = subprocess.run(
        ["findmnt", "-n", "-o", "FSTYPE", "--target", str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    named = re.search(r"journal on (\S+) \(", result.stdout)
    assert named is not None and named.group(1) == mounted, result.stdout
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith("bench-payments")]
