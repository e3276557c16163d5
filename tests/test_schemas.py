"""docs/schemas/ is exported from the contract models; a stale export fails the build."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from madoguchi.contracts.schemas import export_schemas, render_schemas, stale_schemas

DOCS = Path(__file__).resolve().parents[1] / "docs" / "schemas"


def test_committed_schemas_match_the_models() -> None:
    """GIVEN the models WHEN compared with docs/schemas THEN nothing differs (else: `make schemas`)."""
    assert stale_schemas(DOCS) == [], "docs/schemas is stale: run `make schemas` and commit the result"


def test_a_changed_missing_or_orphaned_schema_is_reported(tmp_path: Path) -> None:
    copy = tmp_path / "schemas"
    export_schemas(copy)
    assert stale_schemas(copy) == []
    (copy / "mqtt-v1/health.schema.json").write_text("{}\n", encoding="utf-8")
    (copy / "mqtt-v1/state.schema.json").unlink()
    (copy / "mqtt-v1/retired.schema.json").write_text("{}\n", encoding="utf-8")
    assert stale_schemas(copy) == [
        "mqtt-v1/health.schema.json",
        "mqtt-v1/retired.schema.json",
        "mqtt-v1/state.schema.json",
    ]
    export_schemas(copy)
    assert stale_schemas(copy) == []
    shutil.rmtree(copy)


def test_every_schema_is_draft_2020_12_with_an_id() -> None:
    for rel, text in render_schemas().items():
        schema = json.loads(text)
        assert schema["$schema"].endswith("2020-12/schema"), rel
        assert schema["$id"].endswith(rel.removesuffix(".schema.json") + ".json"), rel
