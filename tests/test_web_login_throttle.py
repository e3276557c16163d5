"""Sign-in through the real app: refused attempts from one client address back off exponentially (429 with
Retry-After and how long to wait), a user name that does not exist behaves exactly like a real one, and an
attacker's wrong passwords lock the name only on the attacker's computer, never the real user's."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Literal

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from central_broker.accounts import AccountStore, LoginRefused, Role
from central_broker.store import FleetStore
from central_broker.web import WebContext, create_app
from madoguchi.clock import SteppableClock
from tests.fixtures.web import csrf_of, make_user

ATTACKER = "203.0.113.9"
OPERATOR_PC = "198.51.100.20"
WRONG = "not the password at all"


@pytest.fixture
def clients(web_context: WebContext) -> Iterator[dict[str, TestClient]]:
    """English-speaking browsers on the attacker's address and on the operator's own computer."""
    app = create_app(web_context)
    with TestClient(app, client=(ATTACKER, 40000)) as bad, TestClient(app, client=(OPERATOR_PC, 40001)) as pc:
        for client in (bad, pc):
            client.cookies.set("mdg_lang", "en")
        yield {ATTACKER: bad, OPERATOR_PC: pc}


def _post(client: TestClient, name: str, password: str) -> tuple[int, str, str]:
    """(status, Retry-After or "", page text) of one sign-in through the form."""
    token = csrf_of(client.get("/login").text)
    response = client.post(
        "/login",
        data={"username": name, "password": password, "csrf_token": token},
        follow_redirects=False,
    )
    return response.status_code, response.headers.get("retry-after", ""), response.text


def test_refused_sign_ins_from_one_address_back_off_exponentially_up_to_a_cap(
    web_context: WebContext, clients: dict[str, TestClient], store_clock: SteppableClock
) -> None:
    """GIVEN an address sending wrong passwords for any names WHEN it retries at once after each THEN after 3
    free tries it gets 429 with Retry-After 1, 2, 4 … 256, then 300 s (the cap), and a message saying how long
    to wait; once the wait is over its next password is checked again."""
    attacker = clients[ATTACKER]
    waits: list[int] = []
    for failure in range(1, 15):
        assert _post(attacker, f"name{failure}", WRONG)[0] == 401  # a password check
        if failure < 4:
            continue  # no back-off yet
        status, retry, page = _post(attacker, f"name{failure}", WRONG)
        assert status == 429 and "Too many sign-in attempts from this computer." in page
        wait = int(retry)
        shown = f"{wait} s" if wait < 120 else f"{-(-wait // 60)} min"
        assert f"Wait {shown}, then try again." in page
        waits.append(wait)
        store_clock.advance(wait)
    assert waits == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]


def test_each_wait_doubles_and_retry_after_tells_the_browser(
    web_context: WebContext, clients: dict[str, TestClient], store_clock: SteppableClock
) -> None:
    """GIVEN an address retrying exactly when allowed WHEN it keeps failing THEN each imposed wait is double the
    last (1, 2, 4, 8 s) until the cap, Retry-After says it, and retrying early is refused without a check."""
    attacker = clients[ATTACKER]
    for _ in range(3):
        assert _post(attacker, "somebody", WRONG)[0] == 401
    seen: list[int] = []
    for n in range(5):
        assert _post(attacker, f"then{n}", WRONG)[0] == 401
        status, retry, _page = _post(attacker, f"then{n}", WRONG)
        assert status == 429
        seen.append(int(retry))
        store_clock.advance(int(retry) - 0.5)
        assert _post(attacker, f"then{n}", WRONG)[0] == 429  # half a second early: still waiting
        store_clock.advance(0.5)
    assert seen == [1, 2, 4, 8, 16]


def test_one_address_gets_few_password_checks_per_minute(
    web_context: WebContext, clients: dict[str, TestClient], store_clock: SteppableClock
) -> None:
    """GIVEN an attacker retrying as soon as Retry-After allows WHEN one minute passes THEN at most 9 passwords
    were checked (before: ~10 a second, limited only by the password hash)."""
    attacker = clients[ATTACKER]
    start, checked = store_clock(), 0
    while store_clock() - start < 60:
        status, retry, _page = _post(attacker, f"guess{checked}", WRONG)
        if status == 429:
            store_clock.advance(int(retry))
        else:
            checked += 1
    assert checked <= 9, checked


def test_a_right_password_from_the_throttled_address_ends_its_back_off(
    web_context: WebContext, clients: dict[str, TestClient], store_clock: SteppableClock
) -> None:
    """GIVEN an operator who mistyped 4 times WHEN they wait and type it right THEN they are in, and their next
    mistake later is not slowed down by the old ones."""
    name, password = make_user(web_context, Role.OPERATOR)
    pc = clients[OPERATOR_PC]
    for _ in range(4):
        assert _post(pc, name, WRONG)[0] == 401
    status, retry, _page = _post(pc, name, password)
    assert status == 429 and retry == "1"
    store_clock.advance(1)
    assert _post(pc, name, password)[0] == 303
    assert _post(pc, name, WRONG)[0] == 401 and _post(pc, name, WRONG)[0] == 401


def test_another_address_is_not_slowed_by_an_attacker(
    web_context: WebContext, clients: dict[str, TestClient]
) -> None:
    """GIVEN an attacker's address in back-off WHEN the operator signs in from their own computer THEN at once."""
    name, password = make_user(web_context, Role.OPERATOR)
    for _ in range(6):
        _post(clients[ATTACKER], name, WRONG)
    assert _post(clients[ATTACKER], name, password)[0] == 429
    assert _post(clients[OPERATOR_PC], name, password)[0] == 303


def _normalised(page: str, name: str) -> str:
    """A sign-in page without what differs between any two renderings (the form token, the typed name)."""
    return re.sub(r'value="[^"]+"', 'value=""', page).replace(name, "NAME")


def test_an_unknown_user_name_gets_the_same_answers_and_lockout_as_a_real_one(
    web_context: WebContext, store_clock: SteppableClock
) -> None:
    """GIVEN a real name and one that does not exist, each tried from its own fresh address WHEN both get the same
    7 wrong passwords and then the real one (each after the back-off) THEN status codes, Retry-After and pages
    are identical: 401 ×4, then 423 locked for both — the lockout does not reveal which name exists."""
    real, password = make_user(web_context, Role.OPERATOR)
    app = create_app(web_context)
    answers: dict[str, list[tuple[int, str, str]]] = {}
    for name, address in ((real, "192.0.2.1"), ("ghostuser", "192.0.2.2")):
        with TestClient(app, client=(address, 40000)) as client:
            client.cookies.set("mdg_lang", "en")
            seen = []
            for _ in range(7):
                store_clock.advance(20)  # past the address's back-off (at most 8 s here)
                status, retry, page = _post(client, name, WRONG)
                seen.append((status, retry, _normalised(page, name)))
            store_clock.advance(20)
            status, retry, page = _post(client, name, password)
            seen.append((status, retry, _normalised(page, name)))
        answers[name] = seen
    assert [s for s, _r, _p in answers[real]] == [401, 401, 401, 401, 423, 423, 423, 423]
    assert answers[real] == answers["ghostuser"]
    assert "wrong user name or password" in answers[real][0][2]
    assert "locked on this computer" in answers[real][4][2]


class _CountingHasher(PasswordHasher):
    """argon2 with a count of verifications (each costs the same, whichever hash it checks)."""

    verified = 0

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
        type(self).verified += 1
        return super().verify(hash, password)


def test_an_unknown_user_name_costs_one_password_hash_like_a_real_one(
    central_store: FleetStore, store_clock: SteppableClock
) -> None:
    """GIVEN a real and an unknown name WHEN each is tried with wrong passwords until locked and beyond THEN both
    run exactly one password-hash check per try while unlocked and none while locked (same timing)."""
    accounts = AccountStore(central_store.engine, clock=store_clock, max_failures=3, hasher=_CountingHasher())
    accounts.create_schema()
    accounts.add_user("realname", "correct horse battery staple", Role.STAFF)
    counts: dict[str, list[int]] = {}
    for name in ("realname", "nosuchname"):
        counts[name] = []
        for _ in range(5):
            before = _CountingHasher.verified
            with pytest.raises(LoginRefused):
                accounts.login(name, WRONG, client="192.0.2.7")
            counts[name].append(_CountingHasher.verified - before)
    assert counts["realname"] == counts["nosuchname"] == [1, 1, 1, 0, 0]


def test_an_attacker_cannot_lock_the_operator_out_of_their_own_computer(
    web_context: WebContext, clients: dict[str, TestClient], store_clock: SteppableClock
) -> None:
    """GIVEN an attacker who locked the operator's name on the attacker's address WHEN the right password is
    tried there THEN it is refused (423), but the operator signs in from their own computer; the audit log
    names the attacker's address, and an operator's unlock ends the lock there too."""
    name, password = make_user(web_context, Role.OPERATOR)
    attacker = clients[ATTACKER]
    for _ in range(5):
        store_clock.advance(20)  # past the address's back-off
        status, _retry, _page = _post(attacker, name, WRONG)
    assert status == 423
    store_clock.advance(20)
    status, _retry, page = _post(attacker, name, password)
    assert status == 423 and "locked on this computer" in page
    assert _post(clients[OPERATOR_PC], name, password)[0] == 303
    locked = [e for e in web_context.accounts.audit_entries() if e.action == "account.locked"]
    assert locked and ATTACKER in locked[0].detail and locked[0].target == name
    assert web_context.accounts.users()[0].locked_until is not None  # `users list` shows the lock
    web_context.accounts.unlock(name, actor="root-op")
    store_clock.advance(20)
    assert _post(attacker, name, password)[0] == 303


def test_parallel_sign_ins_from_one_address_cannot_share_one_opening(store_clock: SteppableClock) -> None:
    """GIVEN an address in back-off WHEN its wait ends and 20 requests arrive at the same moment THEN exactly one
    is let through to a password check; the others are told to wait (each try counts before it is checked)."""
    from central_broker.web.ratelimit import LoginGate

    gate = LoginGate(store_clock)
    for _ in range(4):
        assert gate.admit(ATTACKER) == 0
    assert gate.admit(ATTACKER) > 0
    store_clock.advance(1)
    start = threading.Barrier(20)

    def one() -> float:
        start.wait()
        return gate.admit(ATTACKER)

    with ThreadPoolExecutor(20) as pool:
        waits = list(pool.map(lambda _n: one(), range(20)))
    assert waits.count(0.0) == 1 and all(w > 0 for w in waits if w)
