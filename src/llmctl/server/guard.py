"""Who may call `llmctl serve` (an ASGI middleware in front of every route).

With a token, every request needs `Authorization: Bearer <token>` (else 401). Without
one the server listens on loopback only, and a web page the user visits must not be able
to use it: the `Host` must name the bound address (`127.0.0.1`, `localhost` or `[::1]`,
with the port), else a DNS-rebinding page could read and change everything; an `Origin`,
when sent, must be that same host, else any page could post to it (403 for both). Either
way a request that carries a body must say `Content-Type: application/json` (415): a
browser sends a cross-site form or `text/plain` POST without asking first, a JSON one
only after a preflight that this server never grants.

A refusal is sent as soon as the headers are in: the body is never waited for, and the
connection is closed after the answer (the rest of the body is not read).
"""

from __future__ import annotations

import hmac
import json
from typing import Any

from llmctl.server.state import Problem

LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "[::1]"})


class Guard:
    """The checks above, in front of `app`; `token` None means loopback without a token."""

    def __init__(self, app: Any, token: str | None) -> None:
        self.app = app
        self.state = getattr(app, "state", None)
        self._expected = None if token is None else b"Bearer " + token.encode()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            problem = self.refusal(scope)
            if problem is not None:
                await send_refusal(send, problem)
                return
        await self.app(scope, receive, send)

    def refusal(self, scope: dict[str, Any]) -> Problem | None:
        """Why the request is refused (401, 403 or 415), or None."""
        headers = dict(scope["headers"])  # the last of a repeated header decides
        if self._expected is not None:
            if not hmac.compare_digest(headers.get(b"authorization", b""), self._expected):
                message = "a valid token is required: send Authorization: Bearer <token>"
                return Problem(401, "authentication_error", "invalid_api_key", message)
        else:
            problem = _foreign(headers, scope.get("server"))
            if problem is not None:
                return problem
        if _has_body(headers) and not _is_json(headers.get(b"content-type", b"")):
            message = "send the body as JSON, with Content-Type: application/json"
            return Problem(415, "invalid_request_error", "unsupported_media_type", message)
        return None


def _foreign(headers: dict[bytes, bytes], server: Any) -> Problem | None:
    """A 403 when the Host is not this loopback server or the Origin is another site."""
    host = headers.get(b"host", b"").decode("latin-1").lower()
    if not _is_local(host, server):
        shown = f"http://127.0.0.1:{server[1]}" if server else "http://127.0.0.1"
        message = (
            f"Host {host!r} is not this server: without a token llmctl serve answers only "
            f"requests to {shown} (or localhost, [::1])"
        )
        return Problem(403, "permission_error", "forbidden_host", message)
    origin = headers.get(b"origin")
    if origin is not None and origin.decode("latin-1").lower() != f"http://{host}":
        message = (
            f"Origin {origin.decode('latin-1')!r} is another site: without a token llmctl serve "
            "answers only programs on this machine, not web pages"
        )
        return Problem(403, "permission_error", "forbidden_origin", message)
    return None


def _is_local(host: str, server: Any) -> bool:
    """True for `127.0.0.1:PORT`, `localhost:PORT`, `[::1]:PORT` or the bound address with
    its port (no port: 80)."""
    if host.endswith("]") or ":" not in host:  # no port given
        name, given = host, "80"
    else:
        name, _sep, given = host.rpartition(":")
    if not server:
        return name in LOOPBACK_NAMES
    bound = f"[{server[0]}]" if ":" in server[0] else server[0]
    return (name in LOOPBACK_NAMES or name == bound) and given == str(server[1])


def _has_body(headers: dict[bytes, bytes]) -> bool:
    length = headers.get(b"content-length")
    return b"transfer-encoding" in headers or (length is not None and length.strip() not in (b"0", b""))


def _is_json(content_type: bytes) -> bool:
    return content_type.split(b";", 1)[0].strip().lower() == b"application/json"


async def send_refusal(send: Any, problem: Problem, headers: dict[str, str] | None = None) -> None:
    """The error object with `connection: close`: the rest of the request is never read."""
    body = json.dumps(problem.body(), ensure_ascii=False).encode()
    raw = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    raw += [(k.encode(), v.encode("latin-1")) for k, v in {**problem.advice(), **(headers or {})}.items()]
    await send({"type": "http.response.start", "status": problem.status, "headers": raw})
    await send({"type": "http.response.body", "body": body, "more_body": False})
