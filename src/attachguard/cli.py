"""The `attachguard` command: a thin layer over `Scanner`.

``attachguard scan`` scans ``--jobs`` files at once (two per core by default) and prints the
verdicts in the order of the files (sorted within each folder); over more than 200 files the
jobs are shared by one worker process per core (`attachguard.scan_processes`: the Python
engines hold the GIL, so one process uses about one core). ``--cache DIR`` reuses the
verdict on bytes seen before (`attachguard.cache`). ``attachguard rescan`` scans approved files
again after a signature update (`attachguard.rescan_cli`).

Exit status: 0 when every file is APPROVED, 1 when any is REJECTED, 2 on a usage or
configuration error (bad option, unreadable or invalid policy, no clamd, unreadable file).
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import click
from rich.console import Console
from rich.table import Table

from attachguard.policy import Policy, PolicyError, default_policy_text, load_policy
from attachguard.report import Report
from attachguard.sensitive import redact

if TYPE_CHECKING:
    from attachguard.clamav.client import ClamdClient
    from attachguard.runtime import ClamdSource

EXIT_APPROVED, EXIT_REJECTED, EXIT_USAGE = 0, 1, 2

_AHEAD = 8  # files queued per job: a slow file holds back at most this many finished reports
# More files than this: worker processes (`attachguard.scan_processes`). A worker costs about
# a second of CPU to start (imports, Magika's model): on 2 cores 60 files took 8.96 s with
# workers and 6.80 s without, 888 files 52.6 s with and 56.0 s without (docs/benchmarks.md).
PROCESSES_FROM = 200


class ConfigError(click.ClickException):
    """A configuration problem: printed as ``Error: …`` with exit status 2."""

    exit_code = EXIT_USAGE


def _policy(path: Path | None) -> Policy:
    try:
        return load_policy(path)
    except PolicyError as exc:
        raise ConfigError(str(exc)) from exc


def _files(paths: tuple[Path, ...]) -> Iterator[Path]:
    """Files named, and files under folders named (recursively, sorted; links not followed)."""
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file() and not p.is_symlink())
        else:
            yield path


def _table() -> Table:
    table = Table(show_lines=False)
    for column in ("file", "status", "type", "reasons"):
        table.add_column(column, overflow="fold")
    return table


def _row(table: Table, shown: str, report: Report) -> None:
    style = "green" if report.approved else "bold red"
    reasons = "; ".join(report.reasons) or "-"
    table.add_row(shown, f"[{style}]{report.status.value}[/]", report.type.label, reasons)


class _LazyGroup(click.Group):
    """Commands from optional extras (AWS, the service) are imported only when called, so the
    scanner works without them and a missing extra gets a message that names it."""

    LAZY = {
        "connect": ("attachguard.connect.cli", "connect", "aws"),
        "serve": ("attachguard.service.cli", "serve", "service"),
        "db": ("attachguard.service.dbcli", "db", "service"),
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.LAZY])

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self.LAZY:
            return super().get_command(ctx, name)
        module, attribute, extra = self.LAZY[name]
        try:
            command: click.Command = getattr(importlib.import_module(module), attribute)
        except ImportError as exc:
            message = (
                f"'attachguard {name}' needs the {extra} extra: "
                f"pip install 'attachguard[{extra}]' ({exc})"
            )

            @click.command(name, help=f"(not installed: needs attachguard[{extra}])")
            def missing() -> None:
                raise ConfigError(message)

            return missing
        return command


@click.group(cls=_LazyGroup)
@click.version_option(package_name="attachguard")
def main() -> None:
    """attachguard: scan chat attachments; APPROVED or REJECTED, and why."""


class ScansPaths(Protocol):
    """What the CLI needs of a scanner (`Scanner`, or `attachguard.cache.CachedScanner`)."""

    def scan_path(self, path: Path) -> Report: ...

    def close(self) -> None: ...


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def default_jobs() -> int:
    """Two scans per core this process may use: while one waits for clamd, the other runs
    the Python engines (docs/benchmarks.md)."""
    return 2 * _cores()


def default_processes(files: int) -> int:
    """One worker process per core for a folder worth it (a worker takes about a second to
    start: imports, then Magika's model), else 1: the scan runs in this process."""
    return _cores() if files > PROCESSES_FROM else 1


def scan_files(
    scanner: ScansPaths, files: Iterable[Path], jobs: int
) -> Iterator[tuple[Path, Report]]:
    """Each file's report, in the order of ``files``, ``jobs`` scans at a time. A file is read
    by the thread that scans it, so at most ``jobs`` files are in memory at once. Raises
    `ConfigError` for a file that cannot be read."""
    pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="scan")
    pending: deque[tuple[Path, Future[Report]]] = deque()
    try:
        for path in files:
            pending.append((path, pool.submit(scanner.scan_path, path)))
            if len(pending) >= jobs * _AHEAD:
                yield _done(*pending.popleft())
        while pending:
            yield _done(*pending.popleft())
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _done(path: Path, future: Future[Report]) -> tuple[Path, Report]:
    try:
        return path, future.result()
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from exc


def _print(reports: Iterable[tuple[Path, Report]], as_json: bool) -> bool:
    """Print every report (JSON lines as they come, or one table at the end); True when any
    file was rejected."""
    rejected = False
    table = _table()
    for path, report in reports:
        rejected |= not report.approved
        if as_json:
            click.echo(json.dumps(report.to_dict(), ensure_ascii=False))
        else:
            _row(table, redact(str(path)), report)  # a card number in a name is not shown
    if not as_json:
        # a pipe or a file gets long lines rather than reasons folded at 80 columns
        Console(width=None if sys.stdout.isatty() else 200).print(table)
    return rejected


@contextmanager
def _antivirus(policy: Policy, address: str | None) -> Iterator[ClamdSource | None]:
    """The clamd to scan with (`runtime.clamd_for`), or None when the policy disables the
    clamav engine: no clamd is looked for or started (a private one loads its signatures for
    seconds, for nothing)."""
    from attachguard.runtime import clamd_for

    if "clamav" in policy.disabled_engines:
        yield None
        return
    with clamd_for(address) as source:
        yield source


def _scanner(
    policy: Policy, client: ClamdClient | None, jobs: int, cache: Path | None, entries: int
) -> ScansPaths:
    from attachguard.scanner import build_scanner

    scanner = build_scanner(policy, client, concurrency=jobs)
    if cache is None:
        return scanner
    from attachguard.cache import CachedScanner
    from attachguard.cache_folder import FolderCache

    try:
        store = FolderCache(cache, max_entries=entries)
    except OSError as exc:
        scanner.close()
        raise ConfigError(f"cannot use {cache} as a cache folder: {exc.strerror or exc}") from exc
    return CachedScanner(scanner, store)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--policy", "policy_path", type=click.Path(path_type=Path), help="Policy YAML.")
@click.option("--json", "as_json", is_flag=True, help="One JSON report per line.")
@click.option(
    "--clamd",
    metavar="SOCKET",
    help="clamd address (/path.sock or host:port); default: $ATTACHGUARD_CLAMD, the system "
    "clamd, or a private one started for this run (none when the policy disables clamav).",
)
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    help="Files scanned at once (default: two per core).",
)
@click.option(
    "--processes",
    type=click.IntRange(min=1),
    help="Worker processes sharing the --jobs (default: one per core for more than "
    f"{PROCESSES_FROM} files, else 1: this process).",
)
@click.option(
    "--cache",
    "cache_dir",
    metavar="DIR",
    type=click.Path(file_okay=False, path_type=Path),
    help="Keep verdicts in DIR and reuse them for the same bytes under the same extension, "
    "policy, engine versions and signatures (report: cached true).",
)
@click.option(
    "--cache-entries",
    type=click.IntRange(min=1),
    default=10_000,
    show_default=True,
    help="Verdicts kept in the cache folder; the least recently used go first.",
)
def scan(
    paths: tuple[Path, ...],
    policy_path: Path | None,
    as_json: bool,
    clamd: str | None,
    jobs: int | None,
    processes: int | None,
    cache_dir: Path | None,
    cache_entries: int,
) -> None:
    """Scan files and folders (recursively); print a verdict per file."""
    from attachguard.clamav.client import ClamdClient
    from attachguard.runtime import ClamdUnavailable

    policy = _policy(policy_path)
    jobs = jobs or default_jobs()
    files = list(_files(paths))
    processes = min(processes or default_processes(len(files)), jobs)
    try:
        with _antivirus(policy, clamd) as source:
            if source is not None and source.test_signatures:
                Console(stderr=True).print(f"[bold yellow]WARNING: {source.description}[/]")
            address = source.address if source is not None else None
            timeout = source.client.timeout if source is not None else 0.0
            if processes > 1:
                from attachguard.scan_processes import WorkerSetup, scan_in_processes

                threads = -(-jobs // processes)  # jobs per worker, rounded up
                setup = WorkerSetup(
                    policy_path, address, timeout, threads, cache_dir, cache_entries
                )
                rejected = _print(scan_in_processes(setup, files, processes), as_json)
            else:
                # one INSTREAM per scan at a time (children are scanned in turn): ``jobs`` slots
                client = ClamdClient(address, timeout, max_concurrent=jobs) if address else None
                scanner = _scanner(policy, client, jobs, cache_dir, cache_entries)
                try:
                    rejected = _print(scan_files(scanner, files, jobs), as_json)
                finally:
                    scanner.close()
    except ClamdUnavailable as exc:
        raise ConfigError(str(exc)) from exc
    sys.exit(EXIT_REJECTED if rejected else EXIT_APPROVED)


@main.group()
def policy() -> None:
    """Show or check a policy."""


@policy.command("show")
@click.option("--policy", "policy_path", type=click.Path(path_type=Path), help="Policy YAML.")
def policy_show(policy_path: Path | None) -> None:
    """Print the effective policy (every finding code with its action)."""
    click.echo(_policy(policy_path).to_yaml(), nl=False)


@policy.command("check")
@click.argument("file", type=click.Path(path_type=Path))
def policy_check(file: Path) -> None:
    """Validate a policy file; exit 2 with the bad keys named when it is invalid."""
    _policy(file)
    click.echo(f"{file}: valid")


@policy.command("default")
def policy_default() -> None:
    """Print the packaged default policy, with its comments (a starting point for your own)."""
    click.echo(default_policy_text(), nl=False)


@main.command()
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
def samples(folder: Path) -> None:
    """Write the demo attachments (harmless and harmful ones) into FOLDER."""
    from attachguard.demo import write_demo_samples

    for path in write_demo_samples(folder):
        click.echo(path)


def _add_rescan() -> None:
    # its own module (it drives three kinds of store); it imports nothing heavy at load
    from attachguard.rescan_cli import rescan

    main.add_command(rescan)


_add_rescan()

if __name__ == "__main__":
    main()
