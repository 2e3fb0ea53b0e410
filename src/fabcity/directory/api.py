"""The directory's JSON endpoints: search, one node, the taxonomy, and the writes hosts and curators make.

Thin: each endpoint reads its parameters and calls the same services as the CLI. Authorization
lives in the services (directory.editing); service errors rise to web/errors.py.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, BackgroundTasks, Body, Header, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from fabcity import audit
from fabcity.directory import editing, vocabulary
from fabcity.directory.formats import geojson
from fabcity.directory.models import Note
from fabcity.directory.read import to_json
from fabcity.directory.search import MAX_RADIUS_M, SearchQuery, parse_bbox, parse_point, search
from fabcity.directory.taxonomy import KINDS, taxonomy
from fabcity.errors import Forbidden, NotAuthenticated
from fabcity.notify import outbox
from fabcity.platform import Platform
from fabcity.web.auth import acting_user, visitor
from fabcity.web.deps import PlatformDep, RowId, SettingsDep, if_match_versions
from fabcity.web.downloads import GEOJSON, also_as
from fabcity.web.errors import documented
from fabcity.web.query import openapi_parameters, read_query
from fabcity.web.turns import Turns

router = APIRouter(prefix="/api/v1", responses=documented(401, 403, 404))
searches = Turns()
NodeBody = Annotated[dict[str, Any], Body(description="A node record (the shape GET returns, without derived fields)")]
IfMatch = Annotated[
    str | None,
    Header(
        description='The ETag of the node as you read it (GET sends it), e.g. "3": the change is made only if'
        " nobody has written the node since, else 412. Without it, a patch lands on the node as it is then.",
    ),
]
_ETAG = {
    "description": "The node's version after this write: send it as If-Match with the next change",
    "schema": {"type": "string", "example": '"4"'},
}
_TAKEN = {"description": "An external id or the slug the record names belongs to another node: `detail` names it"}
_CONDITIONAL_WRITE: dict[int | str, dict[str, Any]] = {
    200: {"headers": {"ETag": _ETAG}},
    412: {"description": "If-Match names a version the node is no longer at: read it again, reapply the change"},
}


class NodeSearchParams(BaseModel):
    """The query parameters of GET /api/v1/nodes (read by web.query, not by FastAPI's signature)."""

    q: str | None = Field(None, description="Free text (레이저 finds 레이저커터)", max_length=200)
    near: str | None = Field(None, description="lat,lon", examples=["37.5665,126.9780"])
    radius_m: float | None = Field(None, gt=0, le=MAX_RADIUS_M, description="metres around `near` (default 50 km)")
    bbox: str | None = Field(None, description="south,west,north,east")
    gu: list[str] = Field([], description="gu: code, Korean or English name; repeat or separate by commas")
    dong: list[str] = Field([], description="administrative dong: code or name")
    type: list[str] = Field([], description="node type, e.g. fab_lab")
    process: list[str] = Field([], description="process id or alias, e.g. laser_cutting or 레이저커팅")
    material: list[str] = Field([], description="material id or alias")
    access: list[str] = Field([], description="access type (Open Know-Where)")
    status: list[str] = Field(["active"], description="node status")
    sort: Literal["distance", "relevance", "name"] | None = None
    limit: int = Field(20, ge=1, le=1000)
    cursor: str | None = Field(None, max_length=2000)
    format: Literal["json", "geojson"] = "json"
    open_now: bool = Field(False, description="only nodes whose opening hours say open now (KST)")
    fields: Literal["full", "summary"] = Field("full", description="summary: what a map marker needs, much lighter")
    located: bool | None = Field(
        None,
        description="true: only nodes with a point; false: only nodes known by their district (location.precision"
        " dong or gu) or not at all (unknown), which near and bbox cannot find",
    )


class ClaimRequest(BaseModel):
    message: Note = Field(description="how the claimant runs the place; needed")
    proof_url: Note = Field("", description="a web page (http or https) that shows it, for the council to check")


def _split(values: list[str]) -> list[str]:
    """Repeated parameters and comma-separated lists mean the same: ?type=a&type=b or ?type=a,b."""
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


@router.get(
    "/nodes",
    tags=["directory"],
    summary="Search production nodes",
    openapi_extra={"parameters": openapi_parameters(NodeSearchParams)},
    responses={**also_as(GEOJSON), 422: {"description": "A parameter is invalid: `detail[].loc` names it"}},
)
async def list_nodes(request: Request) -> Response:
    # The map's viewports outnumber every other request: no dependency is resolved here, the
    # platform is read from the app directly (web/app.py also makes this the first route tried).
    params = read_query(NodeSearchParams, request.query_params)
    query = SearchQuery(
        q=params.q,
        near=parse_point(params.near, "near") if params.near else None,
        radius_m=params.radius_m,
        bbox=parse_bbox(params.bbox) if params.bbox else None,
        gu=_split(params.gu),
        dong=_split(params.dong),
        types=_split(params.type),
        processes=_split(params.process),
        materials=_split(params.material),
        access=_split(params.access),
        status=_split(params.status),
        sort=params.sort,
        limit=params.limit,
        cursor=params.cursor,
        fields=params.fields,
        open_now=params.open_now,
        located=params.located,
    )
    return await searches.run(_nodes_answer, request.app.state.platform, query, params.format)


def _nodes_answer(platform: Platform, query: SearchQuery, format: str) -> Response:  # noqa: A002
    page = search(platform, query)
    if format == "geojson":
        collection = geojson.feature_collection(page.results)
        collection["next_cursor"] = page.next_cursor
        return JSONResponse(collection, media_type="application/geo+json")
    # The records are stored JSON: join them as they are instead of decoding and re-encoding.
    tail = to_json({"count": len(page.records), "sort": page.sort, "next_cursor": page.next_cursor})
    body = b"".join((b'{"results":[', b",".join(page.records), b"],", tail[1:].encode()))
    return Response(body, media_type="application/json")


@router.get(
    "/nodes/{node_id}",
    tags=["directory"],
    summary="One node by id or slug",
    responses={
        200: {
            "headers": {
                "ETag": {
                    "description": "The node's version: send it as If-Match to change the node",
                    "schema": {"type": "string", "example": '"3"'},
                }
            }
        }
    },
)
def get_node(node_id: str, platform: PlatformDep) -> Response:
    with platform.engine.connect() as conn:
        record, version = editing.stored_node(conn, node_id)
    return Response(record, media_type="application/json", headers={"ETag": _etag(version)})


@router.get("/taxonomy", tags=["directory"], summary="Processes, materials, machines, vocabularies")
def get_taxonomy() -> dict[str, Any]:
    vocabulary_lists = {
        "node_types": vocabulary.public_list(vocabulary.NODE_TYPES),
        "statuses": vocabulary.public_list(vocabulary.STATUSES),
        "access_types": vocabulary.public_list(vocabulary.ACCESS_TYPES),
        "run_sizes": vocabulary.public_list(vocabulary.RUN_SIZES),
        "precisions": vocabulary.public_list(vocabulary.PRECISIONS),
        "batch_sizes": list(vocabulary.BATCH_SIZES),
    }
    terms = {kind: [t.public() for t in taxonomy().terms[kind].values()] for kind in KINDS}
    return {**terms, **vocabulary_lists}


def _etag(version: int) -> str:
    return f'"{version}"'


def _answer(written: editing.Written, response: Response) -> dict[str, Any]:
    response.headers["ETag"] = _etag(written.version)
    return written.record


@router.post(
    "/nodes",
    tags=["directory"],
    status_code=201,
    summary="Create a node (host, curator, admin)",
    responses={201: {"headers": {"ETag": _ETAG}}, 409: _TAKEN},
)
def create_node(request: Request, record: NodeBody, response: Response, platform: PlatformDep) -> dict[str, Any]:
    return _answer(editing.create_node(platform, acting_user(request), record), response)


@router.patch(
    "/nodes/{node_id}",
    tags=["directory"],
    summary="Edit a node: a JSON merge patch (RFC 7396)",
    responses={**_CONDITIONAL_WRITE, 409: _TAKEN},
)
def update_node(
    request: Request, node_id: str, patch: NodeBody, response: Response, platform: PlatformDep, if_match: IfMatch = None
) -> dict[str, Any]:
    user = acting_user(request)
    return _answer(
        editing.update_node(platform, user, node_id, patch, expected_versions=if_match_versions(if_match)), response
    )


@router.delete(
    "/nodes/{node_id}",
    tags=["directory"],
    summary="Close a node (it is kept, marked closed)",
    responses=_CONDITIONAL_WRITE,
)
def close_node(
    request: Request, node_id: str, response: Response, platform: PlatformDep, if_match: IfMatch = None
) -> dict[str, Any]:
    return _answer(editing.close_node(platform, acting_user(request), node_id, if_match_versions(if_match)), response)


@router.post(
    "/nodes/{node_id}/verify",
    tags=["directory"],
    summary="Verify a node (curator, admin)",
    responses=_CONDITIONAL_WRITE,
)
def verify_node(
    request: Request, node_id: str, response: Response, platform: PlatformDep, if_match: IfMatch = None
) -> dict[str, Any]:
    return _answer(editing.verify_node(platform, acting_user(request), node_id, if_match_versions(if_match)), response)


@router.get("/nodes/{node_id}/history", tags=["directory"], summary="The node's audit trail (curator, admin)")
def node_history(request: Request, node_id: str, platform: PlatformDep) -> dict[str, Any]:
    user = visitor(request).user
    with platform.engine.connect() as conn:
        record_id = editing.node_id_of(conn, node_id)
        if not editing.may_verify(user):
            raise NotAuthenticated() if user is None else Forbidden()
        return {"results": [_jsonable(entry) for entry in audit.history(conn, "node", record_id)]}


_CLAIMED = {"description": "The person already has a pending claim on this node, or already hosts it"}
_DECIDED = {"description": "The claim was already decided (by another curator, or a second press)"}


@router.post(
    "/nodes/{node_id}/claims",
    tags=["accounts"],
    status_code=201,
    summary="Ask to host a node",
    responses={409: _CLAIMED},
)
def claim_node(request: Request, node_id: str, claim: ClaimRequest, platform: PlatformDep) -> dict[str, Any]:
    return editing.claim_node(platform, acting_user(request), node_id, claim.message, claim.proof_url)


@router.post(
    "/claims/{claim_id}/approve",
    tags=["accounts"],
    summary="Approve a claim (curator, admin)",
    responses={409: _DECIDED},
)
def approve_claim(
    request: Request, claim_id: RowId, platform: PlatformDep, settings: SettingsDep, background: BackgroundTasks
) -> dict[str, Any]:
    decided = editing.decide_claim(platform, acting_user(request), claim_id, approve=True)
    background.add_task(outbox.deliver, platform, settings.smtp)  # the claimant's notification
    return decided


@router.post(
    "/claims/{claim_id}/reject",
    tags=["accounts"],
    summary="Reject a claim (curator, admin)",
    responses={409: _DECIDED},
)
def reject_claim(
    request: Request, claim_id: RowId, platform: PlatformDep, settings: SettingsDep, background: BackgroundTasks
) -> dict[str, Any]:
    decided = editing.decide_claim(platform, acting_user(request), claim_id, approve=False)
    background.add_task(outbox.deliver, platform, settings.smtp)
    return decided


def _jsonable(entry: dict[str, Any]) -> dict[str, Any]:
    return {**entry, "at": entry["at"].isoformat().replace("+00:00", "Z")}
