"""Copy the front-end libraries installed from the npm registry into the package's static files.

    cd frontend && npm ci --ignore-scripts && cd .. && python scripts/build_frontend.py

frontend/package-lock.json pins each library's version and integrity hash, so the copies under
src/fabcity/web/static/vendor/ are reproducible; they are committed so that `pip install` alone
gives a working server, and nothing is ever loaded from a CDN. Leaflet and its marker clusters
come from their xstatic packages on PyPI instead.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODULES = ROOT / "frontend" / "node_modules"
VENDOR = ROOT / "src" / "fabcity" / "web" / "static" / "vendor"
FILES = {
    "chartjs": ["chart.js/dist/chart.umd.min.js", "chart.js/LICENSE.md"],
    # the standard bundle (its CSS is injected by the script) and the Korean locale, for booking's week calendar
    "fullcalendar": [
        "fullcalendar/index.global.min.js",
        "@fullcalendar/core/locales/ko.global.min.js",
        "fullcalendar/LICENSE.md",
    ],
    # Swagger UI 5 reads OpenAPI 3.1, which FastAPI writes (the 4.x of PyPI's swagger-ui-bundle cannot)
    "swagger-ui": [
        "swagger-ui-dist/swagger-ui-bundle.js",
        "swagger-ui-dist/swagger-ui.css",
        "swagger-ui-dist/LICENSE",
        "swagger-ui-dist/NOTICE",
    ],
}


def main() -> int:
    for target, sources in FILES.items():
        folder = VENDOR / target
        folder.mkdir(parents=True, exist_ok=True)
        for source in sources:
            path = MODULES / source
            if not path.exists():
                print(f"{path} is missing: run `npm ci --ignore-scripts` in frontend/ first", file=sys.stderr)
                return 1
            shutil.copyfile(path, folder / path.name)
            print(f"{folder / path.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
