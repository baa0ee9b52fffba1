"""民主测评 under load (docs/surveys.md#load): 300 voters over 30 seconds, 8 at a time,
against a real server on the loopback address, as ``make run`` serves it (gunicorn).

Each voter opens the slip's address (``GET /vote?code=…``), posts the ballot confirmed and
follows to the thank-you page; one voter in ten posts the same form a second time (a
double tap), which must be refused. Afterwards the database must hold exactly one ballot
per voter, every code spent once, one ``survey.vote`` event per ballot, and the tally's
counts must add up. Prints the figures; exits 1 when any check fails.

    .venv/bin/python bench/surveys.py [--voters 300] [--seconds 30] [--clients 8]
                                      [--workers 2] [--database postgresql+psycopg://…]

Bounded and local: the server binds 127.0.0.1 only, the run stops after the voters, the
server is stopped by its own process id, and the SQLite database lives in a temporary
directory (a PostgreSQL database given with ``--database`` is emptied first: never point
it at a ledger in use).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
from sqlalchemy import create_engine, func, select, text  # noqa: E402

from evaluation import create_app  # noqa: E402
from evaluation.core.writing import SystemActor  # noqa: E402
from evaluation.history import records  # noqa: E402
from evaluation.surveys import operations as surveys  # noqa: E402
from models import Cadre, HistoryEvent, Survey, SurveyBallot, SurveyCode, Unit, db  # noqa: E402
from models.types import utcnow  # noqa: E402

ACTOR = SystemActor("bench")
SECRET = "bench-survey-secret"
GROUPS = (("班子成员", "40"), ("中层干部", "30"), ("群众代表", "30"))
CADRES = ("张建国", "李卫东", "王秀英", "陈志强", "刘海涛", "黄丽华", "周振宇", "吴晓梅")
OPTIONS = ("excellent", "competent", "basic", "incompetent")
CAP = 3


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def reset_postgresql(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def prepare(url: str, voters: int) -> tuple[int, list[str]]:
    """An empty ledger with one open survey of eight cadres and ``voters`` codes."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET})
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        town = records.create(
            ACTOR, Unit, {"code": "445203100000", "name": "云路镇", "level": "town", "kind": "镇"}
        )
        cadres = [
            records.create(ACTOR, Cadre, {"name": n, "position": "镇干部", "unit": town})
            for n in CADRES
        ]
        now = utcnow()
        survey = surveys.create_survey(
            ACTOR, title="压力测试民主测评", target_kind="cadre",
            opens_at=now - timedelta(hours=1), closes_at=now + timedelta(hours=2),
            groups=[(g, w, 0) for g, w in GROUPS], excellent_cap=CAP,
            targets=[{"cadre": c, "report": f"{c.name}的述职：" + "一年来的工作。" * 40}
                     for c in cadres],
        )  # fmt: skip
        surveys.publish(ACTOR, survey)
        shares = [voters // 5, voters * 3 // 10]
        shares.append(voters - sum(shares))
        codes: list[str] = []
        for (group, _), count in zip(GROUPS, shares, strict=True):
            made, _ = surveys.issue_codes(ACTOR, survey, group, count)
            codes += made
        survey_id = survey.id
        db.session.remove()
        db.engine.dispose()
    return survey_id, codes


def start_server(url: str, port: int, workers: int, log: Path) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": SECRET}
    command = [
        str(ROOT / ".venv/bin/gunicorn"), "--no-control-socket", "--workers", str(workers),
        "--bind", f"127.0.0.1:{port}", "--access-logfile", "-", "wsgi:app",
    ]  # fmt: skip
    handle = log.open("w")
    server = subprocess.Popen(  # noqa: S603  # a fixed command on the loopback address
        command, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/vote", timeout=10).status_code == 200:
                return server
        except requests.RequestException:
            time.sleep(0.3)
    stop_server(server)
    raise SystemExit(f"the server did not answer within 60 s; see {log}")


def stop_server(server: subprocess.Popen) -> None:
    os.killpg(server.pid, signal.SIGTERM)  # gunicorn and its own workers only
    try:
        server.wait(20)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


class Voter:
    """One rater with one slip."""

    def __init__(self, base: str, code: str, rng: random.Random, double_tap: bool):
        self.base, self.code, self.rng, self.double_tap = base, code, rng, double_tap
        self.timings: list[tuple[str, float, int]] = []
        self.choices: dict[str, str] = {}
        self.cast = False
        self.second_refused: bool | None = None

    def _timed(self, what: str, call):
        started = time.perf_counter()
        response = call()
        self.timings.append((what, time.perf_counter() - started, response.status_code))
        return response

    def run(self) -> None:
        with requests.Session() as session:
            page = self._timed(
                "ballot", lambda: session.get(f"{self.base}/vote", params={"code": self.code})
            )
            if page.status_code != 200:
                return
            html = page.text
            token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
            survey = re.search(r'name="survey" value="(\d+)"', html).group(1)
            targets = sorted(set(re.findall(r'name="t(\d+)"', html)))
            excellent = 0
            for target in targets:
                option = self.rng.choice(OPTIONS)
                if option == "excellent":
                    if excellent >= CAP:
                        option = "competent"
                    excellent += option == "excellent"
                self.choices[target] = option
            form = {"csrf_token": token, "code": self.code, "survey": survey, "confirmed": "1"}
            form |= {f"t{k}": v for k, v in self.choices.items()}
            cast = self._timed(
                "cast", lambda: session.post(f"{self.base}/vote", data=form, allow_redirects=False)
            )
            self.cast = cast.status_code == 303
            if self.cast:
                self._timed("thanks", lambda: session.get(f"{self.base}/vote/thanks"))
            if self.double_tap:
                again = self._timed(
                    "again",
                    lambda: session.post(f"{self.base}/vote", data=form, allow_redirects=False),
                )
                self.second_refused = again.status_code == 409


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voters", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (make run: 2)")
    parser.add_argument("--database", help="a PostgreSQL URL to use (emptied first)")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    if not (1 <= args.voters <= 2000 and 1 <= args.clients <= 32 and 0 < args.seconds <= 600):
        parser.error("bounded: at most 2,000 voters, 32 clients, 600 seconds")

    work = Path(tempfile.mkdtemp(prefix="survey-bench-"))
    url = args.database or f"sqlite:///{work / 'bench.sqlite3'}"
    if args.database:
        reset_postgresql(url)
    started = time.perf_counter()
    survey_id, codes = prepare(url, args.voters)
    print(
        f"prepared: survey {survey_id}, {len(codes)} codes ({time.perf_counter() - started:.1f} s)"
    )
    port = free_port()
    server = start_server(url, port, args.workers, work / "server.log")
    base = f"http://127.0.0.1:{port}"
    rng = random.Random(args.seed)  # noqa: S311  # ballots drawn for a benchmark
    voters = [Voter(base, code, random.Random(rng.random()), i % 10 == 0)  # noqa: S311
              for i, code in enumerate(codes)]  # fmt: skip
    gap = args.seconds / len(voters)
    begin = time.monotonic()
    lock = threading.Lock()
    errors: list[str] = []

    def arrive(index: int) -> None:
        # Voters arrive evenly over the run; a voter waits for a free client (a phone).
        delay = begin + index * gap - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        try:
            voters[index].run()
        except Exception as error:  # noqa: BLE001  # counted and shown below
            with lock:
                errors.append(f"voter {index}: {error!r}")

    try:
        with ThreadPoolExecutor(max_workers=args.clients) as pool:
            list(pool.map(arrive, range(len(voters))))
        elapsed = time.monotonic() - begin
    finally:
        stop_server(server)

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET})
    with app.app_context():
        ballots = db.session.scalar(select(func.count()).select_from(SurveyBallot))
        spent = db.session.scalar(select(func.count()).where(SurveyCode.spent))
        events = db.session.scalar(select(func.count()).where(HistoryEvent.action == "survey.vote"))
        survey = db.session.get(Survey, survey_id)
        result = surveys.close(ACTOR, survey)
        counted = [sum(row["counts"].values()) for row in result["targets"]]
        expected: dict[str, dict[str, int]] = {}
        for voter in voters:
            if voter.cast:
                for target, option in voter.choices.items():
                    expected.setdefault(target, dict.fromkeys(OPTIONS, 0))[option] += 1
        tally_ok = all(
            row["counts"] == expected.get(str(row["id"]), dict.fromkeys(OPTIONS, 0))
            for row in result["targets"]
        )
        db.session.remove()
        db.engine.dispose()

    timings = [t for v in voters for t in v.timings]
    server_errors = [t for t in timings if t[2] >= 500]
    cast = sum(v.cast for v in voters)
    taps = [v.second_refused for v in voters if v.double_tap]
    print(f"database: {'PostgreSQL' if args.database else 'SQLite'}; gunicorn workers: "
          f"{args.workers}; clients: {args.clients}")  # fmt: skip
    print(f"voters: {len(voters)} over {elapsed:.1f} s "
          f"({len(timings) / elapsed:.1f} requests/s, {cast / elapsed:.1f} ballots/s)")  # fmt: skip
    for what in ("ballot", "cast", "thanks", "again"):
        times = [t[1] * 1000 for t in timings if t[0] == what]
        if times:
            print(f"  {what:7} n={len(times):4}  median {statistics.median(times):6.1f} ms  "
                  f"p95 {percentile(times, 0.95):6.1f} ms  max {max(times):6.1f} ms")  # fmt: skip
    checks = {
        "every voter's ballot stored (303 to the thanks page)": cast == len(voters),
        "ballots in the database = voters": ballots == len(voters),
        "codes spent = voters": spent == len(voters),
        "survey.vote events = ballots": events == ballots,
        "no 5xx": not server_errors,
        "no client errors": not errors,
        f"every double tap refused ({len(taps)})": all(taps),
        "tally counts = the ballots each voter cast": tally_ok
        and all(n == len(voters) for n in counted),
    }
    for check, ok in checks.items():
        print(f"  [{'ok' if ok else 'FAIL'}] {check}")
    for line in errors[:5]:
        print("   ", line)
    print(f"(server log: {work / 'server.log'})")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
