"""Closed value lists of booking, each with Korean and English labels, and the arrows of its states."""

from __future__ import annotations

KINDS: dict[str, tuple[str, str]] = {
    "machine": ("장비", "Machine"),
    "room": ("공간", "Room"),
    "desk": ("좌석", "Desk"),
    "focus_booth": ("포커스 부스", "Focus booth"),
    "production_line": ("생산 라인", "Production line"),
}

MODES: dict[str, tuple[str, str]] = {
    "instant": ("즉시 확정", "Instant"),
    "approval": ("호스트 승인", "Host approval"),
}

EXCEPTION_KINDS: dict[str, tuple[str, str]] = {
    "closure": ("휴무", "Closure"),
    "maintenance": ("점검", "Maintenance"),
    "extra_opening": ("추가 운영", "Extra opening"),
    "external_block": ("외부 일정", "External block"),
}
# The exceptions that take time away from the weekly rules; an extra opening adds time.
CLOSING_EXCEPTIONS = ("closure", "maintenance", "external_block")

STATES: dict[str, tuple[str, str]] = {
    "requested": ("승인 대기", "Requested"),
    "approved": ("승인됨", "Approved"),
    "payment_due": ("결제 대기", "Payment due"),
    "confirmed": ("확정", "Confirmed"),
    "completed": ("이용 완료", "Completed"),
    "declined": ("거절됨", "Declined"),
    "expired": ("만료됨", "Expired"),
    "cancelled_by_member": ("예약자 취소", "Cancelled by the member"),
    "cancelled_by_host": ("호스트 취소", "Cancelled by the host"),
    "no_show": ("노쇼", "No-show"),
}

# States that hold a slot only until `hold_expires_at`: past it a booking reads as expired.
HOLDING = ("requested", "approved", "payment_due")
# States in which a booking takes its unit's time (the PostgreSQL exclusion constraint's predicate,
# migration 0012). Past ones stay blocking so that history never shows two people on one unit.
BLOCKING = (*HOLDING, "confirmed", "completed", "no_show")

# Every move a booking can make; anything else is refused (409) and changes nothing.
ARROWS: dict[str, tuple[str, ...]] = {
    "requested": ("approved", "declined", "expired", "cancelled_by_member", "cancelled_by_host"),
    "approved": ("payment_due", "confirmed", "expired", "cancelled_by_member", "cancelled_by_host"),
    "payment_due": ("confirmed", "expired", "cancelled_by_member", "cancelled_by_host"),
    "confirmed": ("completed", "no_show", "cancelled_by_member", "cancelled_by_host"),
    "completed": (),
    "declined": (),
    "expired": (),
    "cancelled_by_member": (),
    "cancelled_by_host": (),
    "no_show": (),
}

# Where a recorded pass of a training stands (booking.qualifications), computed when read.
QUALIFICATION_STATUSES: dict[str, tuple[str, str]] = {
    "valid": ("유효", "Valid"),
    "expired": ("만료됨", "Expired"),
    "lapsed": ("미사용 만료", "Lapsed (unused)"),
    "revoked": ("취소됨", "Revoked"),
}
