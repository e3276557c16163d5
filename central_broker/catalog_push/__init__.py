"""Signed catalog push (contract §5): signing keys, the published documents, the MQTT publisher."""

from __future__ import annotations

from central_broker.catalog_push.documents import (
    BODY_TOPIC_PREFIX,
    CatalogRelease,
    body_topic,
    build_release,
)
from central_broker.catalog_push.publisher import PublishResult, publish_documents, publish_release
from central_broker.catalog_push.signing import SigningKeys

__all__ = [
    "BODY_TOPIC_PREFIX",
    "CatalogRelease",
    "PublishResult",
    "SigningKeys",
    "body_topic",
    "build_release",
    "publish_documents",
    "publish_release",
]
