"""書かない窓口 on the central: the basic four attached to a visit is sealed at rest, shown to the counter that
has the visit called (and audited without the data), and gone when the visit ends or at midnight JST."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from central_broker.accounts import Role
from central_broker.prefill import PrefillHost, PrefillStore, PrefillSweeper
from central_broker.prefill.schema import prefill_visit
from central_broker.queue import Desk, QueueService, Staff, TakenTicket
from central_broker.queue.schema import queue_visit
from central_broker.rpc_server import RpcFailure
from central_broker.web import WebContext
from madoguchi.clock import SteppableClock
from madoguchi.config.central import local_central_config
from madoguchi.contracts.rpc import RpcErrorCode
from madoguchi.errors import ConfigError
from tests.fixtures.web import PASSWORD, csrf_of, signed_in
from tests.prefill_helpers import DEVICE, FIELDS, attach, open_prefill

BRANCH = "本庁舎"


@pytest.fixture
def prefill(
    web_context: WebContext, web_queue: QueueService, queue_clock: SteppableClock, tmp_path: Path
) -> PrefillStore:
    """A prefill store on the web queue's database, shown by the web."""
    store = open_prefill(web_queue, tmp_path, queue_clock)
    web_context.prefill = store
    return store


@pytest.fixture
def ticket(web_queue: QueueService) -> TakenTicket:
    """A visit a kiosk took: 市民課 (shimin_1), then 保険年金課 (hoken)."""
    return web_queue.take(BRANCH, "moving", device_id=DEVICE, then=("hoken",))


def _rows(store: PrefillStore) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(prefill_visit)).scalar_one())


def _choose(client: TestClient, counter: str) -> None:
    token = csrf_of(client.get("/counter").text)
    response = client.post(
        "/counter/choose", data={"branch": BRANCH, "counter": counter, "csrf_token": token}
    )
    assert response.status_code == 200, response.text[:400]


def _press(client: TestClient, action: str) -> None:
    page = client.get("/counter").text
    held = page.split('name="visit_id" value="', 1)[1].split('"', 1)[0]
    response = client.post(f"/counter/{action}", data={"csrf_token": csrf_of(page), "visit_id": held})
    assert response.status_code == 200, response.text[:400]


def _staff(web_client: TestClient, web_context: WebContext) -> tuple[TestClient, str]:
    name, password = "prefill-staff", PASSWORD
    web_context.accounts.add_user(name, password, Role.STAFF, actor="test", branches=(BRANCH,))
    return signed_in(web_client, name, password), name


def test_attached_data_is_encrypted_at_rest(
    web_queue: QueueService, prefill: PrefillStore, ticket: TakenTicket, tmp_path: Path
) -> None:
    """GIVEN a kiosk attaches the basic four to its visit WHEN the database files are read raw THEN neither the
    name nor the address nor the birth date is in them, yet the store reads them back."""
    view = attach(web_queue, prefill, ticket)
    assert view.number == ticket.visit.number
    raw = b"".join(p.read_bytes() for p in (tmp_path / "central").glob("central.db*"))
    assert _rows(prefill) == 1
    for secret in (FIELDS.name, FIELDS.address, FIELDS.birth_date, "花子", "霞が関"):
        assert secret.encode("utf-8") not in raw, secret
    shown = prefill.read(ticket.visit.id)
    assert shown is not None and shown.fields == FIELDS
    assert "花子" not in repr(shown) and "花子" not in repr(shown.fields)


def test_attach_refuses_another_kiosks_visit_and_unknown_tickets(
    web_queue: QueueService, prefill: PrefillStore, ticket: TakenTicket
) -> None:
    """GIVEN a visit issued by kiosk k01 WHEN kiosk k02 attaches to it, or a forged token is used THEN both get
    NOT_FOUND and nothing is kept."""
    with pytest.raises(RpcFailure) as other:
        attach(web_queue, prefill, ticket, device="jp-131016-k02")
    assert other.value.code is RpcErrorCode.NOT_FOUND
    forged = TakenTicket(ticket.visit, ticket.estimate, "x" * 32, ticket.token_expires)
    with pytest.raises(RpcFailure) as unknown:
        attach(web_queue, prefill, forged)
    assert unknown.value.code is RpcErrorCode.NOT_FOUND
    assert _rows(prefill) == 0


def test_staff_see_the_data_only_while_the_visit_is_called_at_their_counter_and_it_is_audited(
    web_client: TestClient,
    web_context: WebContext,
    web_queue: QueueService,
    prefill: PrefillStore,
    ticket: TakenTicket,
) -> None:
    """GIVEN data attached to a waiting visit WHEN the counter opens its page before and after calling it THEN
    it is refused while waiting, shown (linked from the panel) once called, refused at another counter, and
    the audit log says who saw which visit without any of the data."""
    attach(web_queue, prefill, ticket)
    client, user = _staff(web_client, web_context)
    _choose(client, "shimin_1")
    url = f"/counter/prefill?visit_id={ticket.visit.id}"
    waiting = client.get(url)
    assert waiting.status_code == 409 and FIELDS.name not in waiting.text
    assert 'id="prefill-link"' not in client.get("/counter").text

    _press(client, "call")
    assert 'id="prefill-link"' in client.get("/counter/fragment").text
    shown = client.get(url)
    assert shown.status_code == 200
    assert FIELDS.name in shown.text and FIELDS.address in shown.text and "1980-04-01" in shown.text
    assert shown.headers["Cache-Control"] == "no-store"
    entries = [e for e in web_context.accounts.audit_entries() if e.action == "prefill.view"]
    assert len(entries) == 1 and entries[0].actor == user and ticket.visit.number in entries[0].target
    logged = " ".join(f"{e.target} {e.detail}" for e in web_context.accounts.audit_entries())
    assert "花子" not in logged and "霞が関" not in logged and "19800401" not in logged

    _choose(client, "hoken")  # the next counter of the route has not called it
    elsewhere = client.get(url)
    assert elsewhere.status_code == 409 and FIELDS.name not in elsewhere.text


def test_data_is_deleted_when_the_visit_ends_at_its_last_counter(
    web_client: TestClient,
    web_context: WebContext,
    web_queue: QueueService,
    prefill: PrefillStore,
    ticket: TakenTicket,
) -> None:
    """GIVEN data attached to a two-counter visit WHEN the first counter is done THEN the next counter sees it
    once called; WHEN that last counter is done THEN the row is gone and nothing is shown."""
    attach(web_queue, prefill, ticket)
    client, _user = _staff(web_client, web_context)
    _choose(client, "shimin_1")
    _press(client, "call")
    _press(client, "done")
    assert _rows(prefill) == 1
    _choose(client, "hoken")
    _press(client, "call")
    assert FIELDS.name in client.get(f"/counter/prefill?visit_id={ticket.visit.id}").text
    _press(client, "done")
    assert _rows(prefill) == 0
    assert prefill.read(ticket.visit.id) is None


def test_data_is_deleted_when_staff_finish_the_visit_early(
    web_queue: QueueService, prefill: PrefillStore, ticket: TakenTicket
) -> None:
    """GIVEN data attached WHEN the first counter finishes the whole visit THEN the row is gone at once."""
    attach(web_queue, prefill, ticket)
    desk, staff = Desk(BRANCH, "shimin_1"), Staff("sato", BRANCH)
    web_queue.open_desk(desk, staff)
    web_queue.call_next(desk, staff)
    web_queue.finish(desk, staff)
    assert _rows(prefill) == 0


def test_midnight_sweep_deletes_data_of_a_visit_still_open(
    web_queue: QueueService, prefill: PrefillStore, ticket: TakenTicket, queue_clock: SteppableClock
) -> None:
    """GIVEN data attached at 09:00 JST to a visit nobody served WHEN midnight JST passes THEN it is no longer
    readable, and the sweep run at start-up deletes the row."""
    attach(web_queue, prefill, ticket)
    queue_clock.advance(14 * 3600 + 59 * 60)  # 23:59
    assert prefill.read(ticket.visit.id) is not None
    assert prefill.sweep() == 0
    queue_clock.advance(60)  # 00:00
    assert prefill.read(ticket.visit.id) is None
    sweeper = PrefillSweeper(prefill, every_s=3600)
    sweeper.start()
    sweeper.stop()
    assert _rows(prefill) == 0


def test_serve_keeps_the_key_private_and_sweeps_ended_visits_at_start_up(
    web_queue: QueueService, tmp_path: Path, queue_clock: SteppableClock
) -> None:
    """GIVEN data attached to a visit that ended while the central was down WHEN `serve` builds the prefill host
    and starts it THEN the key file is 32 bytes readable by the owner only, and the row is deleted at start-up;
    a key file of the wrong size is refused with what to do."""
    config = local_central_config(tmp_path / "central-config", "mqtt://127.0.0.1:1883")
    host = PrefillHost.build(config, web_queue)
    key_file = config.central.data_dir / "web" / "prefill.key"
    assert len(key_file.read_bytes()) == 32 and key_file.stat().st_mode & 0o777 == 0o600
    ticket = web_queue.take(BRANCH, "moving", device_id=DEVICE)
    attach(web_queue, host.store, ticket)
    with host.store.engine.begin() as conn:  # the visit ended without the hook (another process, old code)
        conn.execute(queue_visit.update().where(queue_visit.c.id == ticket.visit.id).values(state="finished"))
    host.start()
    host.stop()
    with host.store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(prefill_visit)).scalar_one() == 0
    key_file.write_bytes(b"short")
    with pytest.raises(ConfigError, match="delete it"):
        PrefillHost.build(config, web_queue)
