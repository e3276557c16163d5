"""Which `(device_id, seq)` keys of a list are stored in `kiosk_stat`, by one index seek per key.

`(device_id, seq) IN (VALUES …)` makes SQLite scan the whole primary-key index (the cost grows
with every statistic ever stored). Joining a VALUES list *first* (`CROSS JOIN` fixes the order
in SQLite; PostgreSQL plans a nested loop with an index scan) seeks each key instead, so a probe
costs the same on an empty store and after a year of data.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import TextClause, text

__all__ = ["PROBE_CHUNK", "stored_keys_query"]

PROBE_CHUNK = 400  # keys per statement (800 parameters; SQLite allows 32,766)


def stored_keys_query(keys: list[tuple[str, int]]) -> tuple[TextClause, dict[str, Any]]:
    """A statement returning the `device_id` of every key in `keys` that is stored, and its parameters."""
    if not keys:
        raise ValueError("stored_keys_query needs at least one key")
    rows = ", ".join(f"(:d{n}, :s{n})" for n in range(len(keys)))
    params: dict[str, Any] = {}
    for n, (device_id, seq) in enumerate(keys):
        params[f"d{n}"] = device_id
        params[f"s{n}"] = seq
    statement = text(
        f"WITH probe(device_id, seq) AS (VALUES {rows}) "  # noqa: S608 - only placeholders are formatted in
        "SELECT kiosk_stat.device_id FROM probe CROSS JOIN kiosk_stat "
        "WHERE kiosk_stat.device_id = probe.device_id AND kiosk_stat.seq = probe.seq"
    )
    return statement, params
