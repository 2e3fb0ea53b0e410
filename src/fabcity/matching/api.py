"""Matching as JSON: who can make a need, and an open call's needs allocated to the nodes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from fabcity.directory.models import Code
from fabcity.errors import ParameterError
from fabcity.matching.allocate import Demand, allocate, allocate_greedy, node_capacities
from fabcity.matching.need import Need
from fabcity.matching.parse import Reading, read_need
from fabcity.matching.rank import rank
from fabcity.web.deps import PlatformDep

router = APIRouter(prefix="/api/v1/match", tags=["matching"])


class CallNeed(BaseModel):
    id: str = Field(max_length=100)
    text: str | None = Field(None, max_length=2000)
    need: Need | None = None


class AllocateRequest(BaseModel):
    needs: list[CallNeed] = Field(min_length=1, max_length=20_000)
    capacities: dict[Code, Annotated[int, Field(ge=0, le=10_000_000)]] = Field(
        default_factory=dict,
        max_length=100_000,
        description="units per node (id or slug); others take their typical batch band's top",
    )


class MatchRequest(BaseModel):
    text: str | None = Field(None, max_length=2000, examples=["아크릴 간판 200개, 레이저 커팅, 은평구 근처, 3월까지"])
    need: Need | None = None
    limit: int = Field(20, ge=1, le=100)


@router.post("", summary="Nodes that can make a need, ranked and explained")
def match(request: MatchRequest, platform: PlatformDep) -> dict[str, Any]:
    """Give `text` (Korean or English) or a structured `need`; the answer says how the need was read."""
    if request.need is not None:
        reading = Reading(request.need)
    elif request.text and request.text.strip():
        reading = read_need(request.text, platform.districts, platform.stations)
    else:
        raise ParameterError("text", "give the need as text or as a structured need")
    return {**reading.public(), **rank(platform, reading.need, request.limit).public()}


@router.post("/allocate", summary="Allocate an open call's needs to nodes")
def allocate_call(request: AllocateRequest, platform: PlatformDep) -> Any:
    """Most needs covered, then least total distance; with the greedy nearest-first result for comparison."""
    demands = []
    for index, item in enumerate(request.needs):
        if item.need is None and not (item.text and item.text.strip()):
            raise ParameterError("needs", f"need {item.id!r}: give text or a structured need")
        if (need := item.need) is None:
            need = read_need(item.text, platform.districts, platform.stations, field=f"needs.{index}.text").need
        demands.append(Demand(item.id, need))
    capacities = node_capacities(platform, request.capacities)
    try:
        best = allocate(demands, capacities)
    except ValueError as error:
        raise ParameterError("needs", str(error)) from None
    baseline = allocate_greedy(demands, capacities)
    slugs = {c.id: c.slug for c in capacities}
    answer = best.public()
    for assignment in answer["assignments"]:
        assignment["node"] = {"id": assignment["node"], "slug": slugs[assignment["node"]]}
    answer["baseline"] = {k: baseline.public()[k] for k in ("method", "covered", "total_distance_m")}
    return answer
