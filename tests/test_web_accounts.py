"""Local web accounts: argon2 hashes, lockout after repeated failures, sessions, the audit log."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from central_broker.accounts import AccountStore, LoginRefused, Role
from central_broker.accounts.schema import web_account, web_session
from central_broker.store import FleetStore
from madoguchi.clock import SteppableClock
from madoguchi.errors import UserError

PASSWORD = "correct horse battery staple"


@pytest.fixture
def accounts(central_store: FleetStore, store_clock: SteppableClock) -> AccountStore:
    store = AccountStore(
        central_store.engine, clock=store_clock, max_failures=3, lockout_s=600, session_ttl_s=3600
    )
    store.create_schema()
    return store


def test_password_is_stored_only_as_an_argon2_hash(accounts: AccountStore) -> None:
    """GIVEN a new account WHEN the database is read THEN it holds an argon2id hash, never the password."""
    accounts.add_user("alice", PASSWORD, Role.OPERATOR)
    with accounts.engine.connect() as conn:
        stored = conn.execute(select(web_account.c.password_hash)).scalar_one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    session = accounts.login("alice", PASSWORD)
    assert session.role is Role.OPERATOR and session.username == "alice"


def test_short_password_and_bad_names_are_refused_with_a_fix(accounts: AccountStore) -> None:
    """GIVEN a 5-character password or an upper-case name WHEN added THEN the error says what to do."""
    with pytest.raises(UserError, match="at least 10") as info:
        accounts.add_user("bob", "short", Role.STAFF)
    assert "passphrase" in info.value.hint
    with pytest.raises(UserError, match="not allowed"):
        accounts.add_user("Bob Smith", PASSWORD, Role.STAFF)
    accounts.add_user("bob", PASSWORD, Role.STAFF)
    with pytest.raises(UserError, match="already exists"):
        accounts.add_user("bob", PASSWORD, Role.STAFF)


def test_wrong_passwords_lock_the_account_even_for_the_right_password(
    accounts: AccountStore, store_clock: SteppableClock
) -> None:
    """GIVEN 3 wrong passwords WHEN the right one follows THEN it is refused as locked until the lockout ends."""
    accounts.add_user("carol", PASSWORD, Role.STAFF)
    for _ in range(2):
        with pytest.raises(LoginRefused) as info:
            accounts.login("carol", "wrong password!")
        assert not info.value.locked
    with pytest.raises(LoginRefused) as info:
        accounts.login("carol", "wrong password!")
    assert info.value.locked
    with pytest.raises(LoginRefused) as info:
        accounts.login("carol", PASSWORD)
    assert info.value.locked and "locked" in info.value.message
    store_clock.advance(601)
    assert accounts.login("carol", PASSWORD).username == "carol"
    actions = [e.action for e in accounts.audit_entries()]
    assert "account.locked" in actions and "login.refused_locked" in actions


def test_unknown_user_and_wrong_password_get_the_same_answer(accounts: AccountStore) -> None:
    """GIVEN one real account WHEN an unknown name or a wrong password is tried THEN the refusals read alike."""
    accounts.add_user("dave", PASSWORD, Role.AUDITOR)
    with pytest.raises(LoginRefused) as unknown:
        accounts.login("nobody", PASSWORD)
    with pytest.raises(LoginRefused) as wrong:
        accounts.login("dave", "not the password")
    assert unknown.value.message == wrong.value.message


def test_operator_unlock_clears_the_lockout(accounts: AccountStore) -> None:
    """GIVEN a locked account WHEN an operator unlocks it THEN the right password works again, and it is audited."""
    accounts.add_user("erin", PASSWORD, Role.STAFF)
    for _ in range(3):
        with pytest.raises(LoginRefused):
            accounts.login("erin", "wrong password!")
    accounts.unlock("erin", actor="root-op")
    assert accounts.login("erin", PASSWORD).username == "erin"
    assert any(e.action == "account.unlock" and e.actor == "root-op" for e in accounts.audit_entries())
    with pytest.raises(UserError, match="no user"):
        accounts.unlock("ghost", actor="root-op")


def test_sessions_expire_and_are_stored_only_hashed(
    accounts: AccountStore, store_clock: SteppableClock
) -> None:
    """GIVEN a session WHEN its lifetime passes or it logs out THEN its cookie no longer works; the DB holds no token."""
    accounts.add_user("frank", PASSWORD, Role.OPERATOR)
    session = accounts.login("frank", PASSWORD)
    with accounts.engine.connect() as conn:
        stored = conn.execute(select(web_session.c.token_hash)).scalar_one()
    assert stored != session.token and len(stored) == 64
    assert accounts.session(session.token) is not None
    store_clock.advance(3601)
    assert accounts.session(session.token) is None
    second = accounts.login("frank", PASSWORD)
    accounts.logout(second.token)
    assert accounts.session(second.token) is None
    assert accounts.session("") is None and accounts.session("forged") is None
