"""The web guide (行かない窓口): a public, phone-first page of the central, no sign-in, nine languages.

`/guide` (language and life event) → `/guide/q` (one yes / no / わからない question per page, as many as
`ProcedureGuide.questions_for` shows) → `/guide/result?ev=…&a=…&lang=…&cv=…` (the link format the kiosk's
phone QR uses too): procedures by counter in visit order from `ProcedureGuide.results`, the kiosk's very
logic. The result carries a visit code QR (`/guide/v/<code>`) that a kiosk's scanner turns into a ticket;
on a phone the same address shows the result again. Forged and expired codes get one refusal page.

Plain forms and links only (no script); every state is in the address, so back and reload work. Page loads
are rate-limited per client like the status page. A finished web run is recorded as an anonymous
`guide_session` with `channel: web` (`central_broker.guide.stats`).
"""

from __future__ import annotations

import logging
import math
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Query, Request
from starlette.responses import RedirectResponse, Response

from central_broker.guide.stats import GuideStats
from central_broker.guide.visit_code import VisitCodeInvalid, VisitCodes
from central_broker.web.auth_pages import client_of
from central_broker.web.context import WebContext, ctx_of
from central_broker.web.guide_view import group_by_counter, qr_data_uri
from central_broker.web.resident_i18n import LANGUAGE_NAMES, RESIDENT_COOKIE, ResidentText, resident_language
from madoguchi.contracts.catalog_guide import MAX_QUESTIONS_PER_EVENT, GuideStatus
from madoguchi.guide_links import ANSWER_OF_CODE, GuideInput, GuideInputError, parse_guide_input, visit_url

__all__ = ["RATINGS", "router", "visit_codes"]

_logger = logging.getLogger(__name__)

RATINGS = ("Very dissatisfied", "Dissatisfied", "Neither", "Satisfied", "Very satisfied")  # 1..5


def _language(request: Request, lang: str) -> str:
    return resident_language(
        lang, request.cookies.get(RESIDENT_COOKIE), request.headers.get("accept-language")
    )


def _link(path: str, **params: str) -> str:
    query = urlencode({k: v for k, v in params.items() if v})
    return f"{path}?{query}" if query else path


def _page(request: Request, lang: str, template: str, status_code: int = 200, **values: Any) -> Response:
    ctx = ctx_of(request)
    here = {k: v for k, v in request.query_params.items() if k not in ("q", "ans", "error")}
    values.setdefault(
        "language_links",
        [
            (code, name, _link(request.url.path, **{**here, "lang": code}))
            for code, name in LANGUAGE_NAMES.items()
        ],
    )
    response = ctx.templates.TemplateResponse(
        request,
        template,
        {"lang": lang, "t": ResidentText(lang), "municipality": ctx.catalog.municipality, **values},
        status_code=status_code,
    )
    if request.query_params.get("lang") == lang:
        response.set_cookie(
            RESIDENT_COOKIE,
            lang,
            max_age=365 * 86400,
            httponly=True,
            samesite="lax",
            secure=ctx.secure_cookies,
        )
    return response


def _throttled(request: Request, lang: str) -> Response | None:
    gate = ctx_of(request).status_gate
    assert gate is not None  # made by WebContext
    if wait := gate.wait_s(client_of(request)):
        t = ResidentText(lang)
        response = _page(
            request,
            lang,
            "guide_message.html",
            429,
            heading=t("Procedure guide"),
            message=t("Too many requests. Please wait a minute, then open the page again."),
        )
        response.headers["Retry-After"] = str(math.ceil(wait))
        return response
    return None


def _bad_link(request: Request, lang: str, reason: str) -> Response:
    _logger.info("web guide: bad link (%s)", reason[:200])
    t = ResidentText(lang)
    return _page(
        request,
        lang,
        "guide_message.html",
        400,
        heading=t("This link is not valid"),
        message=t("The link is incomplete or was changed. Please start the guide again."),
    )


def visit_codes(ctx: WebContext) -> VisitCodes | None:
    """The central's visit codes, None when this web has no guide secret (no QR is shown then)."""
    return None if ctx.guide_secret is None else VisitCodes(ctx.guide_secret, ctx.clock)


def _result(request: Request, lang: str, given: GuideInput, cv: str, code: str | None) -> Response:
    ctx = ctx_of(request)
    guide = ctx.catalog.procedures
    t = ResidentText(lang)
    items = guide.results(given.events, given.answers)
    optional = {item.procedure.id for item in items if item.status is GuideStatus.OPTIONAL}
    given = GuideInput(given.events, given.answers, given.kept & optional)  # only what this result offers
    groups = group_by_counter(items, t, given.kept)
    base = str(request.base_url).rstrip("/")
    if code is None and (codes := visit_codes(ctx)) is not None:
        code = codes.issue(given, ctx.catalog.version)
    visit_link = visit_url(base, code) if code else ""
    version = str(ctx.catalog.version)
    return _page(
        request,
        lang,
        "guide_result.html",
        groups=groups,
        updated=bool(cv) and cv != str(ctx.catalog.version),
        visit_url=visit_link,
        visit_qr=qr_data_uri(visit_link) if visit_link else "",
        given=given,
        version=version,
        offers_keep=bool(optional),
        self_link=_link("/guide/result", ev=given.ev, a=given.a, lang=lang, cv=version)
        + "".join(f"&keep={quote(k)}" for k in sorted(given.kept)),
        ratings=list(enumerate(RATINGS, start=1)),
    )


def router() -> APIRouter:
    """Routes of this module."""
    api = APIRouter()

    @api.get("/guide")
    def start(request: Request, lang: str = "", error: str = "") -> Response:
        language = _language(request, lang)
        if (refused := _throttled(request, language)) is not None:
            return refused
        events = ctx_of(request).catalog.procedures.life_events
        return _page(request, language, "guide_start.html", events=events, error=bool(error))

    @api.get("/guide/q")
    def question(
        request: Request, ev: str = "", a: str = "", lang: str = "", q: str = "", ans: str = ""
    ) -> Response:
        language = _language(request, lang)
        if (refused := _throttled(request, language)) is not None:
            return refused
        ctx = ctx_of(request)
        guide = ctx.catalog.procedures
        if not ev:
            return RedirectResponse(_link("/guide", lang=language, error="1"), status_code=303)
        try:
            given = parse_guide_input(ev, a, guide)
        except GuideInputError as exc:
            return _bad_link(request, language, str(exc))
        missing = False
        if q:
            if ans in ANSWER_OF_CODE and any(x.id == q for x in guide.questions):
                given = given.with_answer(q, ANSWER_OF_CODE[ans])
                return RedirectResponse(
                    _link("/guide/q", ev=given.ev, a=given.a, lang=language), status_code=303
                )
            missing = True
        path = guide.questions_for(given.events, given.answers)
        pending = [x for x in path if x.id not in given.answers]
        if not pending or len(given.answers) >= MAX_QUESTIONS_PER_EVENT:  # at most 10 per path
            GuideStats(ctx.fleet.engine, ctx.clock).completed(language, given.events, dict(given.answers))
            target = _link(
                "/guide/result", ev=given.ev, a=given.a, lang=language, cv=str(ctx.catalog.version)
            )
            return RedirectResponse(target, status_code=303)
        asked = [x for x in path if x.id in given.answers]
        back = (
            _link("/guide/q", ev=given.ev, a=given.without_last().a, lang=language)
            if given.answers
            else _link("/guide", lang=language)
        )
        return _page(
            request,
            language,
            "guide_question.html",
            400 if missing else 200,
            question=pending[0],
            number=len(asked) + 1,
            given=given,
            back=back,
            missing=missing,
            choices=[("y", "Yes"), ("n", "No"), ("u", "I don't know")],
        )

    @api.get("/guide/result")
    def result(
        request: Request,
        ev: str = "",
        a: str = "",
        lang: str = "",
        cv: str = "",
        keep: list[str] = Query([]),  # noqa: B008 - FastAPI's way to read a repeated parameter
    ) -> Response:
        language = _language(request, lang)
        if (refused := _throttled(request, language)) is not None:
            return refused
        try:
            given = parse_guide_input(ev, a, ctx_of(request).catalog.procedures, keep)
        except GuideInputError as exc:
            return _bad_link(request, language, str(exc))
        return _result(request, language, given, cv, None)

    @api.get("/guide/v/{code}")
    def visit(request: Request, code: str, lang: str = "") -> Response:
        language = _language(request, lang)
        if (refused := _throttled(request, language)) is not None:
            return refused
        ctx = ctx_of(request)
        codes = visit_codes(ctx)
        try:
            if codes is None:
                raise VisitCodeInvalid
            found = codes.read(code, ctx.catalog.procedures)
        except VisitCodeInvalid:
            t = ResidentText(language)
            links = [(c, name, _link("/guide", lang=c)) for c, name in LANGUAGE_NAMES.items()]
            return _page(
                request,
                language,
                "guide_message.html",
                404,
                language_links=links,
                heading=t("This visit code is not valid"),
                message=t(
                    "The code is wrong or has expired (a code is valid on the day it was made). "
                    "Please answer the guide again, or ask at reception."
                ),
            )
        return _result(request, language, found.given, str(found.catalog_version), code)

    @api.post("/guide/rating")
    def rating(request: Request, rating: str = Form(""), lang: str = Form("")) -> Response:
        language = _language(request, lang)
        if (refused := _throttled(request, language)) is not None:
            return refused
        t = ResidentText(language)
        if rating not in {str(n) for n in range(1, len(RATINGS) + 1)}:
            message = t("Please choose how satisfied you are (1 to 5), then press Send.")
            return _page(
                request, language, "guide_message.html", 400, heading=t("Procedure guide"), message=message
            )
        ctx = ctx_of(request)
        GuideStats(ctx.fleet.engine, ctx.clock).rated(language, int(rating))
        return _page(
            request,
            language,
            "guide_message.html",
            heading=t("Procedure guide"),
            message=t("Thank you for your answer."),
        )

    return api
