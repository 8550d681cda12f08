"""Membership levels and who may choose them (../shared/spec/domain.md).

Names, thresholds and prices live here, in the API, not in the assistant's
texts: a price change needs no retraining.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List

INVITATION_POINTS = 500
CORPORATE_ABOVE = 2500


@dataclass(frozen=True)
class Level:
    code: str
    name: str
    kind: str  # "individual" | "corporate"
    threshold: int
    price: int  # EUR a year


LEVELS: List[Level] = [
    Level("silver", "Silver", "individual", 500, 49),
    Level("gold", "Gold", "individual", 1000, 99),
    Level("platinum", "Platinum", "individual", 2000, 249),
    Level("corporate", "Corporate", "corporate", CORPORATE_ABOVE + 1, 499),
]
BY_CODE: Dict[str, Level] = {level.code: level for level in LEVELS}


def eligible(level: Level, points: int) -> bool:
    return points >= level.threshold


def levels_for(points: int) -> Dict[str, object]:
    return {
        "points": points,
        "invited": points >= INVITATION_POINTS,
        "corporate_open": points > CORPORATE_ABOVE,
        "levels": [
            {
                "code": level.code,
                "name": level.name,
                "kind": level.kind,
                "threshold": level.threshold,
                "price": {"amount": level.price, "currency": "EUR"},
                "eligible": eligible(level, points),
                "points_missing": max(0, level.threshold - points),
            }
            for level in LEVELS
        ],
    }
