"""Operators preview the procedure guide and publish a new catalog with a diff of what changes (issue 19 item 4).

- `/catalog/guide[?draft=<sha256>]&ev=…&a=…&lang=…`: walks the same questions as the kiosk and the web guide
  (`ProcedureGuide.questions_for`) for chosen life events in a chosen language, and shows the result from
  `ProcedureGuide.results`, rendered as residents see it (`guide_view.group_by_counter`), for the catalog in
  force at the centre or an uploaded draft (R-29: the same content version everywhere).
- `POST /catalog/draft`: upload a catalog file; it is validated (every problem with its field path) and kept
  as a draft. `/catalog/draft/<sha256>`: what it changes in the guide (entries added, removed, changed
  fields, languages) against the catalog last published for its municipality, a preview link, and the
  publish button, which signs and publishes it through the signed catalog push after a confirmation step.

Operators only; every answer and choice is in the address (plain links and forms, no script).
"""

from __future__ import annotations

import logging
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.exceptions import HTTPException
from starlette.responses import RedirectResponse, Response

from central_broker.accounts import Role
from central_broker.catalog_push.documents import MAX_BODY_BYTES
from central_broker.web.auth_pages import verify_form
from central_broker.web.context import ctx_of, session_of
from central_broker.web.guide_preview_drafts import (
    DraftRefused,
    add_draft,
    compare,
    draft,
    publish_draft,
    targets,
)
from central_broker.web.guide_view import group_by_counter
from central_broker.web.i18n import gettext_ as _
from central_broker.web.resident_i18n import LANGUAGE_NAMES, ResidentText
from central_broker.web.security import require
from madoguchi.contracts.catalog import Catalog
from madoguchi.contracts.catalog_guide import Answer, ProcedureGuide, Route
from madoguchi.errors import UserError
from madoguchi.guide_links import ANSWER_OF_CODE, GuideInput, GuideInputError, parse_guide_input

__all__ = ["KIND_LABELS", "PART_LABELS", "router", "settled"]

_logger = logging.getLogger(__name__)

_CHOICES = (("y", "Yes"), ("n", "No"), ("u", "I don't know"))  # msgids of the resident domain

# How the diff's parts and kinds are shown (msgids of the web catalog).
PART_LABELS = {
    "life_events": "Life events",
    "questions": "Questions",
    "procedures": "Procedures",
    "counters": "Counters",
    "departments": "Departments",
    "queue_categories": "Ticket categories",
}
KIND_LABELS = {"added": "added", "removed": "removed", "changed": "changed"}


def settled(guide: ProcedureGuide, given: GuideInput) -> GuideInput:
    """`given` without answers to questions the other answers now hide (after an earlier answer changed)."""
    answers = dict(given.answers)
    while True:
        shown = {q.id for q in guide.questions_for(given.events, answers)}
        kept = {q: a for q, a in answers.items() if q in shown}
        if kept == answers:
            return GuideInput(given.events, kept)
        answers = kept


def _link(**params: str) -> str:
    return "/catalog/guide?" + urlencode({k: v for k, v in params.items() if v})


def _catalog_of(request: Request, sha: str) -> tuple[Catalog, str]:
    ctx = ctx_of(request)
    if not sha:
        return ctx.catalog, ""
    found = draft(ctx, sha)
    if found is None:
        raise HTTPException(404, _("This draft is no longer kept; upload the catalog again."))
    return found.catalog, sha


def _preview_values(catalog: Catalog, sha: str, events: list[str], a: str, lang: str) -> dict[str, Any]:
    guide = catalog.procedures
    values: dict[str, Any] = {"preview": catalog, "draft_sha": sha, "chosen": events, "preview_lang": lang,
                              "preview_languages": list(LANGUAGE_NAMES.items()), "t": ResidentText(lang)}  # fmt: skip
    if not events:
        return values
    given = settled(guide, parse_guide_input(",".join(events), a, guide))
    rows = []
    for question in guide.questions_for(given.events, given.answers):
        answer = given.answers.get(question.id)
        links = [(letter, label, _link(draft=sha, ev=given.ev, a=given.with_answer(question.id, value).a, lang=lang),
                  answer is value) for letter, label, value in ((x, y, ANSWER_OF_CODE[x]) for x, y in _CHOICES)]  # fmt: skip
        rows.append(
            {"question": question, "text": question.text.text(lang), "answer": answer, "links": links}
        )
    items = guide.results(given.events, given.answers)
    hidden = [
        p for p in guide.procedures if p.route == Route.NOT_COVERED and set(p.life_events) & set(events)
    ]
    values.update(
        given=given,
        rows=rows,
        pending=sum(1 for row in rows if row["answer"] is None),
        unknown=[q for q, ans in given.answers.items() if ans is Answer.UNKNOWN],
        groups=group_by_counter(items, ResidentText(lang)),
        hidden=hidden,
        reset=_link(draft=sha, ev=given.ev, lang=lang),
        public_link="" if sha else "/guide/result?" + urlencode(
            {"ev": given.ev, "a": given.a, "lang": lang, "cv": str(catalog.version)}),
    )  # fmt: skip
    return values


def router() -> APIRouter:
    """Routes of this module."""
    api = APIRouter()

    @api.get("/catalog/guide")
    def preview(
        request: Request,
        ev: Annotated[list[str] | None, Query()] = None,
        draft: str = "",
        a: str = "",
        lang: str = "ja",
    ) -> Response:
        require(session_of(request), Role.OPERATOR)
        ctx = ctx_of(request)
        catalog, sha = _catalog_of(request, draft)
        events = [e for part in ev or () for e in part.split(",") if e]
        language = lang if lang in LANGUAGE_NAMES else "ja"
        try:
            values = _preview_values(catalog, sha, events, a, language)
        except GuideInputError as exc:
            raise HTTPException(400, str(exc)) from exc
        return ctx.render(request, "guide_preview.html", **values)

    @api.post("/catalog/draft")
    async def upload(
        request: Request, file: Annotated[UploadFile, File()], csrf_token: str = Form("")
    ) -> Response:
        session = require(session_of(request), Role.OPERATOR)
        verify_form(request, csrf_token)
        ctx = ctx_of(request)
        body = await file.read(MAX_BODY_BYTES + 1)
        try:
            found = add_draft(ctx, body, file.filename or "upload", session.username)
        except DraftRefused as exc:
            return ctx.render(request, "guide_preview_draft.html", status_code=400, problems=exc.issues,
                              filename=file.filename or "")  # fmt: skip
        return RedirectResponse(f"/catalog/draft/{found.sha256}", status_code=303)

    @api.get("/catalog/draft/{sha}")
    def show_draft(request: Request, sha: str, published: int = 0) -> Response:
        require(session_of(request), Role.OPERATOR)
        ctx = ctx_of(request)
        found = draft(ctx, sha)
        if found is None:
            raise HTTPException(404, _("This draft is no longer kept; upload the catalog again."))
        diff, against_published = compare(ctx, found.catalog)
        unavailable = ctx.actions.unavailable_in(_) if ctx.actions is not None else _("no broker configured")
        return ctx.render(
            request, "guide_preview_draft.html", found=found, diff=diff, against_published=against_published,
            devices=targets(ctx, found.catalog), unavailable=unavailable, published=published, problems=[],
            part_labels=PART_LABELS, kind_labels=KIND_LABELS,
        )  # fmt: skip

    @api.post("/catalog/draft/{sha}/publish")
    def publish(request: Request, sha: str, confirm: str = Form(""), csrf_token: str = Form("")) -> Response:
        session = require(session_of(request), Role.OPERATOR)
        verify_form(request, csrf_token)
        ctx = ctx_of(request)
        found = draft(ctx, sha)
        if found is None:
            raise HTTPException(404, _("This draft is no longer kept; upload the catalog again."))
        if confirm != "yes":
            question = _("Publish catalog version %(version)s to %(n)s kiosk(s)?",
                         version=found.catalog.version, n=len(targets(ctx, found.catalog)))  # fmt: skip
            return ctx.render(request, "confirm.html", action=f"/catalog/draft/{sha}/publish", question=question,
                              fields={}, back=f"/catalog/draft/{sha}")  # fmt: skip
        try:
            result = publish_draft(ctx, found)
        except UserError as exc:
            raise HTTPException(409, f"{exc.message} ({exc.hint})") from exc
        ctx.accounts.audit(session.username, "catalog.publish", found.catalog.municipality.code,
                           f"version {result.version} {result.sha256[:12]} to {len(result.devices)} kiosk(s)")  # fmt: skip
        return RedirectResponse(f"/catalog/draft/{sha}?published={result.version}", status_code=303)

    return api
