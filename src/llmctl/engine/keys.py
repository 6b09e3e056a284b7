"""Keys from a command (`api_key_cmd`): run without a shell, only when a request needs the
key, with a 10 s timeout. The first line of its stdout, stripped, is the key (`pass show`
prints the secret first, then other fields). It is kept in this process's memory for 15
minutes at most (an access token expires) and forgotten when the provider refuses it.
What the command prints on stderr, or on stdout when it fails, is never shown (it may
hold a secret). A failure skips the LLM with the reason (`api_key_cmd failed: exit 1`)."""

from __future__ import annotations

import shlex
import subprocess
import threading
import time
from collections.abc import Callable

from llmctl.errors import KeyMissing

TIMEOUT_SECONDS = 10.0
FAILURE_MEMORY = 60.0  # a failed command is not run again for this long (a hang costs once)
KEY_MEMORY = 900.0  # a key is asked for again after this long (tokens such as gcloud's expire)


class KeyCommands:
    """Runs key commands, each once per process while it succeeds; a failure is
    remembered for a minute."""

    def __init__(self, timeout: float = TIMEOUT_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self.timeout = timeout
        self.clock = clock
        self._keys: dict[str, tuple[float, str]] = {}
        self._failed: dict[str, tuple[float, KeyMissing]] = {}
        self._lock = threading.Lock()

    def __call__(self, command: str) -> str:
        with self._lock:
            known = self._keys.get(command)
            failed = self._failed.get(command)
        if known is not None and self.clock() - known[0] < KEY_MEMORY:
            return known[1]
        if failed is not None and self.clock() - failed[0] < FAILURE_MEMORY:
            raise KeyMissing(failed[1].message)
        try:
            key = self._run(command)
        except KeyMissing as exc:
            with self._lock:
                self._failed[command] = (self.clock(), exc)
            raise
        with self._lock:
            self._keys[command] = (self.clock(), key)
            self._failed.pop(command, None)
        return key

    def settled(self, command: str) -> bool:
        """True when asking for `command` now needs no run (its key, or a recent failure, is known)."""
        now = self.clock()
        with self._lock:
            known, failed = self._keys.get(command), self._failed.get(command)
        return (known is not None and now - known[0] < KEY_MEMORY) or (
            failed is not None and now - failed[0] < FAILURE_MEMORY
        )

    def refused(self, key: str) -> bool:
        """The provider refused `key` (401/403): the next request asks its command again.
        True when the key came from a command."""
        with self._lock:
            commands = [command for command, (_when, known) in self._keys.items() if known == key]
            for command in commands:
                del self._keys[command]
        return bool(commands)

    def keys(self) -> tuple[str, ...]:
        """Every key the commands gave (for redaction)."""
        with self._lock:
            return tuple(key for _when, key in self._keys.values())

    def _run(self, command: str) -> str:
        try:
            argv = shlex.split(command)
        except ValueError as exc:
            raise KeyMissing(f"api_key_cmd cannot be read as a command line ({exc})") from None
        if not argv:
            raise KeyMissing("api_key_cmd is empty")
        try:
            done = subprocess.run(
                argv, capture_output=True, stdin=subprocess.DEVNULL, timeout=self.timeout, check=False
            )
        except FileNotFoundError:
            raise KeyMissing(f"api_key_cmd failed: {argv[0]!r} not found") from None
        except subprocess.TimeoutExpired:
            raise KeyMissing(f"api_key_cmd failed: no answer in {self.timeout:g} s") from None
        except OSError as exc:
            raise KeyMissing(f"api_key_cmd failed: {exc.strerror or type(exc).__name__}") from None
        if done.returncode != 0:
            raise KeyMissing(f"api_key_cmd failed: exit {done.returncode}")
        lines = done.stdout.decode("utf-8", "replace").strip().splitlines()
        key = lines[0].strip() if lines else ""  # `pass show` puts the secret on its first line
        if not key:
            raise KeyMissing("api_key_cmd failed: it printed no key")
        return key


KEY_COMMANDS = KeyCommands()  # the process's: a key is asked for once per process
