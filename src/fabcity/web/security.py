"""Response headers that make the pages safe to render: a strict Content-Security-Policy and friends.

A plain ASGI middleware (not BaseHTTPMiddleware) so it adds no task switch to every API answer.
Scripts load only from this server, so nothing injected into a page can run; there are no inline
scripts or event handlers in the templates. Map tiles, when configured, are the one outside source.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

STATIC_PATH = "/static/"  # files that are the same for everyone (web/app.py mounts them here)
_CREDENTIALS = {b"cookie", b"authorization"}  # ASGI header names are lower case


def content_security_policy(tile_url: str = "") -> str:
    tiles = ""
    if tile_url:  # e.g. https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png → https://*.tile.openstreetmap.org
        parts = urlsplit(tile_url)
        tiles = f" {parts.scheme}://{parts.netloc.replace('{s}', '*')}"
    return (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        f"img-src 'self' data:{tiles}; connect-src 'self'; font-src 'self'; object-src 'none'; "
        "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )


class SecurityHeaders:
    """The headers above on every answer, and `Cache-Control: no-store` on every private one.

    An answer is private when it was asked for with credentials or cookies (a session, a token,
    the form cookie whose token the page carries) or sets a cookie: a browser's cache or a proxy
    must not keep /account, /admin or a new API token for the next person at that computer.
    Static files are the same for everyone; an answer that says its own Cache-Control keeps it.
    """

    def __init__(self, app: ASGIApp, tile_url: str = "") -> None:
        self.app = app
        self.headers = [
            (b"content-security-policy", content_security_policy(tile_url).encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"same-origin"),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        credentialed = not scope["path"].startswith(STATIC_PATH) and any(
            name in _CREDENTIALS for name, _ in scope["headers"]
        )

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", []), *self.headers]
                names = {name.lower() for name, _ in headers}
                if (credentialed or b"set-cookie" in names) and b"cache-control" not in names:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
