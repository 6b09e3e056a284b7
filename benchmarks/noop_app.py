"""The baseline: a no-op Typer app of two commands."""

import typer

app = typer.Typer()


@app.command()
def first(name: str = "x") -> None:
    print(name)


@app.command()
def second(count: int = 1) -> None:
    print(count)


if __name__ == "__main__":
    app()
