"""Surgeons' experience: spread like a real workforce, and a learning curve that outcomes follow."""

from __future__ import annotations

import math
import random

# Years since the robotic-console credential: mostly mid-career, few in their first years, fewer near retirement.
EXPERIENCE_MEAN_YEARS = 13.0
EXPERIENCE_SD_YEARS = 6.5
EXPERIENCE_RANGE = (1, 38)

# Risk relative to a reference surgeon: about 1.6 in the first year, 0.9 at ten years, 0.55 after twenty.
LEARNING_FLOOR = 0.3
LEARNING_EXCESS = 1.4
LEARNING_YEARS = 12.0


def years_experience(rng: random.Random) -> int:
    """A surgeon's years of experience, drawn from the workforce's spread."""
    years = round(rng.gauss(EXPERIENCE_MEAN_YEARS, EXPERIENCE_SD_YEARS))
    return min(EXPERIENCE_RANGE[1], max(EXPERIENCE_RANGE[0], years))


def learning_factor(years: int | None) -> float:
    """How much riskier (> 1) or safer (< 1) than the reference surgeon a surgeon with `years` of experience is."""
    return LEARNING_FLOOR + LEARNING_EXCESS * math.exp(-max(0, years or 0) / LEARNING_YEARS)
