"""OCR beside other work: onnxruntime's threads spinning between runs (its default, the
baseline) against sleeping (`ocr_local._calm_sessions`), on a quiet machine and beside busy
processes standing for clamd and the other scans.

Builds card photos, chat screenshots and receipt photos (bench_sensitive's builders, seeded),
reads each with both backends in turn (alternating which goes first), and prints per setting and
load the median and p90 wall time of a picture, the CPU seconds of the reading process and the
work the busy processes got done meanwhile (loop rounds a second: what the OCR left them). Not a
test: it asserts nothing.

    .venv/bin/python bench/bench_ocr_threads.py [--pictures 12] [--busy 0 1 2]
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import statistics
import time
from typing import Any

from bench_sensitive import KINDS
from common import percentile

from attachguard.sensitive.ocr import OcrPicture
from attachguard.sensitive.ocr_local import LocalOcr

_KINDS = ("card_photo", "screenshot", "receipt_photo")


def _busy(stop: Any, rounds: Any) -> None:
    """Loop until ``stop`` is set, counting rounds of a little arithmetic."""
    done = 0
    while not stop.is_set():
        for _ in range(20_000):
            done += 1
        with rounds.get_lock():
            rounds.value += 1


def _pictures(count: int, seed: int) -> list[OcrPicture]:
    rng = random.Random(seed)
    made = [KINDS[_KINDS[i % len(_KINDS)]](rng) for i in range(count)]
    return [OcrPicture(sample.data, sample.label, 50_000_000) for sample in made]


def _read_all(backend: LocalOcr, pictures: list[OcrPicture]) -> tuple[list[float], float]:
    """Wall seconds of each picture, CPU seconds of the whole (this process, every thread)."""
    walls = []
    cpu = time.process_time()
    for picture in pictures:
        began = time.perf_counter()
        backend.read(picture, time.monotonic() + 60)
        walls.append(time.perf_counter() - began)
    return walls, time.process_time() - cpu


def _under_load(busy: int, read: Any) -> tuple[Any, float]:
    """``read()`` beside ``busy`` looping processes; its answer and their rounds a second."""
    stop, rounds = multiprocessing.Event(), multiprocessing.Value("q", 0)
    workers = [multiprocessing.Process(target=_busy, args=(stop, rounds)) for _ in range(busy)]
    for worker in workers:
        worker.start()
    time.sleep(0.3 if busy else 0)
    with rounds.get_lock():
        rounds.value = 0
    began = time.perf_counter()
    answer = read()
    took = time.perf_counter() - began
    with rounds.get_lock():
        done = rounds.value
    stop.set()
    for worker in workers:
        worker.join()
    return answer, done / took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pictures", type=int, default=12)
    parser.add_argument("--busy", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    pictures = _pictures(args.pictures, args.seed)
    backends = {"spinning (default)": LocalOcr(spin=True), "sleeping (ours)": LocalOcr()}
    for backend in backends.values():
        _read_all(backend, pictures[:1])  # models loaded, first-call costs paid
    print(f"{len(pictures)} pictures ({', '.join(_KINDS)}), seed {args.seed}")
    heads = ("p50 ms", "p90 ms", "CPU s", "busy rounds/s")
    print(f"{'busy':>4}  {'threads':<20} " + " ".join(f"{h:>{max(7, len(h))}}" for h in heads))
    for busy in args.busy:
        names = list(backends)
        results: dict[str, list[tuple[list[float], float, float]]] = {n: [] for n in names}
        for turn in range(2):  # each setting once first, once second
            for name in names if turn == 0 else reversed(names):
                (walls, cpu), rate = _under_load(
                    busy, lambda b=backends[name]: _read_all(b, pictures)
                )
                results[name].append((walls, cpu, rate))
        for name in names:
            walls = [w for run in results[name] for w in run[0]]
            cpu = statistics.mean(run[1] for run in results[name])
            rate = statistics.mean(run[2] for run in results[name])
            print(
                f"{busy:>4}  {name:<20} {percentile(walls, 50) * 1000:7.0f} "
                f"{percentile(walls, 90) * 1000:7.0f} {cpu:6.2f} {rate:14.0f}"
            )


if __name__ == "__main__":
    main()
