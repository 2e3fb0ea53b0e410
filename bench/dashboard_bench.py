"""The dashboard's API answers: latency of every request the /dashboard page makes, on a real server.

    .venv/bin/python bench/dashboard_bench.py [--db bench/results/embedded.sqlite3] [--requests 200]

A fresh `fabcity serve` (one worker) on a loopback port; one client, sequential, keep-alive. Each
endpoint gets 10 untimed warm-up requests, then `--requests` timed ones; p50/p99 per endpoint are
the server's time plus loopback, gzip on as a browser asks for it. With `--db` pointing at a
benchmark database (100k synthetic nodes), the activation counts still read only the real nodes,
but they read them from the large table.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import httpx

from fabcity.clock import seoul_month
from http_bench import server
from querymix import summary


def dashboard_requests(month: str) -> list[str]:
    """What the page asks for: its own HTML, the choropleths (both levels), the charts and the boundaries."""
    return [
        "/dashboard",
        "/api/v1/indicators/indices?level=gu",
        "/api/v1/indicators/indices?level=dong",
        "/api/v1/indicators/sections?level=gu&section=C",
        "/api/v1/indicators/sections?level=dong&section=C",
        "/api/v1/indicators/index?place=11380",
        f"/api/v1/indicators/activation?month={month}",
        f"/api/v1/indicators/activation/trend?until={month}",
        "/api/v1/indicators/resilience",
        "/api/v1/indicators/sections?level=dong&format=csv",
        "/api/v1/districts?format=geojson&fields=outline&level=gu",
        "/api/v1/districts?format=geojson&fields=outline&level=dong",
    ]


def measure(base: str, paths: list[str], count: int) -> dict[str, dict]:
    found = {}
    with httpx.Client(base_url=base, timeout=60, headers={"Accept-Encoding": "gzip"}) as client:
        for path in paths:
            for _ in range(10):
                client.get(path)
            samples = []
            for _ in range(count):
                started = time.perf_counter()
                response = client.get(path)
                samples.append(1000 * (time.perf_counter() - started))
                assert response.status_code == 200, (path, response.status_code)
            found[path] = {**summary(samples), "bytes_sent": len(response.content)}
            print(f"{path:55s} p50 {found[path]['p50_ms']:7.2f} ms  p99 {found[path]['p99_ms']:7.2f} ms", flush=True)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default="bench/results/embedded.sqlite3", help="default: the embedded dataset only")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    with server(args.db, Path("bench/results/dashboard-server.log"), 600) as (base, _process):
        report = measure(base, dashboard_requests(seoul_month()), args.requests)
    worst = max(report.items(), key=lambda item: item[1]["p99_ms"])
    print(f"worst p99: {worst[1]['p99_ms']} ms ({worst[0]})")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
