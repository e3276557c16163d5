"""`queue.take` with a web guide visit code: the central reads the code and derives the ticket (R-30).

The kiosk only forwards the scanned code (`TakeParams.visit_code`); category and `then` come from the
catalog's `ProcedureGuide.results` for the code's life events, answers and kept route ④ procedures
(`madoguchi.guide_links.ticket_plan`, the kiosk guide's very plan), so a resident who answered at home takes
the right visit without answering again. A code that names no counter issuing numbers keeps the category
the kiosk sent. The take is counted (`guide_ticket`) once per issued ticket: `taken()` runs after a new
ticket is committed, never for a retried request answered from the kept answer.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from sqlalchemy import Engine

from central_broker.guide.stats import GuideStats
from central_broker.guide.visit_code import VisitCodeInvalid, VisitCodes, guide_secret_file
from central_broker.web.queue_common import load_board_secret
from madoguchi.config.central import CentralConfig
from madoguchi.contracts.catalog import Catalog
from madoguchi.contracts.queue import TakeParams
from madoguchi.guide_links import kiosk_categories, ticket_plan

__all__ = ["GuideTakes", "VisitCodeInvalid"]

_logger = logging.getLogger(__name__)


class GuideTakes:
    """Turns a take with a visit code into the take of its guide result.

    Args:
        codes: the central's visit codes.
        catalog: the catalog in force (the queue's).
        stats: where a ticket taken with a visit code is counted (anonymous), or None.
    """

    def __init__(self, codes: VisitCodes, catalog: Catalog, stats: GuideStats | None = None) -> None:
        self.codes = codes
        self.catalog = catalog
        self.stats = stats

    @classmethod
    def open(
        cls, config: CentralConfig, catalog: Catalog, engine: Engine, clock: Callable[[], float] = time.time
    ) -> GuideTakes:
        """With the secret in `guide_secret_file(config)` (made at first use), counting on `engine`."""
        secret = load_board_secret(guide_secret_file(config))
        return cls(VisitCodes(secret, clock), catalog, GuideStats(engine, clock))

    def resolve(self, params: TakeParams) -> TakeParams:
        """`params` with category and `then` of the code's guide result (nothing is counted here).

        Raises:
            VisitCodeInvalid: the code is forged, altered or expired (one answer for all).
        """
        code = self.codes.read(params.visit_code or "", self.catalog.procedures)
        items = self.catalog.procedures.results(code.given.events, code.given.answers)
        plan = ticket_plan(items, code.given.kept, kiosk_categories(self.catalog))
        if plan is None:
            _logger.info("visit code lists no counter issuing numbers; category %s as sent", params.category)
            return params
        return params.model_copy(update={"category": plan.category, "then": list(plan.then)})

    def taken(self) -> None:
        """Count one ticket issued with a visit code (call once, after the new ticket is committed)."""
        if self.stats is not None:
            self.stats.ticket()
