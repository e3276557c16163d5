"""The MQTT v1 contract models: topics, payload validation, privacy guard and signed envelopes."""

from __future__ import annotations

import base64
import json
import uuid

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from madoguchi.contracts import messages, rpc, signed, topics
from madoguchi.contracts.base import ContractError, municipality_of


def test_topic_builders_follow_the_contract_tree() -> None:
    """GIVEN a device id WHEN topics are built THEN they match contract §2 exactly."""
    dev = "jp-131016-k03"
    assert topics.up(dev, topics.Up.STATE) == "kiosk/v1/d/jp-131016-k03/up/state"
    assert (
        topics.up(dev, topics.Up.ALERT, "printer.paper_out")
        == "kiosk/v1/d/jp-131016-k03/up/alert/printer.paper_out"
    )
    assert topics.down(dev, topics.Down.ACK) == "kiosk/v1/d/jp-131016-k03/down/ack"
    assert topics.device_down_filter(dev) == "kiosk/v1/d/jp-131016-k03/down/#"
    assert topics.shared_up_filter("ingest") == "$share/ingest/kiosk/v1/d/+/up/#"
    assert topics.shared_up_filter("rpc", topics.Up.RPC) == "$share/rpc/kiosk/v1/d/+/up/rpc"


@pytest.mark.parametrize("bad", ["A", "jp/131016", "ab", "jp-131016-k03/../x", "x" * 65, "jp_131016"])
def test_device_ids_outside_the_pattern_are_refused(bad: str) -> None:
    """A device id with capitals, '/', too short or too long can never become a topic level."""
    with pytest.raises(ContractError, match="must match"):
        topics.up(bad, topics.Up.HEALTH)


def test_parse_topic_round_trips_and_rejects_foreign_topics() -> None:
    parsed = topics.parse_topic("kiosk/v1/d/jp-131016-k03/up/alert/cover_open")
    assert (parsed.device_id, parsed.direction, parsed.name, parsed.alert_id) == (
        "jp-131016-k03",
        "up",
        topics.Up.ALERT,
        "cover_open",
    )
    assert topics.parse_topic("kiosk/v1/d/jp-131016-k03/down/rpc").name is topics.Down.RPC
    for bad in (
        "kiosk/v2/d/jp-131016-k03/up/state",
        "kiosk/v1/d/jp-131016-k03/up/nope",
        "kiosk/v1/d/jp-1/up/state/x",
    ):
        with pytest.raises(ContractError):
            topics.parse_topic(bad)


def test_municipality_code_comes_from_the_device_id() -> None:
    assert municipality_of("jp-131016-k03") == "131016"
    assert municipality_of("lab-kiosk") is None


def test_birth_needs_versions_and_offline_needs_a_reason() -> None:
    """A birth without boot_id/app_ver and an offline without reason are refused with the reason."""
    with pytest.raises(ContractError, match="boot_id and app_ver"):
        messages.StateMessage.from_bytes(b'{"online": true, "epoch": 3, "ts": 1}')
    with pytest.raises(ContractError, match="reason"):
        messages.StateMessage.from_bytes(b'{"online": false, "epoch": 3, "ts": 1}')
    will = messages.StateMessage(online=False, epoch=3, ts=1, reason="lwt")
    assert json.loads(will.to_bytes()) == {"online": False, "epoch": 3, "ts": 1, "reason": "lwt"}


def test_unknown_fields_are_ignored_so_v1_can_grow() -> None:
    """Contract §2: consumers ignore unknown fields."""
    msg = messages.DownAck.from_bytes(b'{"through_seq": 41, "added_later": "x"}')
    assert msg.through_seq == 41


def test_errors_name_the_field_and_value() -> None:
    with pytest.raises(ContractError) as info:
        messages.DownAck.from_bytes(b'{"through_seq": -1}')
    assert "through_seq" in str(info.value) and "-1" in str(info.value)
    with pytest.raises(ContractError, match="not UTF-8 JSON"):
        messages.DownAck.from_bytes(b"\xff{")


def _item(seq: int, **extra: object) -> dict[str, object]:
    return {"seq": seq, "ts": 1_700_000_000_000 + seq, "kind": "session", **extra}


def test_stats_batch_must_be_contiguous_and_match_its_bounds() -> None:
    good = messages.StatsBatch.model_validate({"batch": [5, 7], "items": [_item(5), _item(6), _item(7)]})
    assert [i.seq for i in good.items] == [5, 6, 7]
    with pytest.raises(ValueError, match=r"exactly seq 5\.\.7"):
        messages.StatsBatch.model_validate({"batch": [5, 7], "items": [_item(5), _item(7)]})
    with pytest.raises(ValueError, match="exactly seq"):
        messages.StatsBatch.model_validate({"batch": [1, 2], "items": [_item(2), _item(1)]})


def test_stats_items_keep_kind_fields_but_refuse_personal_data() -> None:
    """R-36: statistics never carry name, address, My Number, PIN or card ids."""
    item = messages.StatsItem.model_validate(_item(1, cert_type="juminhyo", copies=2, fee=400))
    assert item.fields == {"cert_type": "juminhyo", "copies": 2, "fee": 400}
    for key in ("name", "address", "my_number", "PIN"):
        with pytest.raises(ValueError, match="personal data"):
            messages.StatsItem.model_validate(_item(1, **{key: "x"}))


def test_stats_batch_over_64_kib_is_refused_before_sending() -> None:
    items = [_item(i, note="x" * 700) for i in range(1, 101)]
    batch = messages.StatsBatch.model_validate({"batch": [1, 100], "items": items})
    with pytest.raises(ContractError, match="limit"):
        batch.to_bytes()


def test_ack_status_is_one_of_the_contract_steps() -> None:
    ok = messages.AckMessage(ref="cat-12", kind="catalog", status="APPLIED", ts=1)
    assert ok.status == "APPLIED"
    with pytest.raises(ValueError, match="status must be one of"):
        messages.AckMessage(ref="cat-12", kind="catalog", status="DONE-ISH", ts=1)


def test_model_for_maps_sub_topics_to_models() -> None:
    assert messages.model_for(topics.Up.HEALTH) is messages.HealthMessage
    assert messages.model_for(topics.Down.ACK) is messages.DownAck
    with pytest.raises(ContractError):
        messages.model_for(topics.Up.RPC)


def test_rpc_requests_need_uuid4_and_failed_responses_need_an_error() -> None:
    req = rpc.RpcRequest.new("certificate.issue", {"session": "s1"}, deadline=10)
    assert uuid.UUID(req.req_id).version == 4
    with pytest.raises(ValueError, match="UUIDv4"):
        rpc.RpcRequest(req_id=str(uuid.uuid1()), method="payment.lookup", deadline=1)
    with pytest.raises(ValueError, match="error"):
        rpc.RpcResponse(req_id=req.req_id, ok=False)
    failed = rpc.RpcResponse(
        req_id=req.req_id,
        ok=False,
        error=rpc.RpcError(code=rpc.RpcErrorCode.NOT_FOUND, message="no such order"),
    )
    assert json.loads(failed.to_bytes())["error"]["code"] == "NOT_FOUND"


def test_signed_envelope_verifies_only_exact_bytes_type_and_key() -> None:
    """DSSE over exact bytes: any change to body, type or key is refused."""
    key = Ed25519PrivateKey.generate()
    keys = {signed.key_id(key.public_key()): key.public_key()}
    body = b'{"version": 7, "expires": 1, "files": []}'
    env = signed.sign(signed.PayloadType.MANIFEST, body, key)
    assert (
        signed.verify(signed.Envelope.from_bytes(env.to_bytes()), signed.PayloadType.MANIFEST, keys) == body
    )

    with pytest.raises(ContractError, match="expected"):
        signed.verify(env, signed.PayloadType.CONTROL, keys)
    forged = env.model_copy(update={"payload": base64.b64encode(body.replace(b"7", b"8")).decode()})
    with pytest.raises(ContractError, match="no valid signature"):
        signed.verify(forged, signed.PayloadType.MANIFEST, keys)
    other = Ed25519PrivateKey.generate()
    with pytest.raises(ContractError, match="no valid signature"):
        signed.verify(
            env, signed.PayloadType.MANIFEST, {signed.key_id(other.public_key()): other.public_key()}
        )


def test_pae_is_the_dsse_encoding() -> None:
    assert signed.pae("t", b"ab") == b"DSSEv1 1 t 2 ab"


def test_kill_switch_applies_fleet_wide_per_city_and_per_device() -> None:
    doc = signed.ControlDocument.model_validate(
        {
            "version": 2,
            "ts": 1,
            "issuance": {"suspended_municipalities": ["131016"], "message": {"ja": "停止中"}},
            "payment": {"suspended_devices": ["jp-999999-k01"]},
            "tickets": {"suspended_all": True},
        }
    )
    assert doc.issuance.suspends("jp-131016-k03", "131016")
    assert not doc.issuance.suspends("jp-999999-k01", "999999")
    assert doc.payment.suspends("jp-999999-k01", "999999")
    assert doc.tickets.suspends("anything-k1", None)
