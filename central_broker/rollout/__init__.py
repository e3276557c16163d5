"""Staged catalog rollout (contract §5): one test kiosk → pilot municipality → 10 % → 50 % → 100 %,
advanced by the operator, halted automatically when too many kiosks of the current stage fail."""

from __future__ import annotations

from central_broker.rollout.cohorts import Stage, plan_stages
from central_broker.rollout.runner import Rollout, RolloutError, StageStatus

__all__ = ["Rollout", "RolloutError", "Stage", "StageStatus", "plan_stages"]
