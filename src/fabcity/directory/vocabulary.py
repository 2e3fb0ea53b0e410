"""Closed value lists of a node (OKW-compatible), each with Korean and English labels."""

from __future__ import annotations

NODE_TYPES: dict[str, tuple[str, str]] = {
    "fab_lab": ("팹랩", "Fab lab"),
    "makerspace": ("메이커스페이스", "Makerspace"),
    "micro_factory": ("마이크로 팩토리", "Micro factory"),
    "small_manufacturer": ("소공인·소형공장", "Small manufacturer"),
    "material_supplier": ("재료상", "Material supplier"),
    "research_lab": ("연구시설", "Research lab"),
    "studio": ("작업실", "Studio"),
    "coworking": ("코워킹·워크허브", "Coworking / work hub"),
    "urban_farm": ("도시농업", "Urban farm"),
    "repair": ("수리·새활용", "Repair / upcycling"),
    "other": ("기타", "Other"),
}

STATUSES: dict[str, tuple[str, str]] = {
    "active": ("운영 중", "Active"),
    "planned": ("계획", "Planned"),
    "temporary_closure": ("임시 휴업", "Temporarily closed"),
    "closed": ("폐업", "Closed"),
}

# OKW accessType
ACCESS_TYPES: dict[str, tuple[str, str]] = {
    "restricted": ("제한", "Restricted"),
    "restricted_with_public_hours": ("제한 (공개 시간 있음)", "Restricted with public hours"),
    "shared_space": ("공유 공간", "Shared space"),
    "public": ("공개", "Public"),
    "membership": ("회원제", "Membership"),
}

# OKW typicalBatchSize bands, as (lowest, highest) unit counts
BATCH_SIZES: dict[str, tuple[int, int | None]] = {
    "0-50": (0, 50),
    "50-500": (50, 500),
    "500-5000": (500, 5000),
    "5000+": (5000, None),
}

# Make Works run sizes
RUN_SIZES: dict[str, tuple[str, str]] = {
    "sample": ("샘플", "Sample production"),
    "one_off": ("일품 제작", "Bespoke one-offs"),
    "short": ("소량 (수십 개)", "Short run"),
    "medium": ("중량 (수백 개)", "Medium run"),
    "large": ("대량 (수천 개 이상)", "Large run"),
}

PRECISIONS: dict[str, tuple[str, str]] = {
    "exact": ("정확한 위치", "Exact point"),
    "building": ("건물 단위", "Building"),
    "dong": ("행정동 단위", "Dong only"),
    "gu": ("자치구 단위", "District (gu) only"),
    "unknown": ("위치 미상", "Location unknown"),
}

POINT_PRECISIONS = ("exact", "building")


def public_list(values: dict[str, tuple[str, str]]) -> list[dict]:
    return [{"id": key, "label": {"ko": ko, "en": en}} for key, (ko, en) in values.items()]
