"""`llmctl serve`: an HTTP server over the user's files and the sending engine (the
`serve` extra: Starlette and uvicorn). `app` builds the ASGI app and runs it; `rest` holds
the seed's REST endpoints, `gateway` the OpenAI-compatible ones, `state` what lives
between requests."""
