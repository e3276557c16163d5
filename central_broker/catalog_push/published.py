"""The catalog last published for a municipality, read back from the centre's copy of the retained body.

`publish_release` keeps each catalog body it publishes (`FleetStore.record_retained`, topic
`fleet/catalog/body/<sha256>`; a body downloaded over HTTPS in `CatalogBodies`) and records the release
(`SignedRecord`), so the centre can show what a new catalog changes against what kiosks were last sent,
without asking the broker.
"""

from __future__ import annotations

import logging

from central_broker.catalog_push.bodies import CatalogBodies
from central_broker.catalog_push.documents import body_topic
from central_broker.store import FleetStore
from madoguchi.contracts.catalog import Catalog, CatalogInvalid, parse_catalog

__all__ = ["last_published"]

_logger = logging.getLogger(__name__)


def last_published(
    store: FleetStore, municipality: str, bodies: CatalogBodies | None = None
) -> Catalog | None:
    """The highest catalog version published for `municipality` whose body the centre kept (None if none).

    `bodies`: the folder of bodies served over HTTPS (without it only bodies sent over MQTT are found).
    """
    releases = sorted(
        (r for r in store.signed_documents() if r.is_catalog and r.sha256), key=lambda r: -r.version
    )
    for release in releases:
        body = store.retained_document(body_topic(release.sha256 or ""))
        if body is None and bodies is not None:
            body = bodies.read(release.sha256 or "")
        if body is None:
            continue
        try:
            catalog = parse_catalog(body, f"published catalog version {release.version}")
        except CatalogInvalid:  # valid under an older contract only: nothing to compare with
            _logger.warning("published catalog version %d no longer validates", release.version)
            continue
        if catalog.municipality.code == municipality:
            return catalog
    return None
