"""The web app's figures: time to interactive of the map, viewport payload, node page server time.

    .venv/bin/python bench/web_bench.py --db bench/results/bench-100000.sqlite3 [--embedded-db PATH]

- Time to interactive of `/` on the embedded dataset: headless Debian Chromium (Playwright) opens
  the page on a fresh `fabcity serve`; the clock runs from the navigation until the first markers
  and list entries of the viewport are on screen (median and worst of 10 cold page loads, each in
  a new browser context so nothing is cached).
- Viewport payload at N synthetic nodes: what the map asks for a viewport (`fields=summary`,
  limit 500, its filters none) over the query mix's viewports, raw and gzip-encoded as sent.
- Node page server time: GET /nodes/{slug} for random synthetic nodes, one client, sequential,
  p50/p99 (the server's time plus loopback).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

import httpx
from sqlalchemy import select

from fabcity.startup import open_platform
from fabcity.storage.schema import node
from http_bench import server
from querymix import make_queries, summary

CHROMIUM = "/usr/bin/chromium"


def time_to_interactive(base: str, loads: int) -> dict[str, float]:
    from playwright.sync_api import sync_playwright

    samples = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-background-networking"]
        )
        for _ in range(loads):
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            page = context.new_page()
            started = time.perf_counter()
            page.goto(base + "/")
            page.wait_for_selector(".leaflet-marker-icon")
            page.wait_for_selector("#results li")
            samples.append(1000 * (time.perf_counter() - started))
            context.close()
        browser.close()
    return {"median_ms": round(statistics.median(samples), 1), "max_ms": round(max(samples), 1), "n": loads}


def viewport_payload(base: str, count: int) -> dict[str, float]:
    raw, zipped = [], []
    with httpx.Client(base_url=base, timeout=60) as client:
        for query in make_queries("bbox_summary", count, 7):
            response = client.get("/api/v1/nodes", params=query.params(), headers={"Accept-Encoding": "gzip"})
            zipped.append(int(response.headers.get("content-length", 0)))
            raw.append(len(response.content))
    return {
        "raw_kb_median": round(statistics.median(raw) / 1024, 1),
        "raw_kb_max": round(max(raw) / 1024, 1),
        "gzip_kb_median": round(statistics.median(zipped) / 1024, 1),
        "gzip_kb_max": round(max(zipped) / 1024, 1),
        "n": count,
    }


def node_pages(base: str, db: str, count: int) -> dict[str, float]:
    platform = open_platform(db)
    with platform.engine.connect() as conn:
        slugs = list(conn.execute(select(node.c.slug).where(node.c.source == "synthetic").limit(200_000)).scalars())
    platform.engine.dispose()
    chosen = random.Random(5).sample(slugs, min(count, len(slugs)))
    samples = []
    with httpx.Client(base_url=base, timeout=60) as client:
        for slug in chosen[:20]:
            client.get(f"/nodes/{slug}")
        for slug in chosen:
            started = time.perf_counter()
            response = client.get(f"/nodes/{slug}")
            samples.append(1000 * (time.perf_counter() - started))
            assert response.status_code == 200, (slug, response.status_code)
    return summary(samples)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True, help="a database with synthetic nodes (viewports, node pages)")
    parser.add_argument("--embedded-db", default="bench/results/embedded.sqlite3", help="the embedded dataset only")
    parser.add_argument("--loads", type=int, default=10)
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    report: dict[str, object] = {}
    with server(args.embedded_db, Path("bench/results/web-server-embedded.log"), 120) as (base, _process):
        report["time_to_interactive"] = time_to_interactive(base, args.loads)
    with server(args.db, Path("bench/results/web-server.log"), 600) as (base, _process):
        report["viewport_payload"] = viewport_payload(base, 200)
        report["node_page"] = node_pages(base, args.db, args.pages)
    print(json.dumps(report, indent=1))
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
