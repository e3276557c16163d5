"""The 混雑 lamps: a retained `CongestionView` per kiosk on `down/queue`, kept current by the central.

Through Mosquitto: a kiosk's subscription receives its branch's view, a take, a staff call or a category
closed by staff changes it, the catalog's thresholds set the level, and the view is retained.
"""

from __future__ import annotations

import queue as queue_mod
import threading

from central_broker.broker_fleet import service_acl
from central_broker.queue import Desk, Staff
from madoguchi.config.broker import BrokerConfig
from madoguchi.contracts.queue import CategoryLamp, Congestion, CongestionView
from madoguchi.contracts.topics import Down, down
from madoguchi.mqtt_client import make_client
from tests.queue_link_env import BRANCH, OTHER_BRANCH, QueueLinkEnv, queue_link

__all__ = ["queue_link"]  # the fixture, imported for pytest


def _lamp(view: CongestionView, category: str) -> CategoryLamp:
    return next(c for c in view.categories if c.category == category)


def test_a_kiosk_receives_its_branch_lamps_and_they_change_after_a_take(queue_link: QueueLinkEnv) -> None:
    """GIVEN kiosks at 本庁舎 and 北支所 WHEN one at 本庁舎 takes a "moving" number THEN both first get their
    own branch's view (every catalog category, calm, nobody waiting, issuing) and then the 本庁舎 kiosk gets
    one with one person waiting for "moving" and its wait range; 北支所's "moving" stays empty."""
    main, north = queue_link.kiosk(BRANCH), queue_link.kiosk(OTHER_BRANCH)
    first = main.next_view(lambda v: True)
    assert first.branch == BRANCH and first.issuing
    assert [c.category for c in first.categories] == [
        c.id for c in queue_link.host.queue.catalog.queue.categories
    ]
    assert all(c.level is Congestion.CALM and c.waiting == 0 and not c.closed for c in first.categories)

    main.take("moving")

    after = main.next_view(lambda v: _lamp(v, "moving").waiting == 1)
    moving = _lamp(after, "moving")
    assert (moving.level, moving.wait_min_minutes, moving.wait_max_minutes) == (Congestion.CALM, 5, 15)
    assert after.at >= first.at
    assert north.next_view(lambda v: True).branch == OTHER_BRANCH
    assert _lamp(queue_link.host.publisher.view(OTHER_BRANCH), "moving").waiting == 0  # type: ignore[union-attr]


def test_the_view_is_retained_for_a_kiosk_that_subscribes_later(queue_link: QueueLinkEnv) -> None:
    """GIVEN a kiosk's view published after a take WHEN a new client subscribes to its down/queue THEN the
    broker hands it the retained view at once."""
    kiosk = queue_link.kiosk(BRANCH)
    kiosk.take("moving")
    kiosk.next_view(lambda v: _lamp(v, "moving").waiting == 1)
    received: queue_mod.Queue[CongestionView] = queue_mod.Queue()
    subscribed = threading.Event()
    late = make_client(f"{kiosk.device_id}-late", BrokerConfig(url=queue_link.broker.url))
    late.on_connect = lambda c, *_a: c.subscribe(down(kiosk.device_id, Down.QUEUE), qos=1)
    late.on_subscribe = lambda *_a: subscribed.set()
    late.on_message = lambda _c, _u, msg: received.put(CongestionView.from_bytes(bytes(msg.payload)))
    late.connect_async(queue_link.broker.host, queue_link.broker.port, keepalive=30)
    late.loop_start()
    try:
        view = received.get(timeout=10)
    finally:
        late.disconnect()
        late.loop_stop()

    assert view.branch == BRANCH and _lamp(view, "moving").waiting == 1


def test_thresholds_of_the_catalog_set_the_level(queue_link: QueueLinkEnv) -> None:
    """GIVEN 10 min per person before data and the catalog's 20/40-minute thresholds WHEN 3 and then 4
    residents wait for "moving" THEN its lamp turns busy (30 min) and then crowded (40 min)."""
    one, two = queue_link.kiosk(BRANCH), queue_link.kiosk(BRANCH)
    for _ in range(3):
        one.take("moving")
    assert _lamp(one.next_view(lambda v: _lamp(v, "moving").waiting == 3), "moving").level is Congestion.BUSY

    two.take("moving")

    crowded = one.next_view(lambda v: _lamp(v, "moving").waiting == 4)
    assert _lamp(crowded, "moving").level is Congestion.CROWDED


def test_staff_calls_and_closed_categories_change_the_lamps(queue_link: QueueLinkEnv) -> None:
    """GIVEN one resident waiting for "moving" WHEN counter staff (another process: the journal) call the
    number, then close "tax" THEN the kiosk gets a view with nobody waiting, then one with "tax" closed."""
    kiosk = queue_link.kiosk(BRANCH)
    kiosk.take("moving")
    kiosk.next_view(lambda v: _lamp(v, "moving").waiting == 1)
    queue, desk, staff = queue_link.host.queue, Desk(BRANCH, "shimin_1"), Staff("sato", BRANCH)
    queue.open_desk(desk, staff)

    assert queue.call_next(desk, staff) is not None
    called = kiosk.next_view(lambda v: _lamp(v, "moving").waiting == 0)
    queue.set_category_closed(BRANCH, "tax", True, actor="sato")
    closed = kiosk.next_view(lambda v: _lamp(v, "tax").closed)

    assert not _lamp(called, "tax").closed
    assert [c.category for c in closed.categories if c.closed] == ["tax"]


def test_outside_opening_hours_the_view_says_no_numbers_are_issued(queue_link: QueueLinkEnv) -> None:
    """GIVEN 18:00 Japan time WHEN the view is made THEN `issuing` is false (queue.take would refuse)."""
    queue_link.clock.advance(9 * 3600)

    assert queue_link.host.publisher is not None
    assert not queue_link.host.publisher.view(BRANCH).issuing


def test_only_the_catalog_service_may_write_the_lamps() -> None:
    """GIVEN the fleet broker's service ACL THEN svc-catalog, and no other service, may write d/+/down/queue."""
    blocks = service_acl().split("user ")[1:]
    writers = [b.split("\n", 1)[0] for b in blocks if "topic write kiosk/v1/d/+/down/queue" in b]

    assert writers == ["svc-catalog"]
