"""Catalog drafts on the operators' web: uploaded, validated, compared with what kiosks were last sent, published.

A draft is a catalog file an operator uploaded to preview its procedure guide and see what it changes before
publishing it through the signed catalog push (`central_broker.catalog_push`, as `kiosk-central catalog
publish`). Drafts live in the web process's memory, at most `MAX_DRAFTS` (the oldest is dropped), named by
the SHA-256 of their bytes; a restart forgets them (upload again). Nothing personal is in a catalog.
"""

from __future__ import annotations

import hashlib
import logging
from collections import OrderedDict
from dataclasses import dataclass

from central_broker.catalog_push import SigningKeys, build_release, publish_release
from central_broker.catalog_push.documents import MAX_BODY_BYTES
from central_broker.catalog_push.guide_diff import GuideDiff, diff_guides
from central_broker.catalog_push.published import last_published
from central_broker.catalog_push.publisher import PublishResult
from central_broker.web.context import WebContext
from madoguchi.contracts.base import municipality_of
from madoguchi.contracts.catalog import Catalog, CatalogInvalid, CatalogIssue, parse_catalog
from madoguchi.errors import UserError

__all__ = ["MAX_DRAFTS", "Draft", "DraftRefused", "add_draft", "compare", "draft", "publish_draft", "targets"]

_logger = logging.getLogger(__name__)

MAX_DRAFTS = 3
_CACHE_KEY = "catalog_drafts"


@dataclass(frozen=True)
class Draft:
    """An uploaded, valid catalog waiting to be previewed and published."""

    sha256: str
    body: bytes
    catalog: Catalog
    uploaded_by: str


class DraftRefused(Exception):
    """An upload that cannot become a draft; `issues` says what is wrong, each with its field path."""

    def __init__(self, issues: list[CatalogIssue]) -> None:
        summary = "; ".join(str(i) for i in issues)
        super().__init__(summary)
        self.issues = issues


def _drafts(ctx: WebContext) -> OrderedDict[str, Draft]:
    with ctx.cache_lock:
        found: OrderedDict[str, Draft] = ctx.cache.setdefault(_CACHE_KEY, OrderedDict())
    return found


def add_draft(ctx: WebContext, body: bytes, filename: str, username: str) -> Draft:
    """Validate an uploaded catalog and keep it as a draft.

    Raises:
        DraftRefused: too large for the push, or not a valid catalog (every problem listed).
    """
    if len(body) > MAX_BODY_BYTES:
        raise DraftRefused([CatalogIssue("(file)", f"{len(body)} bytes; catalogs sent to kiosks are limited to "
                                         f"{MAX_BODY_BYTES}", "remove unused languages or texts")])  # fmt: skip
    try:
        catalog = parse_catalog(body, filename or "upload")
    except CatalogInvalid as exc:
        raise DraftRefused(list(exc.issues)) from exc
    digest = hashlib.sha256(body).hexdigest()
    found = Draft(digest, body, catalog, username)
    drafts = _drafts(ctx)
    with ctx.cache_lock:
        drafts[digest] = found
        drafts.move_to_end(digest)
        while len(drafts) > MAX_DRAFTS:
            drafts.popitem(last=False)
    _logger.info("catalog draft version %d (%s) uploaded by %s", catalog.version, digest[:12], username)
    return found


def draft(ctx: WebContext, sha256: str) -> Draft | None:
    """The draft with that hash, if it is still kept."""
    drafts = _drafts(ctx)
    with ctx.cache_lock:
        return drafts.get(sha256)


def compare(ctx: WebContext, catalog: Catalog) -> tuple[GuideDiff, bool]:
    """The guide changes against the catalog last published for its municipality, or, when the centre has
    published none, against the centre's own catalog; the flag says which (True = last published)."""
    published = last_published(
        ctx.fleet, catalog.municipality.code, ctx.actions.bodies if ctx.actions else None
    )
    if published is not None:
        return diff_guides(published, catalog), True
    return diff_guides(ctx.catalog, catalog), False


def targets(ctx: WebContext, catalog: Catalog) -> list[str]:
    """The kiosks a publish sends the catalog to: every kiosk of its municipality the centre knows."""
    code = catalog.municipality.code
    return [d.device_id for d in ctx.fleet.devices() if municipality_of(d.device_id) == code]


def publish_draft(ctx: WebContext, found: Draft) -> PublishResult:
    """Sign and publish a draft to its municipality's kiosks (as `kiosk-central catalog publish`).

    Raises:
        UserError: no signing keys or broker, no kiosk, a version already published, or the broker failed.
    """
    actions = ctx.actions
    if actions is None or actions.keys_dir is None or actions.unavailable:
        raise UserError("catalogs cannot be published from this web", actions.unavailable if actions else
                        "configure the broker and [web] signing_keys_dir")  # fmt: skip
    published = last_published(ctx.fleet, found.catalog.municipality.code, actions.bodies)
    if published is not None and found.catalog.version <= published.version:
        raise UserError(
            f"catalog version {found.catalog.version} is not newer than the published version {published.version}",
            "raise `version` in the file and upload it again (kiosks refuse older versions)",
        )
    keys = SigningKeys(actions.keys_dir)
    release = build_release(found.body, keys.catalog_key(), source=f"draft {found.sha256[:12]}",
                            download_url=actions.download_url)  # fmt: skip
    return publish_release(
        actions.broker, keys, release, targets(ctx, found.catalog), ctx.fleet, actions.bodies
    )
