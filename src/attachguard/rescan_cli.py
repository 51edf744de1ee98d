"""``attachguard rescan``: scan approved files again after a signature update — a folder, an S3
prefix (``s3://bucket/prefix``, needs the aws extra) or the service's final store
(``--service``, needs the service extra). See `attachguard.rescan` for what is done with a file
that is now rejected, and docs/cli.md.

Prints one JSON line per file and a summary line. Exit status: 0 when nothing is rejected now,
1 when some file is, 2 on a usage or configuration error.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import click

from attachguard.rescan import Rescanned

_SERVICE_HELP = "With --service: as for `attachguard serve`."


def _echo(results: Iterable[Rescanned]) -> tuple[int, int]:
    """Print each result as it comes; (files, rejected now)."""
    count = revoked = 0
    for result in results:
        count += 1
        revoked += result.revoked
        click.echo(json.dumps(result.to_dict()))
    return count, revoked


@click.command()
@click.argument("target", required=False)
@click.option("--service", is_flag=True, help="Rescan the service's final store.")
@click.option("--data", "data_dir", type=click.Path(file_okay=False, path_type=Path),
              default="attachguard-data", show_default=True, help=_SERVICE_HELP)  # fmt: skip
@click.option("--database-url", metavar="URL", help=_SERVICE_HELP)
@click.option("--s3-bucket", metavar="BUCKET", help=_SERVICE_HELP)
@click.option("--s3-prefix", default="", metavar="PREFIX", help=_SERVICE_HELP)
@click.option(
    "--action",
    type=click.Choice(["delete", "quarantine", "report"]),
    default="delete",
    show_default=True,
    help="For a file now REJECTED: delete it, move it to --quarantine, or only report it.",
)
@click.option(
    "--quarantine",
    metavar="DIR|PREFIX",
    help="Where --action quarantine moves files: a folder (for a folder), a key prefix (for "
    "S3); the service uses quarantine/ in its own store.",
)
@click.option("--max-files", type=click.IntRange(min=1), help="Stop after this many files.")
@click.option(
    "--start-after",
    metavar="MARKER",
    help="Resume after this path or key (the summary's 'next'); the service resumes by itself.",
)
@click.option("--policy", "policy_path", type=click.Path(path_type=Path), help="Policy YAML.")
@click.option("--clamd", metavar="SOCKET", help="clamd address (as for `attachguard scan`).")
def rescan(target: str | None, service: bool, **options: Any) -> None:
    """Scan approved files again: a FOLDER, s3://BUCKET/PREFIX, or --service."""
    if service == (target is not None):
        raise click.UsageError("give a folder or s3://bucket/prefix, or --service")
    if service and options["action"] == "report":
        raise click.UsageError("--service rescans act (delete or quarantine); no report mode")
    if target is not None and target.startswith("s3://") and not target[5:].split("/")[0]:
        raise click.UsageError(f"{target!r}: give s3://BUCKET/PREFIX")
    from attachguard.cli import ConfigError, _policy
    from attachguard.runtime import ClamdUnavailable, clamd_for

    policy = _policy(options["policy_path"])
    try:
        with clamd_for(options["clamd"]) as source:
            from attachguard.scanner import build_scanner

            with build_scanner(policy, source.client) as scanner:
                if service:
                    summary = _service(scanner, options)
                elif target is not None and target.startswith("s3://"):
                    summary = _s3(target, scanner, options)
                else:
                    summary = _folder(Path(str(target)), scanner, options)
    except ClamdUnavailable as exc:
        raise ConfigError(str(exc)) from exc
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc
    click.echo(json.dumps(summary))
    sys.exit(1 if summary["rejected"] else 0)


def _folder(folder: Path, scanner: Any, options: dict[str, Any]) -> dict[str, Any]:
    from attachguard.rescan import rescan_folder

    if not folder.is_dir():
        raise click.UsageError(f"{folder} is not a folder")
    quarantine = options["quarantine"]
    results = rescan_folder(
        folder, scanner, action=options["action"],
        quarantine=Path(quarantine) if quarantine else None, max_files=options["max_files"],
        start_after=options["start_after"],
    )  # fmt: skip
    last: list[str] = []

    def noted() -> Iterable[Rescanned]:
        for result in results:
            last[:] = [result.where]
            yield result

    count, revoked = _echo(noted())
    bounded = options["max_files"] is not None and count >= options["max_files"]
    return {"rescanned": count, "rejected": revoked, "next": last[0] if bounded and last else None}


def _s3(target: str, scanner: Any, options: dict[str, Any]) -> dict[str, Any]:
    from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

    from attachguard.cli import ConfigError
    from attachguard.connect.config import s3_client
    from attachguard.connect.rescan import rescan_prefix

    bucket, _, prefix = target.removeprefix("s3://").partition("/")
    try:
        run = rescan_prefix(
            s3_client(), bucket, prefix, scanner,
            action=options["action"], quarantine_prefix=options["quarantine"],
            max_files=options["max_files"] or 1000, start_after=options["start_after"],
        )  # fmt: skip
        count, revoked = _echo(run.results)
    except (BotoCoreError, ClientError) as exc:  # the lines printed so far stand
        raise ConfigError(f"S3 at {target}: {exc}") from exc
    return {"rescanned": count, "rejected": revoked, "next": run.marker}


def _service(scanner: Any, options: dict[str, Any]) -> dict[str, Any]:
    """Run (or resume) a rescan job on the service's store and database, with this run's
    scanner; revoked files are printed as they go."""
    from contextlib import ExitStack

    from attachguard.service.app import _lock_data_dir, _open_store, _shares_data_dir
    from attachguard.service.db import Database
    from attachguard.service.lifecycle import Lifecycle
    from attachguard.service.rescan import Rescanner
    from attachguard.service.settings import Settings

    action = options["action"]
    settings = Settings(
        data_dir=options["data_dir"], database_url=options["database_url"],
        s3_bucket=options["s3_bucket"], s3_prefix=options["s3_prefix"], rescan_action=action,
    )  # fmt: skip
    with ExitStack() as stack:
        if not _shares_data_dir(settings):
            try:
                _lock_data_dir(settings.data_dir, stack)  # not while a service runs on it
            except RuntimeError as exc:
                raise click.UsageError(f"{exc}: stop it first") from exc
        db = Database(settings.database)
        stack.callback(db.close)
        lifecycle = Lifecycle(_open_store(settings), db, scanner)

        def revoked(record: Any, report: dict[str, Any]) -> None:
            done = {"delete": "deleted", "quarantine": "quarantined"}[action]
            line = Rescanned(record.id, "REJECTED", _codes(report), done)
            click.echo(json.dumps(line.to_dict()))

        rescanner = Rescanner(lifecycle, action=action, on_revoked=revoked)
        if rescanner.pending() is None:
            rescanner.start()
        job = rescanner.run(options["max_files"])
    if job is None:
        return {"rescanned": 0, "rejected": 0, "next": None}
    more = job.finished_at is None
    summary = {"rescanned": job.scanned, "rejected": job.revoked, "job": job.signature,
               "next": "run again to continue" if more else None}  # fmt: skip
    if more and not job.has_signatures(scanner.versions()):
        # the job is for newer signatures than this clamd's: another replica, or later, runs it
        summary["note"] = "this clamd has older signatures than the job's"
    return summary


def _codes(report: dict[str, Any]) -> list[str]:
    return sorted(
        {str(f["code"]) for f in report.get("findings", []) if f.get("action") == "reject"}
    )
