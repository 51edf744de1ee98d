"""Fuzz every parser entry point for longer than CI does, and print what escapes.

    .venv/bin/python bench/fuzz.py [--examples 2000] [--only office,pdfraw] [--seeds DIR]
                                   [--seed 1] [--out DIR]

Targets (tests/support/fuzz/targets.py): each engine's ``scan`` called directly, the readers in
attachguard.formats, and the whole pipeline (clamav disabled). For each, hypothesis draws
``--examples`` damaged seeds (``--seeds DIR`` adds real files as seeds) and the harness records
what CI only warns about: every exception a target lets escape that it does not document (by
type and the line that raised it), engine results that break the `Result` contract (a code its
EngineSpec does not list), verdicts that do not fail closed, inputs over the time bound, and
the slowest input. Each distinct failure is then shrunk by hypothesis to a small reproducer,
printed as its recipe and, up to 2 KB, as hex (``--out`` writes every reproducer to a file).

``--known`` only replays the inputs found before (tests/support/fuzz/found.py) and says which
still fail. Exit status 1 when anything failed. Not a test: the run is random unless ``--seed``
is given.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as fixed_seed

from support.fuzz.found import KNOWN, SLOW
from support.fuzz.mutations import Sample, mutants
from support.fuzz.seeds import Seed, from_directory, seeds
from support.fuzz.targets import Target, all_targets, call, call_timed

HEX_LIMIT = 2048  # bytes: a longer reproducer is printed as its recipe only (--out keeps it)


class _Met(Exception):
    """Raised on the failure being shrunk, so that hypothesis shrinks toward it."""


@dataclass
class Run:
    """What exploring one target found."""

    target: Target
    examples: int = 0
    failures: dict[str, tuple[int, Sample]] = field(default_factory=dict)  # first, count
    slowest: tuple[float, Sample | None] = (0.0, None)
    seconds: float = 0.0

    def record(self, sample: Sample) -> None:
        outcome = call_timed(self.target.run, sample)
        self.examples += 1
        if outcome.seconds > self.slowest[0]:
            self.slowest = (outcome.seconds, sample)
        for failure in self.target.failures(outcome):
            count, first = self.failures.get(failure, (0, sample))
            self.failures[failure] = (count + 1, first)


def _settings(examples: int, phases: tuple[Phase, ...]) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=phases,
        suppress_health_check=list(HealthCheck),
    )


def explore(target: Target, donors: tuple[Seed, ...], examples: int, seed: int) -> Run:
    run = Run(target)
    start = time.perf_counter()

    @fixed_seed(seed)
    @_settings(examples, (Phase.generate,))
    @given(mutants(target.seeds, donors))
    def body(sample: Sample) -> None:
        run.record(sample)

    body()
    run.seconds = time.perf_counter() - start
    return run


def shrink(target: Target, donors: tuple[Seed, ...], examples: int, seed: int, failure: str) -> (
    Sample | None
):  # fmt: skip
    """The smallest sample that fails as ``failure``: the exploring run replayed with the same
    seed (so it meets the failure again), failing on that one failure only, and shrunk."""
    smallest: list[Sample] = []

    @fixed_seed(seed)
    @_settings(examples, (Phase.generate, Phase.shrink))
    @given(mutants(target.seeds, donors))
    def body(sample: Sample) -> None:
        if failure in target.failures(call_timed(target.run, sample)):
            smallest[:] = [sample]
            raise _Met

    try:
        body()
    except _Met:
        return smallest[0] if smallest else None
    return None  # not met again: the failure depends on timing or state


def _report(run: Run, minimal: Callable[[str], Sample | None], out: Path | None) -> None:
    slow, sample = run.slowest
    # timed again: one slow call on a loaded machine may be a stall, not the input
    again = min(call(run.target.run, sample).seconds for _ in range(3)) if sample else 0.0
    print(f"\n== {run.target.name}: {run.examples} inputs from {len(run.target.seeds)} seeds "
          f"in {run.seconds:.1f} s; slowest {slow * 1000:.0f} ms (again: {again * 1000:.0f} ms):"
          f" {sample!r}")  # fmt: skip
    for number, (failure, (count, first)) in enumerate(sorted(run.failures.items()), start=1):
        # a slow input is not shrunk: each try would cost seconds, hundreds of tries hours
        small = (None if failure.startswith("took") else minimal(failure)) or first
        print(f"  FAIL {failure}  ({count} of {run.examples} inputs)")
        outcome = call(run.target.run, small)
        if outcome.error is not None:
            print(f"       message: {str(outcome.error)[:300]}")
        print(f"       smallest: {small!r}")
        if len(small.data) <= HEX_LIMIT:
            print(f"       bytes.fromhex({small.hex()!r})")
        if out is not None:
            name = re.sub(r"[^\w.-]+", "-", f"{run.target.name}-{number}-{small.seed.name}")
            (out / name).write_bytes(small.data)
            print(f"       written to {out / name}")


def replay_known(targets: dict[str, Target]) -> int:
    """Run every input found before (support/fuzz/found.py) and say which still fail."""
    still = 0
    for table in (KNOWN, SLOW):
        for name, builders in table.items():
            if name not in targets:
                continue
            for build in builders:
                sample = build()
                outcome = call(targets[name].run, sample)
                failures = targets[name].failures(outcome)
                still += bool(failures)
                state = "; ".join(failures) or "fixed"
                print(f"{name}: {sample!r}: {outcome.seconds * 1000:.0f} ms: {state}")
    return still


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=2000, help="inputs per target")
    parser.add_argument("--only", default="", help="comma-separated parts of target names")
    parser.add_argument("--seeds", type=Path, help="a directory of real files to add as seeds")
    parser.add_argument("--seed", type=int, default=int.from_bytes(os.urandom(4)))
    parser.add_argument("--out", type=Path, help="write each reproducer to a file here")
    parser.add_argument("--known", action="store_true", help="only replay the inputs found before")
    args = parser.parse_args()
    warnings.simplefilter("ignore")  # Pillow warns on every damaged EXIF block
    logging.disable(logging.CRITICAL)  # and pypdf logs every broken stream

    pool = seeds() + tuple(from_directory(args.seeds) if args.seeds else ())
    wanted = [w for w in args.only.split(",") if w]
    chosen = [t for t in all_targets(pool) if not wanted or any(w in t.name for w in wanted)]
    if args.known:
        return 1 if replay_known({t.name: t for t in chosen}) else 0
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
    print(f"fuzzing {len(chosen)} targets, {args.examples} inputs each, {len(pool)} seeds, "
          f"--seed {args.seed}; load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    failed = 0
    for target in chosen:
        run = explore(target, pool, args.examples, args.seed)
        failed += len(run.failures)

        def minimal(failure: str, target: Target = target) -> Sample | None:
            return shrink(target, pool, args.examples, args.seed, failure)

        _report(run, minimal, args.out)
    print(f"\n{failed} distinct failures")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
