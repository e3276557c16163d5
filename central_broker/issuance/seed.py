"""Seed the embedded registry with the card emulator's personas (tests, demo, pilot without a city system).

Personas that share a My Number are one resident with several cards (e.g. the smartphone JPKI of
the valid adult). The under-15 child lives in the valid adult's household. Backend flags of the
personas become registry facts (転出, 支援措置); revoked certificates are the CRL's business.

Resident, household and seal-registration numbers are plain sequence or random numbers: nothing
stored in the registry is derived from the My Number, which only groups a person's cards here.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable
from datetime import date

from central_broker.issuance.registry import Resident, SqliteRegistry, TaxFacts
from device_drivers.card.emulator.material import JpkiTestCa
from device_drivers.card.emulator.personas import PERSONAS, BackendFlag, Persona

__all__ = ["resident_for_persona", "seed_from_personas"]

_logger = logging.getLogger(__name__)

_KANA = {
    "窓口 花子": "まどぐち はなこ",
    "窓口 太郎": "まどぐち たろう",
    "窓口 次郎": "まどぐち じろう",
    "𠮷田 一郎": "よしだ いちろう",
}
_MAIN_HOUSEHOLD = "H-MADOGUCHI"


def resident_for_persona(
    persona: Persona, *, resident_id: str | None = None, household_id: str | None = None
) -> Resident:
    """The registry record of a persona's resident; `resident_id` defaults to a random one.

    No field is derived from the My Number.
    """
    resident_id = resident_id or f"R-{secrets.randbelow(10**9):09d}"
    flags = set(persona.flags)
    born = date(int(persona.birth_date[:4]), int(persona.birth_date[4:6]), int(persona.birth_date[6:]))
    adult_main = persona.my_number == PERSONAS[0].my_number
    child = persona.name == "under-15"
    household = household_id or (_MAIN_HOUSEHOLD if adult_main or child else f"H-{resident_id[2:]}")
    return Resident(
        resident_id=resident_id,
        name=persona.full_name,
        kana=_KANA.get(persona.full_name, ""),
        birth_date=born,
        sex="男" if persona.sex_code == "1" else "女",
        address=persona.address,
        household_id=household,
        relationship="子" if child else "世帯主",
        householder=PERSONAS[0].full_name if child else persona.full_name,
        honseki="みどり県みどり市本町1番地",
        hittosha=PERSONAS[0].full_name if (adult_main or child) else persona.full_name,
        moved_out=BackendFlag.MOVED_OUT in flags,
        support_measures=BackendFlag.SUPPORT_MEASURES in flags,
        seal_registration_no=None if child else f"S{resident_id[2:]}",
        tax=None if child else TaxFacts(born.year + 45, 4_200_000, 2_600_000, 156_000, 104_000),
        moved_in=date(2010, 4, 1),
    )


def seed_from_personas(
    registry: SqliteRegistry, ca: JpkiTestCa, personas: Iterable[Persona] = PERSONAS
) -> int:
    """Add every persona with a JPKI application and enrol its auth certificate; returns how many cards.

    Cards of one person (the same My Number) get one resident; residents are numbered in persona
    order (R-000001 …), so seeding again replaces the same records.
    """
    count = 0
    ids: dict[str, str] = {}
    for persona in personas:
        if not persona.has_jpki:
            continue
        resident_id = ids.setdefault(persona.my_number, f"R-{len(ids) + 1:06d}")
        resident = resident_for_persona(persona, resident_id=resident_id)
        registry.add_resident(resident)
        registry.enrol_certificate(resident.resident_id, ca.material(persona).auth_cert)
        count += 1
    _logger.info("registry seeded with %d emulator cards", count)
    return count
