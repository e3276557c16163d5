"""The seeded registry (demo, pilot without a city system) stores nothing derived from the My Number."""

from __future__ import annotations

from pathlib import Path

from cryptography import x509

from central_broker.issuance.authcheck import spki_sha256
from central_broker.issuance.registry import SqliteRegistry
from central_broker.issuance.seed import seed_from_personas
from device_drivers.card.emulator.personas import PERSONAS
from tests.fixtures.issuance import IssuanceEnv, authenticate_in_service

DEVICE = "jp-999999-k61"


def _authenticate_every_card(env: IssuanceEnv) -> None:
    for persona in PERSONAS:
        if persona.has_jpki and persona.auth_tries > 0:
            authenticate_in_service(env, DEVICE, persona)


def test_stored_files_hold_no_part_of_any_my_number(issuance_env: IssuanceEnv, tmp_path: Path) -> None:
    """GIVEN the registry seeded from the emulator's personas and every card used once WHEN the registry and
    issuance databases are read byte by byte THEN no 8-digit tail of any persona's My Number is in them."""
    _authenticate_every_card(issuance_env)
    issuance_env.store.close()
    stored = b"".join(path.read_bytes() for path in tmp_path.glob("*.sqlite*"))
    assert len(stored) > 0
    tails = {persona.my_number[-8:] for persona in PERSONAS}
    found = sorted(tail for tail in tails if tail.encode() in stored or tail.encode("utf-16-le") in stored)
    assert found == []


def test_cards_of_one_person_share_one_resident_and_seeding_again_replaces_it(
    issuance_env: IssuanceEnv, tmp_path: Path
) -> None:
    """GIVEN the valid adult's card and smartphone JPKI (one My Number) WHEN the registry maps both certificates
    THEN they are one resident, other personas are others, and seeding twice keeps the same ids."""
    registry: SqliteRegistry = issuance_env.registry

    def ids() -> dict[str, str]:
        found: dict[str, str] = {}
        for persona in PERSONAS:
            if not persona.has_jpki:
                continue
            parsed = x509.load_der_x509_certificate(issuance_env.ca.material(persona).auth_cert)
            resident = registry.resident_for_certificate(
                parsed.issuer.rfc4514_string(), parsed.serial_number, spki_sha256(parsed)
            )
            assert resident is not None, persona.name
            found[persona.name] = resident.resident_id
        return found

    before = ids()
    by_number: dict[str, set[str]] = {}
    for persona in PERSONAS:
        if persona.name in before:
            by_number.setdefault(persona.my_number, set()).add(before[persona.name])
    assert all(len(group) == 1 for group in by_number.values())
    assert len({next(iter(group)) for group in by_number.values()}) == len(by_number)
    seed_from_personas(registry, issuance_env.ca)
    assert ids() == before
