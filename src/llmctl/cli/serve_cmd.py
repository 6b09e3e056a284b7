"""`llmctl serve`: the REST endpoints and an OpenAI-compatible gateway over HTTP."""

from typing import Annotated

import typer

from llmctl.cli.state import state
from llmctl.server.state import DEFAULT_HOST, DEFAULT_PORT, GRACE_SECONDS


def serve(
    ctx: typer.Context,
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on; other than loopback needs --token-env.")
    ] = DEFAULT_HOST,
    port: Annotated[
        int, typer.Option("--port", min=0, max=65535, help="Port (0: any free one).")
    ] = DEFAULT_PORT,
    token_env: Annotated[
        str | None,
        typer.Option(
            "--token-env", metavar="VAR", help="Require `Authorization: Bearer $VAR` on every request."
        ),
    ] = None,
    grace: Annotated[
        float, typer.Option("--grace", min=0, help="Seconds requests in flight may finish after Ctrl-C.")
    ] = GRACE_SECONDS,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No line per request on stderr.")] = False,
    workers: Annotated[
        int, typer.Option("--workers", min=1, max=64, help="Processes serving the same port (default 1).")
    ] = 1,
    max_connections: Annotated[
        int | None,
        typer.Option(
            "--max-connections",
            min=1,
            help="Connections each process takes at once (default 512); more get 503 at once.",
        ),
    ] = None,
) -> None:
    """Serve the catalog, books, pick and usage as REST, and /v1 for OpenAI clients."""
    from llmctl.errors import UsageError

    try:
        from llmctl.server.app import serve as run
    except ImportError as exc:
        raise UsageError(
            f"llmctl serve needs the serve extra ({exc.name} is not installed)",
            hint=(
                "in llmctl's checkout: pip install '.[serve]' "
                "(the package index holds another project of this name)"
            ),
        ) from None
    st = state(ctx)
    run(
        host,
        port,
        token_env,
        home=st.home,
        grace=grace,
        quiet=quiet,
        catalog=st.catalog_arg,
        workers=workers,
        home_arg=st.home_arg,
        max_connections=max_connections,
    )
