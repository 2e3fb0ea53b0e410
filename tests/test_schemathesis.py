"""The API keeps to its OpenAPI document, as a real server answers it: `fabcity serve --workers 2` on a
fresh database of each backend, probed by schemathesis with every check, anonymously and as an admin.

Deterministic (schemathesis's deterministic generation: the same cases every run) and bounded (a fixed
number of examples per operation); only loopback.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from databases import BACKENDS, require_backend
from fabcity.accounts import service as accounts
from fabcity.directory import editing
from fabcity.startup import open_platform
from servers import START_S, serving

SCHEMATHESIS = str(Path(sys.executable).parent / "schemathesis")
EXAMPLES = 25  # generated cases per operation and mode in the fuzzing phase; the coverage phase adds its own
PASSWORD = "correct horse battery"


@dataclass(frozen=True)
class Served:
    port: int
    token: str  # an admin's API token
    node: str  # the slug of a node the admin created
    claim: int  # a member's pending claim on it
    member: int  # that member's user id


def _people_and_nodes(url: str) -> tuple[str, str, int, int]:
    """An admin (and their token), a node they create, and a member who claims it: what the writes act on."""
    platform = open_platform(url)
    admin = accounts.create_user(platform, "admin@example.kr", PASSWORD, "관리자", role="admin")
    member = accounts.create_user(platform, "member@example.kr", PASSWORD, "회원")
    record = {"name": {"ko": "시험 공방", "en": "Test workshop"}, "node_type": "makerspace",
              "location": {"lat": 37.6189, "lon": 126.921}, "processes": ["laser_cutting"]}  # fmt: skip
    node = editing.create_node(platform, admin, record).record
    claim = editing.claim_node(platform, member, node["slug"], "제가 운영합니다")
    token = accounts.create_token(platform, admin, "schemathesis")
    platform.engine.dispose()
    return token, node["slug"], claim["id"], member.id


@pytest.fixture(scope="module", params=BACKENDS)
def served(request, backends, tmp_path_factory) -> Iterator[Served]:
    """`fabcity serve --workers 2` on a fresh database with people and a node, once both workers answer.

    One server for each backend's tests: starting two workers is most of a test's time.
    """
    require_backend(request.param)
    url = backends.fresh(request.param)
    token, node, claim, member = _people_and_nodes(url)
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    try:
        with serving(url, log) as server:
            yield Served(server.port, token, node, claim, member)
    finally:
        backends.drop(url)
    assert "Traceback" not in log.read_text(encoding="utf-8")  # nothing failed on the server's side


def test_a_body_over_the_limit_is_refused_before_it_is_read(served):
    """The headers say 200 MB; only they are sent, and the answer comes: the body was never waited for."""
    with socket.create_connection(("127.0.0.1", served.port), timeout=START_S) as sock:
        sock.sendall(
            b"POST /api/v1/match HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            b'Content-Length: 209715200\r\n\r\n{"text": "'
        )
        answer = sock.makefile("rb").readline()
    assert answer.startswith(b"HTTP/1.1 413"), answer


# What schemathesis cannot know from the document, said narrowly, each with its reason.
CONFIG = """
# The writes act on the node, claim and member the fixture made (random ids would only ever be 404s).
[parameters]
"path.node_id" = "{node}"
"path.claim_id" = {claim}
"path.user_id" = {member}
"path.code" = "11380"

# A body over FABCITY_MAX_BODY_BYTES is refused with 413 before it is read: a rejection too.
[checks.negative_data_rejection]
expected-statuses = [400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 428, 429]

# Every check runs (schemathesis's default, as `--checks all`) but this one. DELETE closes a node,
# which stays readable (marked closed), and signs a session out: neither
# removes a resource, which is what "use after free" looks for.
[checks.use_after_free]
enabled = false

# Values the document cannot list, because they are data: names of districts, processes and
# materials (of hundreds, with their aliases), search cursors, census periods loaded, a place, a
# need written as text, a node record (validated by the directory's model, as imports are). An
# unknown one is a 422 naming the parameter, which is the documented answer.
{data_dependent}
"""
_DATA_DEPENDENT = (
    "GET /api/v1/nodes",
    "GET /api/v1/stations",  # near=lat,lon or q=name: one of the two, which the document cannot require
    "GET /api/v1/indicators/sections",
    "GET /api/v1/indicators/indices",
    "GET /api/v1/indicators/index",
    "GET /api/v1/indicators/activation",  # a month before any node was listed
    "GET /api/v1/indicators/activation/trend",
    "GET /api/v1/indicators/io/{table_id}",
    "POST /api/v1/match",
    "POST /api/v1/match/allocate",
    "POST /api/v1/nodes",
    "PATCH /api/v1/nodes/{node_id}",
    # accounts: an e-mail address, a token's name and a role are checked by the accounts service
    "POST /api/v1/users",
    "POST /api/v1/tokens",
    "PUT /api/v1/users/{user_id}/role",
    # a claim: its message must say something, its proof link be a web address (the claims service checks)
    "POST /api/v1/nodes/{node_id}/claims",
    # booking: an end after its start, a known time zone, durations on the slot grid, instants within 2000–2100,
    # and a resource patch validated whole by the booking model: checks across fields, or on data
    "GET /api/v1/resources/{resource_id}/slots",
    "POST /api/v1/resources",
    "PATCH /api/v1/resources/{resource_id}",
    "POST /api/v1/resources/{resource_id}/rules",
    "POST /api/v1/resources/{resource_id}/exceptions",
    "POST /api/v1/bookings",
    # qualifications: a pass names a member's e-mail and a day not in the future; a training patch is validated whole
    "POST /api/v1/trainings/{training_id}/holders",
    "PATCH /api/v1/trainings/{training_id}",
    # free-on search: a kind from the taxonomy, one of a point, a station or a gu; a listed machine of the node
    "GET /api/v1/resources/free",
    "POST /api/v1/resources/from-machine",
    # a calendar import's body must be iCalendar, which the document can only say is text/calendar
    "POST /api/v1/resources/{resource_id}/calendar-import",
)
# If-Match names a version of the node (or resource, or booking), data the document cannot list either: a
# stale one is the documented 412 Precondition Failed.
_CONDITIONAL = (
    "PATCH /api/v1/nodes/{node_id}",
    "DELETE /api/v1/nodes/{node_id}",
    "POST /api/v1/nodes/{node_id}/verify",
    "PATCH /api/v1/resources/{resource_id}",
    "DELETE /api/v1/resources/{resource_id}",
    *(
        f"POST /api/v1/bookings/{{booking_id}}/{move}"
        for move in ("approve", "decline", "mark-paid", "cancel", "no-show", "complete")
    ),
)
_ACCEPTED = """
[[operations]]
include-name = "{name}"
checks.positive_data_acceptance.expected-statuses = ["2XX", 401, 403, 404, 409, {also}429]
"""


def _accepted(name: str) -> str:
    also = "".join(f"{status}, " for status, names in ((412, _CONDITIONAL), (422, _DATA_DEPENDENT)) if name in names)
    return _ACCEPTED.format(name=name, also=also)


def _config(served: Served) -> str:
    data_dependent = "".join(_accepted(name) for name in dict.fromkeys(_DATA_DEPENDENT + _CONDITIONAL))
    return CONFIG.format(node=served.node, claim=served.claim, member=served.member, data_dependent=data_dependent)


@pytest.mark.parametrize("who", ["anonymous", "admin"])  # in this order: the admin's writes come last
def test_the_api_keeps_to_its_document(served, who, tmp_path):
    """Every check, no server error, no answer outside the document: over a thousand requests a run."""
    config = tmp_path / "schemathesis.toml"
    config.write_text(_config(served), encoding="utf-8")
    report = tmp_path / "requests.har"
    command = [
        SCHEMATHESIS, "--config-file", str(config), "run", f"http://127.0.0.1:{served.port}/openapi.json",
        "--generation-deterministic", "--max-examples", str(EXAMPLES), "--request-timeout", "60",
        "--no-color", "--report", "har", "--report-har-path", str(report),
    ]  # fmt: skip
    if who == "admin":
        command += ["--header", f"Authorization: Bearer {served.token}"]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-20_000:] + result.stderr[-2_000:]
    requests = json.loads(report.read_text(encoding="utf-8"))["log"]["entries"]
    assert len(requests) >= 1000
