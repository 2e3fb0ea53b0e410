"""64 clients race for one slot through HTTP against `fabcity serve --workers 2`: exactly one wins, on each backend."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from argon2 import PasswordHasher

from builders import bookable, count_rows, new_user, node_host
from databases import BACKENDS, require_backend
from fabcity.accounts import service as accounts
from fabcity.startup import open_platform
from fabcity.storage.schema import booking
from servers import START_S, serving

pytestmark = pytest.mark.races
CLIENTS = 64


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_of_64_clients_booking_one_slot_at_once_exactly_one_wins(backend_name, backends, tmp_path):
    require_backend(backend_name)
    db = backends.fresh(backend_name)
    platform = open_platform(db)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
        cutter = bookable(platform, node_host(platform))
        members = [new_user(platform, f"m{number}", "member") for number in range(CLIENTS)]
    tokens = [accounts.create_token(platform, member, "race") for member in members]
    tomorrow = (datetime.now(UTC) + timedelta(days=2)).replace(hour=1, minute=0, second=0, microsecond=0)
    body = {
        "resource": cutter["id"],
        "starts_at": tomorrow.isoformat(),
        "ends_at": (tomorrow + timedelta(hours=1)).isoformat(),
    }
    barrier = threading.Barrier(CLIENTS, timeout=START_S)
    with serving(db, tmp_path / "serve.log") as server:

        def attempt(token: str) -> int:
            headers = {"Authorization": f"Bearer {token}"}
            with httpx.Client(base_url=server.url, headers=headers, timeout=START_S, trust_env=False) as client:
                barrier.wait()
                return client.post("/api/v1/bookings", json={**body, "idempotency_key": "race"}).status_code

        with ThreadPoolExecutor(CLIENTS) as pool:
            statuses = list(pool.map(attempt, tokens))
    assert sorted(statuses) == [201] + [409] * (CLIENTS - 1)
    assert count_rows(platform, booking) == 1
    platform.engine.dispose()
    backends.drop(db)
