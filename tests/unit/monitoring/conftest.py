"""Helpers for the Nagios plugin tests: run a plugin as Nagios would (a
subprocess, one verdict line, an exit code), with the commands it drives
replaced by fakes in tmp_path/bin that answer from canned output and log
their arguments."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

PLUGINS = Path(__file__).resolve().parents[3] / "roles" / "zulip_monitoring" / "files" / "nagios_plugins"


def load_shared():
    """zulip_base/zulip_nagios.py as a module, leaving no bytecode cache in the role."""
    saved, sys.dont_write_bytecode = sys.dont_write_bytecode, True
    try:
        loader = importlib.machinery.SourceFileLoader("zulip_nagios", str(PLUGINS / "zulip_base" / "zulip_nagios.py"))
        spec = importlib.util.spec_from_loader(loader.name, loader)
        module = importlib.util.module_from_spec(spec)
        loader.exec_module(module)
    finally:
        sys.dont_write_bytecode = saved
    return module


class Lab:
    """tmp_path as a host: bin/ for fake commands, state/ for state files."""

    def __init__(self, tmp_path: Path):
        self.root = tmp_path
        self.bin = tmp_path / "bin"
        self.bin.mkdir()
        self.state = tmp_path / "state"
        self.state.mkdir()
        self.log = tmp_path / "calls.log"
        self.path = f"{self.bin}:/usr/bin:/bin"
        self._answers = 0

    def script(self, name: str, body: str) -> Path:
        """A fake command: a bash script that logs its arguments, then runs body."""
        path = self.bin / name
        path.write_text(f'#!/bin/bash\nprintf "%s\\n" "{name} $*" >> {shlex.quote(str(self.log))}\n{body}\n')
        path.chmod(0o755)
        return path

    def answer(self, text: str | bytes) -> str:
        """A file holding text, and the shell command that prints it."""
        self._answers += 1
        path = self.root / f"answer{self._answers}"
        path.write_bytes(text.encode() if isinstance(text, str) else text)
        return f"cat {shlex.quote(str(path))}"

    def fake(self, name: str, stdout: str | bytes = "", stderr: str = "", code: int = 0) -> Path:
        lines = [self.answer(stdout)]
        if stderr:
            lines.append(f"{self.answer(stderr)} >&2")
        lines.append(f"exit {code}")
        return self.script(name, "\n".join(lines))

    def psql(self, answers):
        """A fake psql: answers are (substring of the query, rows) pairs, the
        first match answering; rows are tuples (None is NULL, printed as
        psql -A prints it: empty), or a string: an error, psql exits 1."""
        cases = []
        for key, rows in answers:
            if isinstance(rows, str):
                action = f"echo {shlex.quote(rows)} >&2; exit 1"
            else:
                output = "".join("\0".join("" if field is None else str(field) for field in row) + "\n"
                                 for row in rows)
                action = self.answer(output)
            cases.append(f"  *{shlex.quote(key)}*) {action} ;;")
        body = 'query="${@: -1}"\ncase "$query" in\n%s\n  *) echo "unexpected query: $query" >&2; exit 9 ;;\nesac'
        return self.script("psql", body % "\n".join(cases))

    def calls(self, name: str | None = None) -> list[str]:
        if not self.log.exists():
            return []
        lines = self.log.read_text().splitlines()
        return [line for line in lines if name is None or line.split(" ", 1)[0] == name]

    def run(self, plugin: str, *args: str, path: str | None = None) -> subprocess.CompletedProcess:
        # -I -S: no site-packages (a plugin that needed more than the
        # standard library fails here) and a faster start; the plugins set
        # sys.dont_write_bytecode themselves.
        env = {"PATH": path or self.path, "HOME": str(self.root)}
        return subprocess.run([sys.executable, "-I", "-S", str(PLUGINS / plugin), *map(str, args)], env=env,
                              capture_output=True, text=True, check=False, timeout=30)

    def verdict(self, plugin: str, *args: str, path: str | None = None) -> tuple[int, str]:
        """Run a plugin that must print exactly one verdict line; (exit code, line)."""
        result = self.run(plugin, *args, path=path)
        lines = result.stdout.splitlines()
        assert len(lines) == 1, (result.stdout, result.stderr)
        assert lines[0].split(":", 1)[0] in ("OK", "WARNING", "CRITICAL", "UNKNOWN"), lines
        return result.returncode, lines[0]

    def state_file(self, name: str, content: str) -> Path:
        path = self.state / name
        path.write_text(content)
        return path


@pytest.fixture
def lab(tmp_path):
    return Lab(tmp_path)


@pytest.fixture(scope="session")
def plugins():
    return PLUGINS


@pytest.fixture(scope="session")
def nagios():
    return load_shared()
