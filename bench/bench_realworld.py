"""Benchmark: precision and speed on the real-world benign corpus (tests/support/realworld_data.py).

    .venv/bin/python bench/bench_realworld.py [--json] [--slowest 10] [--policy FILE]

Downloads the corpus into the test cache on first use (PyPI and Debian packages, pinned by
SHA-256), scans every file once, in process, one at a time, with a private clamd on the
generated test signatures (clean-file cache off), and prints figures, not pass/fail:
the approval rate per extension, the rejections by finding code split into expected (real active
content, passwords, policy limits: ``EXPECTED_REJECTIONS`` in tests/test_realworld.py) and
false (everything else), and the slowest files with their time and engine breakdown.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from attachguard.clamav.client import ClamdClient
from attachguard.clamav.daemon import PrivateClamd
from attachguard.clamav.signatures import build_test_database
from attachguard.policy import load_policy
from attachguard.report import Report
from attachguard.scanner import build_scanner
from support.realworld_data import CorpusFile, realworld_corpus
from test_realworld import EXPECTED_REJECTIONS


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class QuietCacheClamd(PrivateClamd):
    """The private clamd with its clean-file cache off: each file is scanned for real."""

    def write_config(self) -> Path:
        path = super().write_config()
        with path.open("a", encoding="utf-8") as config:
            config.write("DisableCache yes\n")
        return path


def scan_all(corpus: list[CorpusFile], policy_path: str | None) -> list[dict[str, Any]]:
    """One row per file: id, extension, size, seconds, verdict, rejecting codes, reasons."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="agrw-") as tmp:  # short: clamd's socket lives here
        workdir = Path(tmp)
        with QuietCacheClamd(workdir, build_test_database(workdir / "testdb")) as clamd:
            client = ClamdClient(clamd.address, timeout=120.0)
            with build_scanner(load_policy(policy_path), client) as scanner:
                for f in corpus:
                    data = f.path.read_bytes()
                    begin = time.perf_counter()
                    report = scanner.scan(data, f.path.name)
                    rows.append(_row(f, report, time.perf_counter() - begin))
    return rows


def _row(f: CorpusFile, report: Report, seconds: float) -> dict[str, Any]:
    return {
        "id": f.id,
        "ext": f.extension,
        "size": report.size,
        "s": seconds,
        "approved": report.approved,
        "codes": report.rejecting_codes,
        "reasons": report.reasons,
        "expected": f.id in EXPECTED_REJECTIONS,
        "engines_ms": report.timings_ms,
    }


def figures(rows: list[dict[str, Any]], slowest: int) -> dict[str, Any]:
    per_type: dict[str, Counter[str]] = defaultdict(Counter)
    false_by_code: dict[str, list[str]] = defaultdict(list)
    expected_by_code: Counter[str] = Counter()
    for row in rows:
        counts = per_type[row["ext"]]
        counts["files"] += 1
        counts["approved"] += row["approved"]
        counts["expected"] += row["expected"]
        for code in row["codes"]:
            if row["expected"]:
                expected_by_code[code] += 1
            else:
                false_by_code[code].append(row["id"])
    benign = [r for r in rows if not r["expected"]]
    return {
        "files": len(rows),
        "benign": len(benign),
        "benign_approved": sum(r["approved"] for r in benign),
        "scan_s": sum(r["s"] for r in rows),
        "per_type": {ext: dict(c) for ext, c in sorted(per_type.items())},
        "false_by_code": dict(sorted(false_by_code.items(), key=lambda kv: -len(kv[1]))),
        "expected_by_code": dict(expected_by_code.most_common()),
        "slowest": sorted(rows, key=lambda r: -r["s"])[:slowest],
    }


def render(out: dict[str, Any]) -> str:
    env = out["environment"]
    rate = out["benign_approved"] / out["benign"] if out["benign"] else 0.0
    lines = [
        f"attachguard real-world corpus, {env['date']}: {env['cpus']} CPUs, load average "
        f"{env['loadavg']}",
        f"corpus: {out['files']} files ({out['benign']} benign, "
        f"{out['files'] - out['benign']} with real active content, passwords or over a limit), "
        f"ready in {out['corpus_s']:.0f} s; scanned in {out['scan_s']:.0f} s one at a time",
        f"benign files approved: {out['benign_approved']}/{out['benign']} ({rate:.1%})",
        "",
        f"  {'type':<7}{'files':>7}{'approved':>10}{'expected':>10}{'benign rate':>13}",
    ]
    for ext, c in out["per_type"].items():
        benign = c["files"] - c.get("expected", 0)
        ok = c.get("approved", 0)
        shown = f"{ok / benign:.1%}" if benign else "-"
        lines.append(f"  {ext:<7}{c['files']:>7}{ok:>10}{c.get('expected', 0):>10}{shown:>13}")
    lines += ["", "false rejections by code (a file may count under several codes):"]
    for code, ids in out["false_by_code"].items():
        lines.append(f"  {code:<16}{len(ids):>4}  e.g. {ids[0]}")
    expected = ", ".join(f"{code} {n}" for code, n in out["expected_by_code"].items())
    lines += [f"expected rejections by code: {expected or 'none'}", "", "slowest files:"]
    for row in out["slowest"]:
        engines = sorted(row["engines_ms"].items(), key=lambda kv: -kv[1])[:3]
        top = ", ".join(f"{name} {ms:.0f}" for name, ms in engines)
        lines.append(f"  {row['s'] * 1000:>8.0f} ms {row['size']:>10,} B  {row['id']}  ({top})")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--policy", help="policy YAML (default: the packaged one)")
    parser.add_argument("--slowest", type=int, default=10)
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args()
    environment = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpus": os.cpu_count(),
        "loadavg": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }
    log("fetching the corpus (cached after the first run)...")
    started = time.perf_counter()
    corpus = realworld_corpus()
    corpus_s = time.perf_counter() - started
    log(f"scanning {len(corpus)} files...")
    out = figures(scan_all(corpus, args.policy), args.slowest)
    out |= {"environment": environment, "corpus_s": corpus_s}
    print(json.dumps(out, indent=2) if args.json else render(out))


if __name__ == "__main__":
    main()
