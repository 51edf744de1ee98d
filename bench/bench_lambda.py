"""Benchmark the Connect Lambda path on this machine.

1. Handler latency per event, S3 on loopback (moto's server; real HTTP), zip-variant policy
   (no ClamAV, moderation off: Rekognition is not reachable from here).
2. Lambda cold start: a fresh Python process imports the handler and answers its first event
   (no ClamAV) — the figure Lambda adds to the first upload after a scale-out.
3. Local moderation (NudeNet) latency per image, warm, on scikit-image's sample photos.

Run: .venv/bin/python bench/bench_lambda.py [--rounds N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from common import free_port

ROOT = Path(__file__).resolve().parent.parent
POLICY = ROOT / "deploy/lambda-policy.yaml"
ENV = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": "us-east-1",
    "ATTACHGUARD_POLICY": str(POLICY),
    "ATTACHGUARD_MODERATION": "none",
}

COLD = """
import json, sys, time
t0 = time.perf_counter()
from attachguard.connect.handler import handler
t1 = time.perf_counter()
class Ctx:
    def get_remaining_time_in_millis(self): return 55000
answer = handler(json.loads(sys.argv[1]), Ctx())
t2 = time.perf_counter()
print(json.dumps({"import_ms": (t1 - t0) * 1000, "first_event_ms": (t2 - t1) * 1000,
                  "answer": answer}), file=sys.stderr)
"""


def event(bucket: str, key: str, name: str, size: int) -> dict[str, object]:
    location = {"Bucket": bucket, "Key": key, "Arn": f"arn:aws:s3:::{bucket}/{key}"}
    return {
        "Version": "1.0",
        "InstanceId": "bench",
        "File": {
            "FileId": f"bench-{name}",
            "FileCreationTime": 0,
            "FileName": name,
            "FileSizeInBytes": size,
            "FileLocation": {"S3Location": location},
        },
    }


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()

    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    os.environ.update(ENV)
    os.environ["AWS_ENDPOINT_URL_S3"] = f"http://127.0.0.1:{port}"
    try:
        import io
        import logging

        import boto3
        from aws_lambda_powertools import Logger

        from attachguard import demo, samples
        from attachguard.connect.handler import ConnectScanner, Settings

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket="bench")
        rng_photo = samples.jpeg(samples.photo(1600, 1200, seed=1))
        files = {
            "receipt.pdf": samples.pdf([demo.RECEIPT]),
            "damaged-product.jpg": rng_photo,
            "return-form.docx": demo.demo_samples()["return-form.docx"],
            "notes.txt": samples.transcript(40, seed=2),
        }
        events = {}
        for name, data in files.items():
            key = f"connect/bench/Attachments/chat/2026/03/14/id_{name}"
            s3.put_object(Bucket="bench", Key=key, Body=data)
            events[name] = event("bench", key, name, len(data))

        runner = ConnectScanner(
            Settings.from_env(),
            s3=s3,
            logger=Logger(service="bench", stream=io.StringIO()),
            metrics=False,
        )
        print(f"1. handler latency per event, S3 on loopback (moto server), {args.rounds} rounds")
        for name, ev in events.items():
            runner(ev)  # warm
            times = []
            for _ in range(args.rounds):
                start = time.perf_counter()
                answer = runner(ev)
                times.append((time.perf_counter() - start) * 1000)
            print(
                f"   {name:22} {len(files[name]):>9,} B  median {statistics.median(times):7.1f} ms"
                f"  p95 {pct(times, 0.95):7.1f} ms  -> {answer['Status']}"
            )

        print("2. Lambda cold start (new process: import + first event, no ClamAV)")
        for _ in range(3):
            start = time.perf_counter()
            proc = subprocess.run(
                [sys.executable, "-c", COLD, json.dumps(events["receipt.pdf"])],
                capture_output=True,
                text=True,
                env={**os.environ},
                timeout=120,
            )
            wall = (time.perf_counter() - start) * 1000
            line = [x for x in proc.stderr.splitlines() if x.startswith("{")][-1]
            got = json.loads(line)
            print(
                f"   import {got['import_ms']:7.1f} ms"
                f" + first event {got['first_event_ms']:7.1f} ms"
                f" = {got['import_ms'] + got['first_event_ms']:7.1f} ms"
                f" (process wall {wall:7.1f} ms) -> {got['answer']['Status']}"
            )
    finally:
        server.stop()

    print("3. local moderation (NudeNet 320n), warm, per image")
    try:
        import skimage.data as skdata

        from attachguard.moderation import Picture
        from attachguard.moderation.local import LocalBackend
    except ImportError as exc:
        print(f"   skipped: {exc}")
        return
    backend = LocalBackend()
    start = time.perf_counter()
    backend.detector()
    print(f"   model load {(time.perf_counter() - start) * 1000:7.1f} ms")
    for name in ("astronaut.png", "coffee.png", "chelsea.png", "rocket.jpg"):
        data = (Path(skdata.data_dir) / name).read_bytes()
        picture = Picture(data, "png", 50_000_000)
        backend.detect(picture, 50, 0)
        times = []
        for _ in range(args.rounds):
            start = time.perf_counter()
            backend.detect(picture, 50, 0)
            times.append((time.perf_counter() - start) * 1000)
        print(
            f"   {name:22} median {statistics.median(times):6.1f} ms"
            f"  p95 {pct(times, 0.95):6.1f} ms"
        )


if __name__ == "__main__":
    main()
