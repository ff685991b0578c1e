"""How a camera's candidate classifier compares with its live one, record by record.

    {"model": "door2", "compared": 412, "agreement": 0.93,
     "confusion": {"cat": {"cat": 300, "dog": 12}, "unknown": {"dog": 17}, ...},
     "latency_ms": {"p50": 3.1, "p95": 4.0, "max": 6.2}}

``confusion`` counts the frames by the live decision, then the candidate's (the diagonal is
where they agree). The tally starts again when the candidate changes (another bundle, or none
after a promotion). The stats message, the page and ``edge bench`` show it.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any

from edge.percentiles import summary

if TYPE_CHECKING:
    from edge.records.record import ResultRecord

LATENCY = {"p50": 0.50, "p95": 0.95, "max": 1.0}
WINDOW = 2000


class ShadowTally:
    """Agreement, confusion and latency of one camera's candidate since it was loaded."""

    def __init__(self, model: str = "") -> None:
        self.model = model
        self.compared = 0
        self.agreed = 0
        self.confusion: dict[str, dict[str, int]] = {}
        self.latency: deque[float] = deque(maxlen=WINDOW)

    def add(self, record: ResultRecord) -> ShadowTally:
        """Count the record's candidate; the tally to keep (a fresh one for a new model)."""
        candidate = record.candidate
        if candidate is None:
            return self
        tally = self if candidate.model == self.model else ShadowTally(candidate.model)
        classified = record.classification
        live = (classified.label or classified.top[0].label) if classified else "none"
        row = tally.confusion.setdefault(live, {})
        row[candidate.label] = row.get(candidate.label, 0) + 1
        tally.compared += 1
        tally.agreed += candidate.agrees
        if record.timing_ms.candidate is not None:
            tally.latency.append(record.timing_ms.candidate)
        return tally

    @property
    def agreement(self) -> float | None:
        return round(self.agreed / self.compared, 4) if self.compared else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "compared": self.compared,
            "agreement": self.agreement,
            "confusion": {
                live: dict(sorted(row.items())) for live, row in sorted(self.confusion.items())
            },
            "latency_ms": summary(self.latency, LATENCY),
        }
