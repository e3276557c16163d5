"""Which branch office a kiosk issues numbers for: the branch of its latest birth in the central store.

Never taken from the request: a kiosk could otherwise take numbers (or read lamps) of another branch.
A kiosk the store never saw, a revoked one, one that reported no branch, or one whose branch is not in
`[queue] branches` (when that list is set) gets no number.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection

from sqlalchemy import Engine, select

from central_broker.store.models import DeviceStatus
from central_broker.store.schema import kiosk_state
from madoguchi.contracts.queue import RefusalKind

__all__ = ["BranchError", "BranchResolver"]

CACHE_S = 30.0


class BranchError(Exception):
    """The kiosk has no branch that issues numbers: `kind` for the refusal, message and hint for people."""

    def __init__(self, kind: RefusalKind, message: str, hint: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.hint = hint


class BranchResolver:
    """Device id → branch, read from `kiosk_state` (cached for `CACHE_S`; a birth changing it is seen then).

    Args:
        engine: the central store's engine.
        branches: branches that issue numbers; empty: every branch.
        clock: monotonic seconds.
    """

    def __init__(
        self,
        engine: Engine,
        branches: Collection[str] = (),
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self.branches = frozenset(branches)
        self._clock = clock
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[float, str | None, str]] = {}

    def serves(self, branch: str | None) -> bool:
        """True when `branch` issues numbers."""
        return bool(branch) and (not self.branches or branch in self.branches)

    def _read(self, device_id: str) -> tuple[str | None, str] | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(kiosk_state.c.branch, kiosk_state.c.status).where(kiosk_state.c.device_id == device_id)
            ).first()
        return None if row is None else (row.branch, row.status)

    def branch_of(self, device_id: str) -> str:
        """The branch `device_id` issues numbers for.

        Raises:
            BranchError: UNKNOWN_DEVICE (never seen, or revoked) or UNKNOWN_BRANCH.
        """
        now = self._clock()
        with self._lock:
            cached = self._cache.get(device_id)
        if cached is not None and now - cached[0] < CACHE_S:
            branch, status = cached[1], cached[2]
        else:
            found = self._read(device_id)
            if found is None:
                raise BranchError(
                    RefusalKind.UNKNOWN_DEVICE,
                    f"the central has no record of kiosk {device_id}",
                    "the kiosk must connect (birth) to the central before it issues numbers",
                )
            branch, status = found
            with self._lock:
                self._cache[device_id] = (now, branch, status)
        if status == DeviceStatus.REVOKED.value:
            raise BranchError(
                RefusalKind.UNKNOWN_DEVICE, f"kiosk {device_id} is revoked", "enrol the kiosk again"
            )
        if not branch:
            raise BranchError(
                RefusalKind.UNKNOWN_BRANCH,
                f"kiosk {device_id} reported no branch office",
                "set [kiosk] branch in the kiosk's configuration",
            )
        if not self.serves(branch):
            raise BranchError(
                RefusalKind.UNKNOWN_BRANCH,
                f"branch {branch} issues no visit numbers",
                "add it to [queue] branches in central.toml, or take a number at the reception desk",
            )
        return branch
