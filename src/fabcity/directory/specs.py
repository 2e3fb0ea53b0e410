"""Machine specifications as people read and enter them: a label, a unit and how many numbers.

The stored keys (`bed_size_mm`, `laser_power_w`) are Open Know-Where's and the model's (models.Specs);
pages show "베드 크기 1000 × 610 mm" instead, and the machine editor offers for each machine type
the specs that describe it (a laser cutter's bed and power, a printer's build volume).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Spec:
    """One spec: its ko/en label, its unit, and its shape (1 number, 2 or 3 dimensions, whole number or text)."""

    key: str
    label: tuple[str, str]
    unit: str = ""
    size: int = 1
    kind: str = "number"  # number, integer or text


SPECS = {
    spec.key: spec
    for spec in (
        Spec("bed_size_mm", ("베드 크기", "Bed size"), "mm", 2),
        Spec("working_area_mm", ("작업 영역", "Working area"), "mm", 2),
        Spec("build_volume_mm", ("출력 크기", "Build volume"), "mm", 3),
        Spec("x_travel_mm", ("X축 이동 거리", "X travel"), "mm"),
        Spec("y_travel_mm", ("Y축 이동 거리", "Y travel"), "mm"),
        Spec("z_travel_mm", ("Z축 이동 거리", "Z travel"), "mm"),
        Spec("laser_power_w", ("레이저 출력", "Laser power"), "W"),
        Spec("laser_type", ("레이저 종류", "Laser type"), kind="text"),
        Spec("axes", ("축 수", "Axes"), kind="integer"),
        Spec("max_spindle_speed_rpm", ("최대 스핀들 속도", "Maximum spindle speed"), "rpm"),
        Spec("layer_resolution_mm", ("적층 두께", "Layer resolution"), "mm"),
        Spec("nozzle_size_mm", ("노즐 지름", "Nozzle size"), "mm"),
        Spec("technology", ("방식", "Technology"), kind="text"),
        Spec("tolerance_class", ("공차 등급", "Tolerance class"), kind="text"),
    )
}

_LASER = ("bed_size_mm", "laser_power_w", "laser_type")
_PRINTER = ("build_volume_mm", "layer_resolution_mm", "technology")
_MACHINING = ("working_area_mm", "x_travel_mm", "y_travel_mm", "z_travel_mm", "axes", "max_spindle_speed_rpm",
              "tolerance_class")  # fmt: skip
_FLAT = ("working_area_mm",)
_SPECS_OF_TYPE = {
    "laser_cutter": _LASER, "fiber_laser": _LASER,
    "3d_printer": (*_PRINTER, "nozzle_size_mm"), "fdm_3d_printer": (*_PRINTER, "nozzle_size_mm"),
    "sla_3d_printer": _PRINTER, "sls_3d_printer": _PRINTER, "industrial_3d_printer": _PRINTER,
    "cnc_machine": _MACHINING, "cnc_router": _MACHINING, "cnc_mill": _MACHINING, "machining_center": _MACHINING,
    "five_axis_cnc": _MACHINING, "cnc_lathe": _MACHINING, "pcb_mill": _MACHINING,
    "waterjet_cutter": ("bed_size_mm", "tolerance_class"), "plasma_cutter": ("bed_size_mm", "tolerance_class"),
    "vinyl_cutter": _FLAT, "hot_wire_cutter": _FLAT, "large_format_printer": _FLAT, "uv_printer": _FLAT,
    "screen_printing_press": _FLAT, "heat_press": _FLAT, "embroidery_machine": _FLAT, "vacuum_former": _FLAT,
    "press_brake": _FLAT, "3d_scanner": ("build_volume_mm",), "injection_moulding_machine": ("build_volume_mm",),
    "kiln": ("build_volume_mm",),
}  # fmt: skip


def types_of_spec(spec_key: str) -> tuple[str, ...]:
    """The machine types a spec describes (the editor shows the spec on their rows)."""
    return tuple(kind for kind, keys in _SPECS_OF_TYPE.items() if spec_key in keys)


def number_text(value: float) -> str:
    """1000.0 as "1000", 0.25 as "0.25": numbers as a person writes them."""
    return f"{value:g}" if abs(value) < 1e15 else str(value)


def spec_text(key: str, value: Any, language: str) -> str:
    """One stored spec as "베드 크기 1000 × 610 mm" (Korean) or "Bed size 1000 × 610 mm" (English)."""
    spec = SPECS[key]
    values = value if isinstance(value, list) else [value]
    shown = " × ".join(number_text(v) if isinstance(v, int | float) else str(v) for v in values)
    label = spec.label[0 if language == "ko" else 1]
    return f"{label} {shown} {spec.unit}".rstrip()
