"""cProfile in every thread of a process, on each thread's CPU clock, summed by where the
time goes (a package, an attachguard module, a built-in): for bench/bench_throughput.py."""

from __future__ import annotations

import cProfile
import io
import pstats
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def profiled(scanner_factory: Callable[[], Any], files: list[Path]) -> tuple[pstats.Stats, float]:
    """The one-at-a-time pass under cProfile in every thread (the engines run in the
    scanner's pool), all threads' statistics together, and the process's CPU seconds during
    the pass. The clock is each thread's CPU time: other load on the machine does not inflate
    it, and waits (for clamd, for other threads) cost nothing; threads that C libraries start
    for themselves (onnxruntime's pool) are not profiled, only counted in the process's CPU."""
    profilers: list[cProfile.Profile] = []

    def start(*_: object) -> None:
        profiler = cProfile.Profile(time.thread_time)
        profilers.append(profiler)
        profiler.enable()  # replaces this hook for the rest of the thread

    threading.setprofile(start)  # threads started from now on (the new scanner's pool)
    main = cProfile.Profile(time.thread_time)
    profilers.append(main)
    try:
        with scanner_factory() as scanner:
            scanner.scan(files[0].read_bytes(), files[0].name)  # lazy loads: not this pass
            cpu = time.process_time()
            main.enable()
            for path in files:
                scanner.scan(path.read_bytes(), path.name)
            main.disable()
            cpu = time.process_time() - cpu
    finally:
        threading.setprofile(None)  # type: ignore[arg-type]
    return pstats.Stats(*profilers, stream=io.StringIO()), cpu


# A thread waiting for another (the pipeline for its engines, a pool thread for work): not
# work, left out (with the thread CPU clock, it costs next to nothing anyway).
_WAITS = ("'_queue.SimpleQueue' objects", "'_thread.lock' objects")
_SITE = "site-packages/"


def _where(file: str, function: str) -> str:
    """A profile entry's home: a package, an attachguard module, or a built-in's name."""
    if file == "~":
        if "'_socket.socket' objects" in function:
            return "socket (clamd INSTREAM: sending, waiting for the answer)"
        return function.strip("{}<>").replace("built-in method ", "")
    if _SITE in file:
        return file.split(_SITE, 1)[1].split("/", 1)[0]
    if "/attachguard/" in file:
        return "attachguard/" + file.rsplit("/attachguard/", 1)[1]
    return "python: " + file.rsplit("/", 1)[-1]


def own_time(profile: tuple[pstats.Stats, float], top: int) -> dict[str, Any]:
    """CPU seconds of own time by home (package, module) and the ``top`` functions."""
    stats, process_cpu = profile
    homes: dict[str, float] = {}
    engines: dict[str, float] = {}
    functions = []
    raw: dict[tuple[str, int, str], tuple[int, int, float, float, Any]] = stats.stats  # type: ignore[attr-defined]
    for (file, line, function), (_, calls, tottime, cumtime, _) in raw.items():
        if "/attachguard/engines/" in file and function in ("scan", "detect"):
            name = file.rsplit("/", 1)[1].removesuffix(".py")
            engines[f"{name}.{function}"] = engines.get(f"{name}.{function}", 0.0) + cumtime
        if any(wait in function for wait in _WAITS):
            continue
        home = _where(file, function)
        homes[home] = homes.get(home, 0.0) + tottime
        functions.append((tottime, calls, home if file == "~" else f"{home}:{line}({function})"))
    functions.sort(reverse=True)
    return {
        "total_s": sum(homes.values()),
        "process_cpu_s": process_cpu,
        "engines_s": dict(sorted(engines.items(), key=lambda kv: -kv[1])),
        "by_home_s": dict(sorted(homes.items(), key=lambda kv: -kv[1])[:top]),
        "functions": [{"s": t, "calls": n, "where": w} for t, n, w in functions[:top]],
    }


def render_profile(profile: dict[str, Any]) -> list[str]:
    total = profile["total_s"]
    lines = [
        "",
        f"profile of the one-at-a-time pass: {total:.1f} CPU s in Python threads, "
        f"{profile['process_cpu_s']:.1f} CPU s for the whole process (the rest: threads of C "
        "libraries, onnxruntime's pool, and the profiler)",
    ]
    for home, seconds in profile["by_home_s"].items():
        lines.append(f"  {seconds:>7.2f} s {seconds / total:>4.0%}  {home}")
    lines += ["", "  CPU s in each engine (cumulative, children included; Python threads only):"]
    lines += [f"  {seconds:>7.2f} s  {name}" for name, seconds in profile["engines_s"].items()]
    lines += ["", "  functions with the most own time:"]
    lines += [f"  {f['s']:>7.2f} s {f['calls']:>8}  {f['where']}" for f in profile["functions"]]
    return lines
