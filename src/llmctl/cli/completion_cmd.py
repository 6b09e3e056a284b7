"""`llmctl completion`: shell completion scripts (bash, zsh, fish)."""

from pathlib import Path
from typing import Annotated

import typer

SHELLS = ("bash", "zsh", "fish")
FILE_NAMES = {"bash": "llmctl.bash", "zsh": "_llmctl", "fish": "llmctl.fish"}
COMPLETE_VAR = "_LLMCTL_COMPLETE"


def script(shell: str) -> str:
    """The completion script for `shell`; it asks `llmctl` itself for candidates."""
    from typer._completion_shared import get_completion_script

    return get_completion_script(prog_name="llmctl", complete_var=COMPLETE_VAR, shell=shell) + "\n"


def completion(
    shell: Annotated[str | None, typer.Argument(help="bash, zsh or fish.")] = None,
    write: Annotated[
        Path | None, typer.Option("--write", help="Write all three scripts into this folder.")
    ] = None,
) -> None:
    """Print the completion script for SHELL, or write every script with --write DIR.

    bash: `source <(llmctl completion bash)`; zsh: put `_llmctl` on your $fpath;
    fish: copy `llmctl.fish` to ~/.config/fish/completions/.
    """
    from llmctl.errors import UnknownNameError, UsageError
    from llmctl.files.io import atomic_write

    if write is not None:
        for name in SHELLS:
            atomic_write(write / FILE_NAMES[name], script(name))
            print(write / FILE_NAMES[name])
        return
    if shell is None:
        raise UsageError("give a shell (bash, zsh or fish) or --write DIR")
    if shell not in SHELLS:
        raise UnknownNameError("shell", shell, SHELLS)
    print(script(shell), end="")
