"""Benchmark: a 20 MB PDF uploaded through the web door stays under 60 MB of extra memory
in the server (docs/evidence.md#memory).

Starts the app in its own process (werkzeug's server, one process, on a loopback port)
on a fresh SQLite database with the district demo, signs in as an assessor and POSTs a
PDF just under ``EVIDENCE_MAX_BYTES`` to ``/evidence/attach`` for one score. The server's
peak resident memory is reset (``/proc/<pid>/clear_refs``) after a warm-up upload and
read after the measured one (``VmHWM``); the figure is that peak minus the resident
memory just before. Run from the repository root (Linux only)::

    .venv/bin/python bench/evidence.py
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
TARGET_MB = 60
SIZE = 20 * 1024 * 1024 - 4096
PASSWORD = "bench-evidence-password"


def _pdf(size: int, seed: bytes) -> bytes:
    head = b"%PDF-1.4\n%" + seed + b"\n"
    tail = b"\n%%EOF\n"
    filler = hashlib.sha256(seed).digest() * ((size - len(head) - len(tail)) // 32 + 1)
    return head + filler[: size - len(head) - len(tail)] + tail


def _kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} for {pid}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    if not found:
        raise SystemExit("no csrf_token on the page")
    return found.group(1)


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="ledger-evidence-bench-"))
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{work / 'bench.sqlite3'}",
        "SECRET_KEY": "bench-evidence",
        "EVIDENCE_STORE": str(work / "evidence"),
        "FLASK_APP": "wsgi.py",
    }
    flask = [sys.executable, "-m", "flask"]
    print("preparing: init-db, seed-demo (district), an assessor …", flush=True)
    subprocess.run([*flask, "init-db"], cwd=ROOT, env=env, check=True, capture_output=True)
    subprocess.run([*flask, "seed-demo"], cwd=ROOT, env=env, check=True, capture_output=True)
    subprocess.run(
        [*flask, "create-user", "bench_assessor", "--role", "assessor", "--password-stdin"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        input=PASSWORD + "\n",
        text=True,
    )
    with sqlite3.connect(work / "bench.sqlite3") as conn:
        score_id = conn.execute("SELECT min(id) FROM score").fetchone()[0]
    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"from wsgi import app; app.run(host='127.0.0.1', port={port}, threaded=False)",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                requests.get(base + "/login", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.2)
        session = requests.Session()
        token = _csrf(session.get(base + "/login").text)
        signed = session.post(
            base + "/login",
            data={"username": "bench_assessor", "password": PASSWORD, "csrf_token": token},
            allow_redirects=False,
        )
        if signed.status_code != 302:
            raise SystemExit(f"sign-in failed: {signed.status_code}")
        token = _csrf(session.get(base + "/admin/").text)

        def upload(data: bytes, name: str) -> requests.Response:
            return session.post(
                base + "/evidence/attach",
                data={
                    "target_type": "score",
                    "target_id": str(score_id),
                    "csrf_token": token,
                    "next": "/admin/",
                },
                files={"file": (name, data, "application/pdf")},
                allow_redirects=False,
            )

        warm = upload(_pdf(256 * 1024, b"warm"), "warm.pdf")
        if warm.status_code != 303:
            raise SystemExit(f"warm-up upload failed: {warm.status_code}")
        data = _pdf(SIZE, b"measured")
        before = _kb(server.pid, "VmRSS")
        Path(f"/proc/{server.pid}/clear_refs").write_text("5")  # reset the peak (VmHWM)
        start = time.perf_counter()
        answer = upload(data, "二十兆验收报告.pdf")
        took = time.perf_counter() - start
        peak = _kb(server.pid, "VmHWM")
        stored = work / "evidence" / hashlib.sha256(data).hexdigest()[:2]
        ok = answer.status_code == 303 and stored.is_dir()
        extra_mb = (peak - before) / 1024
        print()
        print(f"{'measure':<44} {'figure':>12} {'target':>10}  result")
        print(
            f"{'20 MB PDF upload: extra server memory':<44} {extra_mb:>9.1f} MB "
            f"{'< ' + str(TARGET_MB) + ' MB':>10}  {'ok' if extra_mb < TARGET_MB else 'OVER'}"
        )
        print(f"{'  upload wall time (loopback)':<44} {took:>10.2f} s {'':>10}")
        print(f"{'  server RSS before / peak':<44} {before / 1024:>6.0f}/{peak / 1024:.0f} MB")
        print(f"{'  stored and answered 303':<44} {str(ok):>12}")
        return 0 if ok and extra_mb < TARGET_MB else 1
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
