"""`kiosk-central serve`: run the central services in the foreground (ingest, web, RPC, issuance, queue).

Each function connects with its own broker identity (`CentralConfig.broker_for`): the ingest as
svc-ingest, the RPC service (payment orders, issuance, visit numbers) as svc-rpc, and the re-signing
loop, the rollout watch, the queue's congestion lamps and the web's fleet actions as svc-catalog; the
service listener's ACL gives each only its own rights (contract §6). Before anything connects,
`check_identities` refuses a service certificate that belongs to another function.
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
from pathlib import Path

from cryptography import x509
from cryptography.x509.oid import NameOID

from central_broker.catalog_push.refresh import RefreshLoop
from central_broker.catalog_push.retained import RetainedKeeper
from central_broker.catalog_push.signing import SigningKeys
from central_broker.ingest import Ingest
from central_broker.issuance.hosting import IssuanceHost
from central_broker.prefill import PrefillHost
from central_broker.queue_link import QueueHost
from central_broker.rollout.runner import Rollout
from central_broker.rollout.watch import RolloutWatch
from central_broker.store import FleetStore, open_store
from central_broker.web.services import CentralServices
from madoguchi.config.central import (
    SERVICE_NAMES,
    CentralConfig,
    ServiceRole,
    load_central_config,
    local_central_config,
)
from madoguchi.errors import UserError
from madoguchi.signals import stop_on_signals

__all__ = ["central_config_from_args", "check_identities", "register"]

_logger = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `serve`."""
    serve = subparsers.add_parser(
        "serve",
        help="run the central services (ingest, web dashboard, payment, issuance and queue RPC) until Ctrl-C or SIGTERM",
        description=(
            "Run the central services in the foreground: the ingest reads every kiosk's state, health, "
            "statistics, events and alerts into the central store; the web dashboard (operators, "
            "counter staff, auditors); one RPC service for the payment orders of semi-self registers "
            "and, when [issuance] is configured, certificate issuance; visit numbers (queue.take, "
            "[queue]) with the congestion lamps on every kiosk's down/queue; hourly re-signing of retained "
            "catalog documents when [web] signing_keys_dir is set. "
            "Use --config FILE, or --broker URL --data-dir DIR for a local set-up (SQLite in DIR)."
        ),
    )
    serve.add_argument("--config", type=Path, help="central TOML file")
    serve.add_argument("--broker", help="broker URL for a local set-up, e.g. mqtt://127.0.0.1:1883")
    serve.add_argument("--data-dir", type=Path, help="data folder for a local set-up (central.db goes there)")
    serve.add_argument(
        "--web-port", type=int, help="web dashboard port (default: [web] port, 8080; 0 disables it)"
    )
    serve.set_defaults(func=_serve)


def central_config_from_args(args: argparse.Namespace) -> CentralConfig:
    """The central config from `--config`, or from `--broker` and `--data-dir`."""
    if args.config is not None:
        if args.broker or args.data_dir:
            raise UserError("--config cannot be combined with --broker/--data-dir", "use one or the other")
        return load_central_config(args.config)
    if not args.broker or args.data_dir is None:
        raise UserError(
            "no configuration given",
            "pass --config /etc/madoguchi/central.toml, or --broker mqtt://127.0.0.1:1883 --data-dir DIR",
        )
    return local_central_config(args.data_dir, args.broker)


def _certificate_cn(path: Path, where: str) -> str:
    try:
        certificate = x509.load_pem_x509_certificates(path.read_bytes())[0]  # the leaf comes first
    except (OSError, ValueError) as exc:
        raise UserError(
            f"{where}: cannot read the certificate {path} ({exc})",
            "point cert_file at the service's PEM chain, e.g. pki/services/svc-ingest/chain.pem",
        ) from None
    names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    value = names[0].value if names else ""
    return value.decode() if isinstance(value, bytes) else value


def check_identities(config: CentralConfig, roles: tuple[ServiceRole, ...]) -> dict[ServiceRole, str]:
    """The certificate CN each role connects with ("" over plaintext); refuses a known service name
    that is not the role's own (its ACL lacks the role's rights, so the function would silently
    do nothing), warns about unknown names (a custom ACL must grant the rights).

    Raises:
        UserError: naming the role, the CN found and the table to add.
    """
    found: dict[ServiceRole, str] = {}
    for role in roles:
        broker = config.broker_for(role)
        if not broker.tls or broker.cert_file is None:
            found[role] = ""
            continue
        where = config.broker.identity_source(role)
        cn = found[role] = _certificate_cn(broker.cert_file, where)
        wanted = SERVICE_NAMES[role]
        if cn == wanted:
            continue
        if cn in SERVICE_NAMES.values():
            raise UserError(
                f"the {role} function would connect as {cn} (certificate of {where}), which has none of "
                f"its rights on the broker: the service ACL grants them to {wanted} only",
                f"add [broker.identities.{role}] with the {wanted} certificate: "
                f'cert_file = "pki/services/{wanted}/chain.pem", key_file = "pki/services/{wanted}/key.pem"'
                f" (kiosk-central ca issue-service {wanted})",
            )
        _logger.warning(
            "%s function connects as %r (%s), not %s: the broker's ACL must grant it the %s rights",
            role,
            cn,
            where,
            wanted,
            wanted,
        )
    return found


def _roles(config: CentralConfig) -> tuple[ServiceRole, ...]:
    """The functions this `serve` runs. Catalog (re-signing, rollouts, web actions, re-publishing the
    retained fleet documents) with signing keys, its own identity, or a plaintext development broker."""
    catalog = (
        config.web.signing_keys_dir is not None
        or config.broker.identities.catalog is not None
        or not config.broker.tls
    )
    return ("ingest", "rpc", "catalog") if catalog else ("ingest", "rpc")


def _serve(args: argparse.Namespace) -> int:
    # Signals are caught from the first moment: a SIGTERM while the services are still being built
    # (issuance renderers, queue, prefill) stops them cleanly instead of killing the process mid-setup.
    with stop_on_signals() as stop:
        return _serve_until(args, stop)


def _serve_until(args: argparse.Namespace, stop: threading.Event) -> int:
    config = central_config_from_args(args)
    identities = check_identities(config, _roles(config))
    store = open_store(config.central.store_url, stale_after_s=config.fleet.stale_after_s)
    ingest = Ingest(store, config.broker_for("ingest"))
    ingest.start()  # first: kiosks are seen online while issuance (registry, renderers) gets ready
    try:
        issuance = IssuanceHost.from_config(config, store)
        queue = QueueHost.from_config(config, store, publish="catalog" in identities, web_port=args.web_port)
        prefill = None if queue is None else PrefillHost.build(config, queue.queue)  # 書かない窓口
    except BaseException:
        ingest.stop()
        store.close()
        raise
    if queue is not None and queue.publisher is None:
        _logger.warning(
            "no catalog identity ([broker.identities.catalog]): the queue's congestion lamps are not published"
        )
    handlers = {**(issuance.handlers if issuance else {}), **(queue.handlers if queue else {})}
    handlers |= prefill.handlers if prefill else {}
    services = CentralServices(
        config,
        store,
        rpc_handlers=handlers or None,
        web_port=args.web_port,
        rpc_extra=None if issuance is None else issuance.control,
        queue=queue.queue if queue is not None else None,
    )
    if prefill is not None:
        services.ctx.prefill = prefill.store  # shown on the counter page while the visit is called there
    refresher = _refresher(config, store)
    watch = _rollout_watch(config, store)
    keeper = RetainedKeeper(config.broker_for("catalog"), store) if "catalog" in identities else None
    if keeper is None:
        _logger.warning(
            "no catalog identity ([broker.identities.catalog] or [web] signing_keys_dir): retained fleet "
            "documents are not published again after a broker restart"
        )
    try:
        services.start()
        if issuance is not None:
            issuance.start()
        if queue is not None:
            queue.start()  # lamps on every kiosk's down/queue (svc-catalog)
        if prefill is not None:
            prefill.start()  # deletes form data of ended visits and past midnight, now and every minute
        if refresher is not None:
            refresher.start()
        if watch is not None:
            watch.start()
        if keeper is not None:
            keeper.start()  # publishes the stored retained documents now and after every reconnect
        who = ", ".join(f"{role} as {cn}" for role, cn in identities.items() if cn)
        print(
            f"kiosk-central serve: ingest {ingest.client_id} → {config.broker.url}"
            f"{f' ({who})' if who else ''}, "
            f"store {config.central.store_url_redacted}; {services.describe()}; Ctrl-C stops",
            file=sys.stderr,
            flush=True,
        )
        stop.wait()
    finally:
        if keeper is not None:
            keeper.stop()
        if refresher is not None:
            refresher.stop()
        if watch is not None:
            watch.stop()
        services.stop()
        if prefill is not None:
            prefill.stop()
        if queue is not None:
            queue.stop()
        if issuance is not None:
            issuance.stop()
        ingest.stop()
        store.close()
    return 0


def _refresher(config: CentralConfig, store: FleetStore) -> RefreshLoop | None:
    """Hourly re-signing of retained fleet documents, when the signing keys are configured."""
    folder = config.web.signing_keys_dir
    if folder is None or not (folder / "catalog.key").is_file():
        _logger.info("no signing keys configured: retained catalog documents are not re-signed by serve")
        return None
    return RefreshLoop(config.broker_for("catalog"), SigningKeys(folder), store)


def _rollout_watch(config: CentralConfig, store: FleetStore) -> RolloutWatch | None:
    """Auto-halt of staged rollouts, when the signing keys are configured."""
    folder = config.web.signing_keys_dir
    if folder is None or not (folder / "catalog.key").is_file():
        return None
    return RolloutWatch(Rollout(store, config.broker_for("catalog"), SigningKeys(folder)))
