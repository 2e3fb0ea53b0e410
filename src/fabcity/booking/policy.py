"""Prices and refunds, computed on the server from what was copied onto the booking.

A cancellation policy is a list of tiers (days before the start, percent refunded), e.g.
[[7, 100], [3, 50], [0, 0]]: cancelled 7 or more days ahead, all back; 3 to 6 days, half; later,
nothing. The booking keeps the policy in force when it was confirmed, so a host who changes the
policy later does not change what a member was promised. A host's cancellation refunds all.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

DEFAULT_POLICY: list[list[int]] = [[7, 100], [3, 50], [0, 0]]


def price(price_per_slot_krw: int, duration_min: int, granularity_min: int) -> int:
    """What a booking costs: one price per slot it takes."""
    return price_per_slot_krw * (duration_min // granularity_min)


def refund_percent(policy: Sequence[Sequence[int]], starts_at: datetime, cancelled_at: datetime) -> int:
    """The percent back for a member's cancellation at `cancelled_at`: that of the tier with the most days
    before the start that are still met; none met, nothing back."""
    days_ahead = (starts_at - cancelled_at).days  # whole days; a negative number once the booking has begun
    met = [(days_before, percent) for days_before, percent in policy if days_ahead >= days_before]
    return max(met)[1] if met else 0


def refund_krw(paid_krw: int, percent: int) -> int:
    """The amount back, in whole won, never more than was paid."""
    return paid_krw * percent // 100
