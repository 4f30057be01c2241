"""Load on the web API over loopback: many verify requests from concurrent clients (issue #8).

    python benchmarks/bench_web.py [--requests 200] [--clients 8]

Starts `likeness serve` as its own process on a free loopback port, generates one signed clip through the
API, then sends `--requests` verify uploads of it from `--clients` threads. Reports errors, p50/p95/max
latency, throughput, the server's peak resident memory (VmHWM) and its temporary storage before and after.
"""
from __future__ import annotations

import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.results import bench_parser, machine, write_section  # noqa: E402


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    ap = bench_parser(__doc__)
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--clients", type=int, default=8)
    a = ap.parse_args()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([sys.executable, "-m", "likeness", "serve", "--port", str(port)],
                              cwd=Path(__file__).resolve().parents[1], stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):
            try:
                requests.get(f"{url}/api/v1/health", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        with open(a.data / "portraits" / "lp_s9.jpg", "rb") as img, open(a.data / "speech" / "vrt_1.wav", "rb") as snd:
            job = requests.post(f"{url}/api/v1/generate", files={"image": ("m.jpg", img), "audio": ("s.wav", snd)},
                                data={"size": "256"}).json()
        while (j := requests.get(f"{url}/api/v1/jobs/{job['id']}").json())["state"] not in ("done", "error"):
            time.sleep(0.2)
        clip = requests.get(f"{url}/api/v1/jobs/{job['id']}/video").content
        storage_before = requests.get(f"{url}/api/v1/health").json()["storage_bytes"]

        def one(_):
            t = time.perf_counter()
            r = requests.post(f"{url}/api/v1/verify", files={"file": ("clip.mp4", clip)})
            return time.perf_counter() - t, r.status_code, r.status_code == 200 and r.json()["verdict"] == "verified"

        t0 = time.perf_counter()
        with ThreadPoolExecutor(a.clients) as pool:
            results = list(pool.map(one, range(a.requests)))
        wall = time.perf_counter() - t0
        storage_after = requests.get(f"{url}/api/v1/health").json()["storage_bytes"]
        lat = np.array([r[0] for r in results]) * 1000
        errors = sum(r[1] != 200 for r in results)
        wrong = sum(not r[2] for r in results)
        peak = peak_rss_mb(server.pid)
    finally:
        server.terminate()
        server.wait(10)
    body = "\n".join([
        "## Web API under load (issue #8)", "",
        f"Command: `python benchmarks/bench_web.py --requests {a.requests} --clients {a.clients}`. Machine: {machine()}.",
        f"`likeness serve` in its own process on loopback; {a.requests} `POST /api/v1/verify` uploads of a signed, watermarked "
        f"{len(clip) / 1e3:.0f} kB clip (generated through the API, {j['result']['duration']:.1f} s at 256 px) from "
        f"{a.clients} concurrent clients; verify runs at most 2 at a time (the rest wait). Temp storage holds the generate "
        "job's inputs and output (kept until their TTL); every verify upload is gone when its response is sent.", "",
        "| requests | errors | wrong verdicts | p50 ms | p95 ms | max ms | requests/s | server peak RSS MB | temp storage before -> after |",
        "|---|---|---|---|---|---|---|---|---|",
        f"| {a.requests} | {errors} | {wrong} | {np.percentile(lat, 50):.0f} | {np.percentile(lat, 95):.0f} | {lat.max():.0f} | "
        f"{a.requests / wall:.1f} | {peak:.0f} | {storage_before} B -> {storage_after} B |",
    ])
    write_section("web", body)
    print(body)


if __name__ == "__main__":
    main()
