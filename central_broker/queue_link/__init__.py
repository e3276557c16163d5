"""The kiosk ↔ central link of the visit queue (issue 18): RPC methods and the retained congestion lamps.

`queue.take` / `queue.block` / `queue.merge` on the shared RPC server (svc-rpc) and the retained
`CongestionView` per kiosk on `down/queue` (svc-catalog), over the core in `central_broker.queue`;
`SimulatedStaff` works the counters in `madoguchi-demo`.
See docs/queue.md ("Kiosk link").
"""

from __future__ import annotations

from central_broker.queue_link.branches import BranchError, BranchResolver
from central_broker.queue_link.congestion import CongestionPublisher
from central_broker.queue_link.hosting import QueueHost, demo_section, public_base, queue_config
from central_broker.queue_link.ratelimit import TokenBuckets
from central_broker.queue_link.rpc import QueueRpc, refusal
from central_broker.queue_link.simulated_staff import SimulatedStaff, StaffPlan
from central_broker.queue_link.views import congestion_view, merge_view, status_url, ticket_view

__all__ = [
    "BranchError",
    "BranchResolver",
    "CongestionPublisher",
    "QueueHost",
    "QueueRpc",
    "SimulatedStaff",
    "StaffPlan",
    "TokenBuckets",
    "congestion_view",
    "demo_section",
    "merge_view",
    "public_base",
    "queue_config",
    "refusal",
    "status_url",
    "ticket_view",
]
