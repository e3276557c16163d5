"""JSON Schema export of the contract models into `docs/schemas/`, and a staleness check."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

from madoguchi.contracts import catalog, issuance, messages, queue, rpc, signed, staff_call

__all__ = ["SCHEMA_MODELS", "export_schemas", "render_schemas", "stale_schemas"]

BASE_ID = "https://madoguchi.example/schemas/"

# file name (without .schema.json) → model; catalog and RPC method payloads are added in `_all_models`.
SCHEMA_MODELS: dict[str, type[BaseModel]] = {
    "mqtt-v1/state": messages.StateMessage,
    "mqtt-v1/health": messages.HealthMessage,
    "mqtt-v1/stats": messages.StatsBatch,
    "mqtt-v1/event": messages.EventMessage,
    "mqtt-v1/alert": messages.AlertMessage,
    "mqtt-v1/reported": messages.ReportedMessage,
    "mqtt-v1/ack": messages.AckMessage,
    "mqtt-v1/diag": messages.DiagnosticsPart,
    "mqtt-v1/staff-call": staff_call.StaffCallMessage,
    "mqtt-v1/down-ack": messages.DownAck,
    "mqtt-v1/host-state": messages.HostState,
    "mqtt-v1/rpc-request": rpc.RpcRequest,
    "mqtt-v1/rpc-response": rpc.RpcResponse,
    "mqtt-v1/envelope": signed.Envelope,
    "mqtt-v1/keys": signed.KeysDocument,
    "mqtt-v1/manifest": signed.ManifestDocument,
    "mqtt-v1/desired": signed.DesiredDocument,
    "mqtt-v1/cmd": signed.CommandDocument,
    "mqtt-v1/control": signed.ControlDocument,
    "mqtt-v1/queue": queue.CongestionView,
}


def _all_models() -> dict[str, type[BaseModel]]:
    models = dict(SCHEMA_MODELS)
    models["catalog-v1/catalog"] = catalog.Catalog
    models.update(
        {
            f"rpc-v1/certificate/{name}": model
            for name, model in (
                ("begin-result", issuance.BeginResult),
                ("session-params", issuance.SessionParams),
                ("authenticate-params", issuance.AuthenticateParams),
                ("authenticate-result", issuance.AuthenticateResult),
                ("options-result", issuance.OptionsResult),
                ("issue-params", issuance.IssueParams),
                ("issue-result", issuance.IssueResult),
                ("confirm-params", issuance.ConfirmParams),
                ("confirm-result", issuance.ConfirmResult),
                ("prepare-params", issuance.PrepareParams),
                ("prepare-result", issuance.PrepareResult),
                ("incident-params", issuance.IncidentParams),
                ("incident-result", issuance.IncidentResult),
            )
        }
    )
    models.update(
        {
            f"rpc-v1/queue/{name}": model
            for name, model in (
                ("take-params", queue.TakeParams),
                ("take-result", queue.TicketView),
                ("block-params", queue.BlockParams),
                ("block-result", queue.BlockView),
                ("merge-params", queue.MergeParams),
                ("merge-result", queue.MergeView),
                ("refusal", queue.QueueRefusal),
            )
        }
    )
    return models


def render_schemas() -> dict[str, str]:
    """Every schema as text, keyed by its relative file path."""
    rendered: dict[str, str] = {}
    for name, model in sorted(_all_models().items()):
        schema = model.model_json_schema(mode="validation")
        schema = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"{BASE_ID}{name}.json",
            **schema,
        }
        rendered[f"{name}.schema.json"] = (
            json.dumps(schema, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
        )
    return rendered


def export_schemas(out_dir: Path) -> list[Path]:
    """Write every schema under `out_dir`; remove schema files no model produces any more."""
    rendered = render_schemas()
    written = []
    for rel, text in rendered.items():
        path = out_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    for old in out_dir.rglob("*.schema.json"):
        if old.relative_to(out_dir).as_posix() not in rendered:
            old.unlink()
    return written


def stale_schemas(out_dir: Path) -> list[str]:
    """Relative paths whose file is missing, differs from the models, or has no model."""
    rendered = render_schemas()
    stale = [
        rel
        for rel, text in rendered.items()
        if not (out_dir / rel).is_file() or (out_dir / rel).read_text(encoding="utf-8") != text
    ]
    stale += [
        p.relative_to(out_dir).as_posix()
        for p in out_dir.rglob("*.schema.json")
        if p.relative_to(out_dir).as_posix() not in rendered
    ]
    return sorted(stale)
