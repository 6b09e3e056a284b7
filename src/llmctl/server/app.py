"""`llmctl serve`: the Starlette app (REST and OpenAI-compatible routes, bearer token,
body cap, JSON errors everywhere) and the uvicorn runner (loopback unless a token guards
it; SIGINT/SIGTERM let requests in flight finish, then cut them after a grace period).
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import socket
import sys
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from llmctl.errors import LlmctlError, UsageError
from llmctl.paths import ENV_CATALOG, ENV_HOME, Home
from llmctl.server import gateway, rest
from llmctl.server.guard import Guard
from llmctl.server.state import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    GRACE_SECONDS,
    MAX_BODY_BYTES,
    BadBody,
    Live,
    Problem,
    payload_of,
    problem_of,
    waited,
)


def _log_line(line: str) -> None:
    print(f"llmctl serve: {line}", file=sys.stderr, flush=True)


class BodyTooLarge(LlmctlError):
    """A request body over the cap (413)."""


def create_app(
    home: Home | None = None,
    env: Mapping[str, str] | None = None,
    *,
    token: str | None = None,
    max_body: int = MAX_BODY_BYTES,
    log: Callable[[str], None] | None = None,
    catalog: str | None = None,
) -> Any:
    """The ASGI app over `home`'s files, behind the Guard (server/guard.py): with `token`,
    every request needs `Authorization: Bearer <token>` (compared in constant time); without,
    only this machine's programs may call it. With `log`, one line per request goes to it
    (method, path, status, the LLM that answered, milliseconds)."""
    live = Live(home or Home.resolve(), env, catalog)

    async def read_json(request: Request) -> Any:
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > max_body:
            raise BodyTooLarge(f"the request body is {int(declared)} bytes; at most {max_body} are read")
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > max_body:
                raise BodyTooLarge(f"the request body is over {max_body} bytes")
            chunks.append(chunk)
        raw = b"".join(chunks)
        if not raw.strip():
            raise BadBody("the request has no body: send a JSON object")
        try:
            return json.loads(raw)
        except UnicodeDecodeError:
            raise BadBody("the body is not UTF-8 text") from None
        except ValueError as exc:
            where = f" at line {exc.lineno}, column {exc.colno}" if hasattr(exc, "lineno") else ""
            raise BadBody(f"the body is not valid JSON{where}: {getattr(exc, 'msg', exc)}") from None
        except RecursionError:
            raise BadBody("the body is nested too deeply") from None

    def rest_route(path: str, work: Callable[..., Any], method: str = "GET") -> Route:
        async def endpoint(request: Request) -> Response:
            try:
                body = await read_json(request) if method == "PUT" else None
                query = {k: request.query_params.getlist(k) for k in request.query_params}
                data = await run_in_threadpool(work, live, request.path_params, query, body)
            except LlmctlError as exc:
                return error_response(exc, live=live)
            return JSONResponse(data)

        return Route(path, endpoint, methods=[method])

    async def chat(request: Request) -> Any:
        try:
            return gateway.plan_chat(live, await read_json(request))
        except LlmctlError as exc:
            return error_response(exc, openai=True, live=live)

    async def embeddings(request: Request) -> Response:
        try:
            data, result = await gateway.embeddings(live, await read_json(request))
        except LlmctlError as exc:
            return error_response(exc, openai=True, live=live)
        return JSONResponse(data, headers=gateway.headers_of(result.llm, result.attempts))

    async def models(request: Request) -> Response:
        try:
            return JSONResponse(await run_in_threadpool(gateway.models, live))
        except LlmctlError as exc:
            return error_response(exc, openai=True)

    async def model(request: Request) -> Response:
        try:
            return JSONResponse(await run_in_threadpool(gateway.model, live, request.path_params["model"]))
        except LlmctlError as exc:
            return error_response(exc, openai=True)

    async def not_found(request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 404)
        word = "no such endpoint" if status == 404 else f"{request.method} is not allowed here"
        problem = Problem(status, "invalid_request_error", "not_found" if status == 404 else None, word)
        return JSONResponse(problem.body(), status_code=status, headers=problem.advice())

    async def client_left(request: Request, exc: Exception) -> Response:
        # Nobody reads this answer; the access log says the client left (one line).
        return Response(status_code=499)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        yield
        await live.aclose()

    routes = [
        rest_route("/api/llms/", rest.list_llms),
        rest_route("/api/llms", rest.list_llms),
        rest_route("/api/llms/{llm:path}", rest.show_llm),
        rest_route("/api/books/{book}", rest.show_book),
        rest_route("/api/books/{book}/defaults/{group}", rest.set_default, "PUT"),
        rest_route("/api/books/{book}/defaults/{group}", rest.clear_default, "DELETE"),
        rest_route("/api/books/{book}/override", rest.set_override, "PUT"),
        rest_route("/api/books/{book}/override", rest.clear_override, "DELETE"),
        rest_route("/api/pick", rest.pick),
        rest_route("/api/usage", rest.usage),
        Route("/v1/chat/completions", chat, methods=["POST"]),
        Route("/v1/embeddings", embeddings, methods=["POST"]),
        Route("/v1/models", models, methods=["GET"]),
        Route("/v1/models/{model:path}", model, methods=["GET"]),
    ]

    async def unexpected(request: Request, exc: Exception) -> Response:
        import logging

        logging.getLogger("llmctl.serve").error(
            "%s %s failed", request.method, request.url.path, exc_info=exc
        )
        problem = Problem(500, "server_error", "internal", f"llmctl serve failed: {type(exc).__name__}")
        return JSONResponse(problem.body(), status_code=500)

    handlers = {HTTPException: not_found, ClientDisconnect: client_left, Exception: unexpected}
    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers=handlers)
    app.state.live = live
    guarded = Guard(app, token)
    return guarded if log is None else AccessLog(guarded, log)


def error_response(exc: LlmctlError, *, openai: bool = False, live: Live | None = None) -> Response:
    """The error object with the status of the error (OpenAI's mapping on /v1), and the
    headers that tell a retrying client what to do (with `live`, a 429 or 503 says when)."""
    if isinstance(exc, BodyTooLarge):
        problem = Problem(413, "invalid_request_error", "request_too_large", exc.message)
    else:
        problem = problem_of(exc, not_found=gateway.MODEL_NOT_FOUND if openai else "not_found")
        problem = waited(problem, exc, live)
    return JSONResponse(problem.body(**payload_of(exc)), status_code=problem.status, headers=problem.advice())


class AccessLog:
    """One line per HTTP request: `POST /v1/chat/completions 200 openai/gpt-5 812 ms`.
    The query string and the headers are never logged (a token or a prompt has no place in
    a log); the line is written when the response ends, or when it is cut off."""

    def __init__(self, app: Any, write: Callable[[str], None]) -> None:
        self.app = app
        self.state = getattr(app, "state", None)
        self.write = write

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        import time

        started = time.perf_counter()
        seen: dict[str, Any] = {"status": None, "llm": "-", "done": False, "left": False}

        async def listen() -> dict[str, Any]:
            message = await receive()
            if message["type"] == "http.disconnect" and not seen["done"]:
                seen["left"] = True  # before the whole answer went out
            return message

        async def watch(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                seen["status"] = message["status"]
                for key, value in message.get("headers", []):
                    if key == b"x-llmctl-llm":
                        seen["llm"] = value.decode("latin-1")
            elif not message.get("more_body", False):
                seen["done"] = True
            await send(message)

        try:
            await self.app(scope, listen, watch)
        finally:
            ms = (time.perf_counter() - started) * 1000
            status = seen["status"] or "cut"
            path = scope["path"].encode("unicode_escape").decode("ascii")  # one line, whatever it holds
            left = " (client left)" if seen["left"] else ""
            self.write(f"{scope['method']} {path} {status} {seen['llm']} {ms:.0f} ms{left}")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_setup(host: str, token_env: str | None, env: Mapping[str, str]) -> str | None:
    """The token the server requires (None without `--token-env`). Raises UsageError (exit 2)
    for a non-loopback host without one, or a token variable that is unset or empty."""
    if token_env is None:
        if not is_loopback(host):
            raise UsageError(
                f"--host {host} is reachable from other machines: give --token-env VAR too",
                hint="put a long random token in VAR; clients send it as Authorization: Bearer <token>",
            )
        return None
    token = env.get(token_env, "")
    if not token.strip():
        raise UsageError(
            f"--token-env {token_env}: the variable is {'empty' if token_env in env else 'not set'}",
            hint=f"export {token_env}=<a long random token>",
        )
    return token


def serve(
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    token_env: str | None = None,
    *,
    home: Home | None = None,
    grace: float = GRACE_SECONDS,
    quiet: bool = False,
    catalog: str | None = None,
    workers: int = 1,
    home_arg: str | None = None,
    max_connections: int | None = None,
) -> None:
    """Run the server until SIGINT or SIGTERM, in this process or in `workers` processes
    sharing the listening socket; each process takes at most `max_connections` connections
    at once (more get 503; default: connections.MAX_CONNECTIONS). Raises UsageError (exit 2)
    as `check_setup` says, LlmctlError (exit 1) when the address cannot be listened on."""
    from llmctl.server.connections import ServeConfig

    token = check_setup(host, token_env, os.environ)
    home = home or Home.resolve(home_arg)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP named: asyncio turns Nagle's algorithm off only on sockets that say TCP, and
    # with it on, every response waits 40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise LlmctlError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}", hint="choose another --port"
        ) from None
    bound = sock.getsockname()[1]
    settings: dict[str, Any] = {
        "log_config": None,
        "access_log": False,
        "timeout_graceful_shutdown": grace,
        "server_header": False,
        "lifespan": "on",
    }
    if max_connections is not None:
        settings["max_connections"] = max_connections
    where = f"[{host}]" if ":" in host else host
    guard = f"token from ${token_env}" if token else "no token (loopback only)"
    url = f"http://{where}:{bound}"
    processes = f"; {workers} worker processes" if workers > 1 else ""
    line = f"llmctl serve: {url} ({guard}){processes}; OpenAI base_url {url}/v1; Ctrl-C stops"
    print(line, file=sys.stderr, flush=True)
    if workers > 1:
        # Each worker builds the app from the environment (a spawned process gets no objects):
        # the home, the catalog and the token's variable are passed there, never the token.
        os.environ.update({ENV_HOME: home_arg} if home_arg else {})
        os.environ.update({ENV_CATALOG: catalog} if catalog else {})
        os.environ[_TOKEN_VAR] = token_env or ""
        os.environ[_QUIET_VAR] = "1" if quiet else ""
        from uvicorn.supervisors import Multiprocess

        config = ServeConfig(f"{__name__}:from_environment", factory=True, workers=workers, **settings)
        Multiprocess(config, sockets=[sock]).run()
    else:
        config = ServeConfig(
            create_app(home, token=token, log=None if quiet else _log_line, catalog=catalog), **settings
        )
        _graceful_server(config).run(sockets=[sock])
    print("llmctl serve: stopped", file=sys.stderr, flush=True)


_TOKEN_VAR = "LLMCTL_SERVE_TOKEN_ENV"  # names the variable holding the token (workers)
_QUIET_VAR = "LLMCTL_SERVE_QUIET"


def from_environment() -> Any:
    """The app of a worker process, as `serve` set it up in the environment."""
    token_env = os.environ.get(_TOKEN_VAR) or None
    token = check_setup(DEFAULT_HOST, token_env, os.environ) if token_env else None
    quiet = os.environ.get(_QUIET_VAR) == "1"
    return create_app(Home.resolve(), token=token, log=None if quiet else _log_line)


def _graceful_server(config: Any) -> Any:
    """uvicorn's server, exiting 0 after a graceful stop (not killed again by the signal)."""
    import uvicorn

    class Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: Any) -> None:
            super().handle_exit(sig, frame)
            self._captured_signals.clear()

    return Server(config)
