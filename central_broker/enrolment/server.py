"""The enrolment HTTPS endpoint (FastAPI on uvicorn): TLS with a service certificate, optional client certs.

Devices pin the fleet root. `POST /v1/enrol` needs no client certificate; `POST /v1/renew`, `GET /v1/releases/<sha256>` (app
release bundles) and `GET /v1/catalogs/<sha256>` (catalog bodies too large for MQTT) need the device's current certificate (mutual TLS). Uvicorn does not yet hand the client certificate to the
app, so the protocol class from `limits` adds it as the ASGI TLS extension (`scope["extensions"]["tls"]`), and bounds
header and body time, body size, connections and requests in progress (`ServeLimits`).
"""

from __future__ import annotations

import logging
import ssl
from pathlib import Path

import uvicorn
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse

from central_broker.catalog_push.bodies import CatalogBodies
from central_broker.enrolment.limits import RequestLimits, ServeLimits, guarded_protocol
from central_broker.enrolment.service import EnrolmentService
from central_broker.enrolment.tokens import EnrolmentRefused
from central_broker.releases.files import ReleaseFiles
from madoguchi.enrolment import (
    CATALOGS_PATH,
    ENROL_PATH,
    RELEASES_PATH,
    RENEW_PATH,
    EnrolRequest,
    EnrolResponse,
    Refusal,
    RefusalCode,
    RenewRequest,
)

__all__ = ["create_app", "serve"]

_logger = logging.getLogger(__name__)


def _refusal(exc: EnrolmentRefused) -> JSONResponse:
    status = {
        RefusalCode.BAD_REQUEST: 400,
        RefusalCode.CLOCK_NOT_SET: 400,
        RefusalCode.RELEASE_UNKNOWN: 404,
        RefusalCode.CATALOG_UNKNOWN: 404,
    }.get(exc.code, 403)
    body = Refusal(code=exc.code, message=exc.message, hint=exc.hint)
    _logger.warning("refused: %s (%s)", exc.code.value, exc.message)
    return JSONResponse(body.model_dump(mode="json"), status_code=status)


def _invalid_request(exc: RequestValidationError) -> EnrolmentRefused:
    """Name each bad field and what is wrong with it (never echo the value: it may be huge or a secret)."""
    problems = []
    for error in exc.errors()[:5]:
        where = ".".join(str(p) for p in error.get("loc", ()) if p != "body") or "body"
        problems.append(f"{where}: {error.get('msg', 'invalid')}")
    return EnrolmentRefused(
        RefusalCode.BAD_REQUEST,
        f"the request is not valid: {'; '.join(problems)}",
        "send the JSON request of this kiosk software version (device_time: integer epoch seconds of a set clock);"
        " update the kiosk software if it is older than the central",
    )


def _client_cert(request: Request) -> str | None:
    chain = request.scope.get("extensions", {}).get("tls", {}).get("client_cert_chain") or []
    return str(chain[0]) if chain else None


def create_app(
    service: EnrolmentService,
    releases: ReleaseFiles | None = None,
    limits: ServeLimits | None = None,
    catalogs: CatalogBodies | None = None,
) -> FastAPI:
    """The ASGI app; every refusal is a JSON `Refusal` with code, message and hint.

    With `releases`, `GET /v1/releases/<sha256>` serves release bundles to current device certificates;
    with `catalogs`, `GET /v1/catalogs/<sha256>` serves catalog bodies to them.
    """
    limits = limits or ServeLimits()
    app = FastAPI(
        title="Madoguchi enrolment",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        max_body_size=limits.max_body_bytes,  # second guard behind RequestLimits
    )

    @app.exception_handler(EnrolmentRefused)
    async def refused(_: Request, exc: EnrolmentRefused) -> JSONResponse:
        return _refusal(exc)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return _refusal(_invalid_request(exc))

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post(ENROL_PATH)
    def enrol(body: EnrolRequest) -> EnrolResponse:
        return service.enrol(body)

    @app.post(RENEW_PATH)
    def renew(body: RenewRequest, request: Request) -> EnrolResponse:
        return service.renew(_client_cert(request), body)

    @app.get(RELEASES_PATH + "/{sha256}")
    def release(sha256: str, request: Request) -> FileResponse:
        device_id = service.device_of(_client_cert(request), "downloading a release")
        path = releases.path(sha256) if releases is not None else None
        if path is None:
            raise EnrolmentRefused(
                RefusalCode.RELEASE_UNKNOWN,
                f"no release bundle with sha256 {sha256[:64]} here",
                "publish it with `kiosk-central release rollout start` against this central's data folder",
            )
        _logger.info("release %s… to %s", sha256[:12], device_id)
        return FileResponse(path, media_type="application/x-tar")

    @app.get(CATALOGS_PATH + "/{sha256}")
    def catalog(sha256: str, request: Request) -> FileResponse:
        device_id = service.device_of(_client_cert(request), "downloading a catalog")
        path = catalogs.path(sha256) if catalogs is not None else None
        if path is None:
            raise EnrolmentRefused(
                RefusalCode.CATALOG_UNKNOWN,
                f"no catalog with sha256 {sha256[:64]} here",
                "publish it with `kiosk-central catalog publish` on a central whose data_dir this endpoint serves",
            )
        _logger.info("catalog %s… to %s", sha256[:12], device_id)
        return FileResponse(path, media_type="application/json")

    return app


def serve(
    service: EnrolmentService,
    host: str,
    port: int,
    cert_dir: Path,
    client_ca: Path,
    releases: ReleaseFiles | None = None,
    limits: ServeLimits | None = None,
    catalogs: CatalogBodies | None = None,
) -> None:
    """Run the endpoint until interrupted: server cert from `cert_dir` (chain.pem, key.pem)."""
    limits = limits or ServeLimits()
    config = uvicorn.Config(
        RequestLimits(create_app(service, releases, limits, catalogs), limits),
        host=host,
        port=port,
        http=guarded_protocol(limits),
        ssl_certfile=str(cert_dir / "chain.pem"),
        ssl_keyfile=str(cert_dir / "key.pem"),
        ssl_ca_certs=str(client_ca),
        ssl_cert_reqs=ssl.CERT_OPTIONAL,
        log_level="warning",
        server_header=False,
        limit_concurrency=None,  # uvicorn's limit counts idle connections too: RequestLimits counts requests
        timeout_keep_alive=5,
        h11_max_incomplete_event_size=16 * 1024,  # request line + headers
    )
    _logger.info("enrolment endpoint on https://%s:%d (%s)", host, port, limits)
    uvicorn.Server(config).run()
