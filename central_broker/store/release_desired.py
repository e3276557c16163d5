"""Which app release each kiosk's `down/desired` names (mixed into `FleetStore`).

`release_desired` has one row per kiosk that was told a release: version, bundle hash, length and
download URL, and when that document was last signed (the re-signing clock, like `fleet_signed`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import BigInteger, Column, Engine, String, Table, Text, select, update

from central_broker.store.schema import metadata
from madoguchi.contracts.signed import ReleaseRef

__all__ = ["ReleaseDesiredStore", "release_desired"]

release_desired = Table(
    "release_desired",
    metadata,
    Column("device_id", String(64), primary_key=True),
    Column("version", String(32), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("length", BigInteger, nullable=False),
    Column("url", Text, nullable=False),
    Column("signed_at", BigInteger, nullable=False),  # central epoch ms
)


class ReleaseDesiredStore:
    """Reads and writes of `release_desired` (mixed into `FleetStore`)."""

    engine: Engine

    def _insert(self) -> Any:  # pragma: no cover - provided by FleetStore
        raise NotImplementedError

    def now_ms(self) -> int:  # pragma: no cover - provided by FleetStore
        raise NotImplementedError

    def record_release_desired(self, device_ids: Iterable[str], ref: ReleaseRef) -> None:
        """Remember that these kiosks were told to run `ref`."""
        values = {"version": ref.version, "sha256": ref.sha256, "length": ref.length, "url": ref.url,
                  "signed_at": self.now_ms()}  # fmt: skip
        with self.engine.begin() as conn:
            for device_id in device_ids:
                statement = self._insert()(release_desired).values(device_id=device_id, **values)
                conn.execute(
                    statement.on_conflict_do_update(index_elements=[release_desired.c.device_id], set_=values)
                )

    def release_desired(self) -> dict[str, tuple[ReleaseRef, int]]:
        """Kiosk → (the release its desired document names, when that was signed, epoch ms)."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(release_desired).order_by(release_desired.c.device_id))
            return {
                r.device_id: (ReleaseRef(version=r.version, sha256=r.sha256, length=r.length, url=r.url), r.signed_at)
                for r in rows
            }  # fmt: skip

    def touch_release_desired(self, device_ids: Iterable[str]) -> None:
        """Their desired documents were signed again just now."""
        ids = list(device_ids)
        if ids:
            with self.engine.begin() as conn:
                conn.execute(
                    update(release_desired)
                    .where(release_desired.c.device_id.in_(ids))
                    .values(signed_at=self.now_ms())
                )
