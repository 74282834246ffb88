# zulip_nagios: the code the zulip.server Nagios plugins share (states, the
# one-line verdict, state files, running commands, asking PostgreSQL).
# Installed by the zulip.server Ansible collection (role zulip_monitoring)
# into <plugins>/zulip_base; not a plugin itself. The plugins import it by
# path (<their directory>/../zulip_base), so zulip_base must be installed
# on every host that has any of them.
#
# State file format (Zulip's, read by check_cron_file): one line
#   <unix_ts>|<exit_code>|<STATE>|<message>
# written to <path>-tmp and renamed into place, so a reader never sees half
# a file. A message never holds "|" (it would add a field).
import argparse
import os
import sys
import time

OK, WARNING, CRITICAL, UNKNOWN = 0, 1, 2, 3
NAMES = {OK: "OK", WARNING: "WARNING", CRITICAL: "CRITICAL", UNKNOWN: "UNKNOWN"}
# How bad each state is, for worst(): a CRITICAL outranks an UNKNOWN (what
# is known to be broken pages before what could not be checked).
SEVERITY = {OK: 0, WARNING: 1, UNKNOWN: 2, CRITICAL: 3}

STATE_DIR = "/var/lib/nagios_state"


def worst(*states):
    """The worst of the given states (OK when none are given)."""
    return max(states, key=lambda state: SEVERITY[state], default=OK)


def by_severity(findings):
    """(state, message) pairs, worst first; equal states keep their order."""
    return sorted(findings, key=lambda finding: -SEVERITY[finding[0]])


def one_line(message):
    return " ".join(str(message).split("\n")).strip()


def finish(state, message, label=None):
    """Print the verdict line "<STATE>: <message>" and exit with the state."""
    print(f"{label or NAMES.get(state, 'UNKNOWN')}: {one_line(message)}")
    sys.exit(state)


class ArgumentParser(argparse.ArgumentParser):
    """argparse whose usage errors are UNKNOWN verdicts, not exit 2 (CRITICAL)."""

    def error(self, message):
        finish(UNKNOWN, f"{self.prog}: {message}")


# --- state files ----------------------------------------------------------

def write_state(path, state, message, now=None):
    """Write one state file atomically (<path>-tmp, then rename)."""
    message = one_line(message).replace("|", "/")
    stamp = int(time.time() if now is None else now)
    tmp = f"{path}-tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(f"{stamp}|{state}|{NAMES[state]}|{message}\n")
    os.rename(tmp, path)


def read_state(path, max_age, now=None):
    """Read a state file with check_cron_file's rules.

    Returns (exit_code, label, message): the file's own code, state word and
    message, or UNKNOWN when it is missing, malformed or stale.
    """
    try:
        with open(path, encoding="utf-8") as handle:
            content = handle.read().strip()
    except FileNotFoundError:
        return UNKNOWN, "UNKNOWN", "Results file is missing"
    except (OSError, UnicodeDecodeError) as error:
        return UNKNOWN, "UNKNOWN", f"Results file is unreadable: {error}"
    fields = content.split("|")
    if len(fields) != 4:
        return UNKNOWN, "UNKNOWN", "Results file malformed"
    try:
        stamp, code = float(fields[0]), int(fields[1])
    except ValueError:
        return UNKNOWN, "UNKNOWN", "Results file malformed"
    if code not in NAMES:
        return UNKNOWN, "UNKNOWN", "Results file malformed"
    if (time.time() if now is None else now) - stamp > max_age:
        return UNKNOWN, "UNKNOWN", "Results file is stale"
    return code, fields[2], fields[3]


# --- commands -------------------------------------------------------------

class CommandError(Exception):
    """A command that is missing, timed out or failed; str() says which."""

    def __init__(self, message, stdout="", stderr=""):
        super().__init__(message)
        self.stdout = stdout
        self.stderr = stderr


def last_line(text):
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def run(argv, timeout=25, env=None, ok_codes=(0,)):
    """Run argv (argv[0] looked up on PATH) and return the CompletedProcess.

    Raises CommandError when the program is missing, runs past timeout
    seconds (its whole process group is killed), or exits with a code not in
    ok_codes; the error's text is stderr's last line, or the exit status.
    """
    # Imported here, not above: the state-file readers, which Nagios runs
    # most often, start faster without them.
    import signal
    import subprocess

    try:
        process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True, env=env, start_new_session=True)
    except OSError as error:
        raise CommandError(f"{argv[0]}: {error.strerror or error}") from None
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise CommandError(f"{argv[0]} timed out after {timeout:g} s") from None
    result = subprocess.CompletedProcess(argv, process.returncode, stdout, stderr)
    if result.returncode not in ok_codes:
        detail = last_line(stderr) or last_line(stdout) or f"exit status {result.returncode}"
        raise CommandError(detail, stdout, stderr)
    return result


def psql_rows(database, sql, timeout=20):
    """Rows of one query, as lists of strings ('' for NULL), asked with psql
    as the invoking user: unaligned, tuples only, NUL between fields."""
    argv = ["psql", "-X", "-t", "-A", "-z", "-v", "ON_ERROR_STOP=1", "-d", database, "-c", sql]
    try:
        output = run(argv, timeout=timeout).stdout
    except CommandError as error:
        # psql's errors span lines ("psql: error: ... failed: ..." then a
        # hint): keep them all, on one line.
        if not error.stderr.strip():
            raise
        raise CommandError(" ".join(error.stderr.split()), error.stdout, error.stderr) from None
    return [line.split("\0") for line in output.split("\n") if line]


def in_recovery(database):
    """Whether this PostgreSQL server is a replica (pg_is_in_recovery())."""
    rows = psql_rows(database, "SELECT pg_is_in_recovery()")
    if not rows or rows[0][0] not in ("t", "f"):
        raise CommandError(f"unexpected answer to pg_is_in_recovery(): {rows!r}")
    return rows[0][0] == "t"
