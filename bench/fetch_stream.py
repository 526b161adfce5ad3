"""Fetch CPU in the pipeline's process: main-process CPU per 170 KB gzip page through extractors.http.Fetcher.

Written for issue 20 to compare two trees' network streams (the hand-written asyncio ``_Stream`` against
httpcore's public AnyIO backend) where the whole-pipeline benchmark could not finish under a heavy shared
load: the page server runs in its own process, so only the fetch path's CPU is counted. Run it with each
tree's own interpreter, alternating, and compare medians (BENCHMARKS.md, "Issue 20")::

    nice -n 10 .venv/bin/python bench/fetch_stream.py 300
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from extractors.http import Fetcher, FetchPolicy

SERVER = r"""
import gzip
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
body = gzip.compress(b"<html><body>" + b"<p>trade tariff steel quota talks</p>" * 4600 + b"</body></html>")
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
s = ThreadingHTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
"""


async def main(pages: int) -> None:
    proc = subprocess.Popen([sys.executable, "-c", SERVER], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    port = int(proc.stdout.readline())
    policy = FetchPolicy(
        allow_private_networks=("127.0.0.0/8",), per_host_concurrency=8, respect_robots=False
    )
    try:
        async with Fetcher(policy) as fetcher:
            await asyncio.gather(*(fetcher.fetch_page(f"http://127.0.0.1:{port}/w") for _ in range(4)))
            cpu, wall = time.process_time(), time.monotonic()
            slots = asyncio.Semaphore(16)

            async def one(i: int) -> None:
                async with slots:
                    response = await fetcher.fetch_page(f"http://127.0.0.1:{port}/p{i}")
                    assert len(response.content) > 150_000

            await asyncio.gather(*(one(i) for i in range(pages)))
            cpu, wall = time.process_time() - cpu, time.monotonic() - wall
    finally:
        proc.kill()
        proc.wait()
    print(json.dumps({"pages": pages, "cpu_ms_per_page": 1000 * cpu / pages, "pages_per_s": pages / wall}))


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 300))
