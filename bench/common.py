"""What every benchmark shares: the bench database, timing, and the printed rows.

The bench database is the province of ``seed_province`` with its history topped up to
1,000,000 events (``bench.filler`` events appended in batches of 50,000 through
``history.append_many``, so the chain stays valid). It lives in a SQLite file in a
temporary directory, or in the PostgreSQL database named by ``DATABASE_URL``. Building
it takes minutes; ``--keep`` keeps it (SQLite: ``$TMPDIR/ledger-bench/bench.sqlite3``)
and reuses it on the next run.

A PostgreSQL database is only ever reset when it is empty or was built by these
benchmarks (it then holds the setting ``bench_database``); any other is refused.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, func, inspect, select, text  # noqa: E402

from evaluation import create_app  # noqa: E402
from evaluation.core.writing import SystemActor, writing  # noqa: E402
from evaluation.demo import province  # noqa: E402
from evaluation.history import chain as history  # noqa: E402
from evaluation.history.chain import PendingEvent  # noqa: E402
from models import HistoryEvent, Setting, db  # noqa: E402

#: The history size docs/rules.md#scale-targets measures export and verify over.
MILLION = 1_000_000
FILLER_BATCH = 50_000
BENCH_SETTING = "bench_database"
BENCH_ACTOR = SystemActor("bench")
SQLITE_FILE = "bench.sqlite3"
#: Every demo user of the bench database gets this password (the database is a throwaway).
BENCH_PASSWORD = "bench-password-2026"


@dataclass
class Row:
    """One printed figure: what was measured, its target, and the floor beside it."""

    figure: str
    measured: str
    target: str
    floor: str
    ok: bool | None
    note: str = ""
    #: "database": measured on each database; "engine": the same whatever the database
    #: (no database involved); "sqlite": SQLite only (bench/databases.py).
    scope: str = "database"


def print_rows(rows: list[Row], *, title: str = "") -> None:
    """Print rows as a fixed-width table (figure, measured, target, floor, ok)."""
    if title:
        print(title)
    widths = [
        max([len("figure")] + [_width(r.figure) for r in rows]),
        max([len("measured")] + [_width(r.measured) for r in rows]),
        max([len("target")] + [_width(r.target) for r in rows]),
        max([len("floor (same run)")] + [_width(r.floor) for r in rows]),
    ]
    head = ["figure", "measured", "target", "floor (same run)"]
    print(" | ".join(_pad(h, w) for h, w in zip(head, widths, strict=True)) + " | ok")
    print("-+-".join("-" * w for w in widths) + "-+---")
    for r in rows:
        cells = [r.figure, r.measured, r.target, r.floor]
        ok = "—" if r.ok is None else ("yes" if r.ok else "NO")
        line = " | ".join(_pad(c, w) for c, w in zip(cells, widths, strict=True)) + f" | {ok}"
        print(line + (f"  ({r.note})" if r.note else ""))
    print(flush=True)


def _width(text: str) -> int:
    # CJK characters take two columns in a terminal.
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def seconds(value: float) -> str:
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def best_of(function: Callable[[], object], runs: int) -> float:
    """Return the best wall time of ``runs`` calls."""
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def best_cpu_of(function: Callable[[], object], runs: int) -> float:
    """Return the least CPU time of ``runs`` calls (what an idle machine's wall time would be)."""
    best = float("inf")
    for _ in range(runs):
        start = time.process_time()
        function()
        best = min(best, time.process_time() - start)
    return best


def median_of(function: Callable[[], object], runs: int) -> float:
    """Return the median wall time of ``runs`` calls."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options every benchmark takes."""
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the bench database and reuse it next time (SQLite: in $TMPDIR/ledger-bench)",
    )
    parser.add_argument(
        "--events", type=int, default=MILLION, help="history size for export/verify"
    )
    parser.add_argument("--seed", type=int, default=2026)


# --- the bench database -----------------------------------------------------------------


@dataclass
class BenchDatabase:
    url: str
    folder: Path
    keep: bool

    @property
    def dialect(self) -> str:
        return "postgresql" if self.url.startswith("postgresql") else "sqlite"

    def app(self, **config):
        """Return an app on the bench database (production settings, fast test hashing off)."""
        return create_app(
            {
                "SQLALCHEMY_DATABASE_URI": self.url,
                "SECRET_KEY": "bench-secret-key",
                "WTF_CSRF_ENABLED": False,
                **config,
            }
        )

    def environment(self) -> dict[str, str]:
        """Environment for a ``flask`` or ``gunicorn`` subprocess on the bench database."""
        env = dict(os.environ)
        env.update(
            {
                "DATABASE_URL": self.url,
                "SECRET_KEY": "bench-secret-key",
                "FLASK_APP": "wsgi.py",
                "PYTHONPATH": str(ROOT),
            }
        )
        return env

    def cleanup(self) -> None:
        """Remove the working folder (and so the SQLite file) unless ``--keep`` was given."""
        if self.keep and self.dialect == "sqlite":
            return
        shutil.rmtree(self.folder, ignore_errors=True)


def open_database(keep: bool, url: str | None = None) -> BenchDatabase:
    """Return the bench database: ``url`` (``""``: SQLite) when given, else ``DATABASE_URL``
    when set, else a SQLite file."""
    if url is None:
        url = os.environ.get("DATABASE_URL", "")
    if url:
        folder = Path(tempfile.mkdtemp(prefix="ledger-bench-"))
        return BenchDatabase(url, folder, keep)
    if keep:
        folder = Path(tempfile.gettempdir()) / "ledger-bench"
        folder.mkdir(exist_ok=True)
    else:
        folder = Path(tempfile.mkdtemp(prefix="ledger-bench-"))
    return BenchDatabase(f"sqlite:///{folder / SQLITE_FILE}", folder, keep)


def _is_bench_database(url: str) -> bool | None:
    """True when built by the benchmarks, None when empty, False when it holds other data."""
    engine = create_engine(url)
    try:
        names = inspect(engine).get_table_names()
        if not names:
            return None
        if "setting" not in names:
            return False
        with engine.connect() as conn:
            value = conn.execute(
                text("SELECT value FROM setting WHERE key = :key"), {"key": BENCH_SETTING}
            ).scalar()
        return value == "1"
    finally:
        engine.dispose()


def _reset(bench: BenchDatabase) -> None:
    if bench.dialect == "sqlite":
        for path in bench.folder.glob(SQLITE_FILE + "*"):
            path.unlink()
        return
    state = _is_bench_database(bench.url)
    if state is False:
        raise SystemExit(
            "DATABASE_URL names a database that holds other data; the benchmarks only reset "
            "an empty database or one they built. Point DATABASE_URL at an empty database."
        )
    engine = create_engine(bench.url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def ready(bench: BenchDatabase, events: int) -> bool:
    """Tell whether the database is a complete bench database (seeded, history topped up)."""
    if bench.dialect == "sqlite" and not (bench.folder / SQLITE_FILE).exists():
        return False
    if not _is_bench_database(bench.url):
        return False
    app = bench.app()
    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(HistoryEvent))
        db.engine.dispose()
    return count >= events


def build(bench: BenchDatabase, *, events: int, seed: int) -> None:
    """Seed the province and top the history up to ``events`` events, showing progress."""
    started = time.perf_counter()
    _reset(bench)
    app = bench.app()
    with app.app_context():
        db.create_all()
        with writing(BENCH_ACTOR):
            db.session.add(Setting(key=BENCH_SETTING, value="1"))
            history.append(
                BENCH_ACTOR, "setting.set", "setting", BENCH_SETTING, after={"value": "1"}
            )
        result = province.seed_province(
            seed=seed,
            progress=Progress("seed-demo province"),
            password_factory=lambda: BENCH_PASSWORD,
        )
        print(
            "  seeded: "
            + ", ".join(f"{k} {v:,}" for k, v in result.counts.items() if k != "seconds"),
            flush=True,
        )
        top_up_history(events)
        province.refresh_statistics()
        db.session.remove()
        db.engine.dispose()
    print(f"  bench database built in {seconds(time.perf_counter() - started)}", flush=True)


def top_up_history(events: int) -> None:
    """Append filler events (score-sized) until the history holds ``events`` events."""
    have = db.session.scalar(select(func.count()).select_from(HistoryEvent))
    missing = events - have
    report = Progress("history top-up")
    done = 0
    while done < missing:
        size = min(FILLER_BATCH, missing - done)
        with writing(BENCH_ACTOR):
            history.append_many(
                BENCH_ACTOR,
                [
                    PendingEvent(
                        "bench.filler",
                        "score",
                        f"44{(done + k) % 10**10:010d}/A{k % 19 + 1:02d}",
                        period="BENCH",
                        after={"value": f"{(done + k) % 997}.5", "note": ""},
                    )
                    for k in range(size)
                ],
            )
        done += size
        report("events", done, missing)


class Progress:
    """Print ``stage n/total`` lines, at most every two seconds per stage (and at the end)."""

    def __init__(self, title: str):
        self.title = title
        self.last = 0.0
        self.started = time.perf_counter()

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.perf_counter()
        if done >= total or now - self.last >= 2:
            self.last = now
            elapsed = now - self.started
            print(f"  [{elapsed:6.1f}s] {self.title}: {stage} {done:,}/{total:,}", flush=True)


def prepare(arguments, url: str | None = None) -> BenchDatabase:
    """Open the bench database (``url`` as for ``open_database``), building it unless
    ``--keep`` finds it ready."""
    bench = open_database(arguments.keep, url)
    where = bench.url if bench.dialect == "postgresql" else bench.folder / SQLITE_FILE
    if arguments.keep and ready(bench, arguments.events):
        print(f"reusing bench database {where}", flush=True)
        return bench
    print(f"building bench database {where} (province + {arguments.events:,} events)", flush=True)
    build(bench, events=arguments.events, seed=arguments.seed)
    return bench


def main_for(description: str, measure: Callable[[BenchDatabase], list[Row]]) -> None:
    """Run one benchmark module alone: the common options, the bench database, its rows."""
    parser = argparse.ArgumentParser(description=description.splitlines()[0])
    add_arguments(parser)
    bench = prepare(parser.parse_args())
    try:
        print_rows(measure(bench))
    finally:
        bench.cleanup()


# --- pages through the test client --------------------------------------------------------


def signed_in_client(app, username: str, password: str = BENCH_PASSWORD):
    """A test client signed in as ``username``. Requests run outside any outer app context:
    each gets its own, as in a server (a shared one would share ``g`` and so the signed-in
    user between clients)."""
    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": password})
    if response.status_code != 302:
        raise SystemExit(f"could not sign in as {username}: {response.status_code}")
    return client


@dataclass
class Timed:
    """The median wall and CPU time of a page, with the last answer's status and size."""

    median: float
    status: int
    cpu: float
    size: int


def timed_get(client, url: str, runs: int, *, before: Callable[[], object] | None = None,
              **kwargs) -> Timed:  # fmt: skip
    """``GET url`` once as a warm-up (templates compiled, caches filled), then ``runs``
    times, ``before()`` run untimed ahead of each timed request."""
    response = client.get(url, **kwargs)
    times, cpu = [], []
    for _ in range(runs):
        if before is not None:
            before()
        start, start_cpu = time.perf_counter(), time.process_time()
        response = client.get(url, **kwargs)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return Timed(statistics.median(times), response.status_code, statistics.median(cpu),
                 len(response.data))  # fmt: skip


# --- subprocesses and memory --------------------------------------------------------------


@dataclass
class Run:
    seconds: float
    max_rss_mb: float
    stdout: str
    stderr: str
    returncode: int
    #: CPU seconds (user + system) of the measured process, when it reported them.
    cpu_seconds: float = 0.0


def run_measured(command: list[str], env: dict[str, str], *, timeout: float = 600) -> Run:
    """Run a command from the repository root; return its wall time and output."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        stdout, stderr = process.communicate()
    elapsed = time.perf_counter() - started
    return Run(elapsed, 0.0, stdout, stderr, process.returncode)


def python_measured(code: str, env: dict[str, str], *, timeout: float = 600) -> Run:
    """Run Python code in a fresh interpreter; its peak RSS is reported on its last line."""
    wrapper = code + "\n" + REPORT_USAGE
    run = run_measured([sys.executable, "-c", wrapper], env, timeout=timeout)
    return _with_rss(run)


#: Printed last by a measured interpreter: its peak RSS and CPU seconds. The peak is
#: VmHWM (per address space, reset by exec); ``ru_maxrss`` would include the RSS of the
#: parent at fork time, which Linux carries across exec.
REPORT_USAGE = (
    "import resource, sys\n"
    "hwm = [l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM:')]\n"
    "usage = resource.getrusage(resource.RUSAGE_SELF)\n"
    "print('USAGE', hwm[0] if hwm else usage.ru_maxrss, usage.ru_utime + usage.ru_stime,"
    " file=sys.stderr)\n"
)


def _with_rss(run: Run) -> Run:
    for line in reversed(run.stderr.splitlines()):
        if line.startswith("USAGE "):
            _, kilobytes, cpu = line.split()
            run.max_rss_mb = int(kilobytes) / 1024
            run.cpu_seconds = float(cpu)
            break
    return run


def flask_measured(arguments: list[str], env: dict[str, str], *, timeout: float = 600) -> Run:
    """Run a ``flask`` command in a fresh interpreter and measure its time and peak RSS."""
    code = (
        "import sys\n"
        "from flask.cli import main\n"
        f"sys.argv = ['flask', *{arguments!r}]\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as exit_:\n"
        "    code = exit_.code\n"
        "else:\n"
        "    code = 0\n" + REPORT_USAGE + "sys.exit(code)\n"
    )
    run = run_measured([sys.executable, "-c", code], env, timeout=timeout)
    return _with_rss(run)


def self_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@contextmanager
def app_context(bench: BenchDatabase, **config) -> Iterator:
    app = bench.app(**config)
    with app.app_context():
        try:
            yield app
        finally:
            db.session.remove()
            db.engine.dispose()
