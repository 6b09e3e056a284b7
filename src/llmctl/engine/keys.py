"""Keys from a command (`api_key_cmd`): run without a shell, only when a request needs the
key, with a 10 s timeout. Its stdout, stripped, is the key, kept in this process's memory
only; what it prints on stderr, or on stdout when it fails, is never shown (it may hold
a secret). A failure skips the LLM with the reason (`api_key_cmd failed: exit 1`)."""

from __future__ import annotations

import shlex
import subprocess
import threading

from llmctl.errors import KeyMissing

TIMEOUT_SECONDS = 10.0


class KeyCommands:
    """Runs key commands, each once per process while it succeeds."""

    def __init__(self, timeout: float = TIMEOUT_SECONDS) -> None:
        self.timeout = timeout
        self._keys: dict[str, str] = {}
        self._lock = threading.Lock()

    def __call__(self, command: str) -> str:
        with self._lock:
            known = self._keys.get(command)
        if known is not None:
            return known
        key = self._run(command)
        with self._lock:
            self._keys[command] = key
        return key

    def keys(self) -> tuple[str, ...]:
        """Every key the commands gave (for redaction)."""
        with self._lock:
            return tuple(self._keys.values())

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
        key = done.stdout.decode("utf-8", "replace").strip()
        if not key:
            raise KeyMissing("api_key_cmd failed: it printed no key")
        return key


KEY_COMMANDS = KeyCommands()  # the process's: a key is asked for once per process
