"""``python -m evaluation.scoring [FILE]``: result JSON and exit 0, or every error and exit 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "tests" / "examples"  # the specification's worked example

GOOD = {
    "scheme": {
        "dimensions": [
            {
                "code": "D",
                "name": "乡村振兴",
                "indicators": [
                    {"code": "A", "points": 60, "method": "direct"},
                    {"code": "B", "points": 40, "method": "grade"},
                ],
            }
        ]
    },
    "units": [
        {"code": "445203001000", "name": "曲溪街道"},
        {"code": "445203002000", "name": "云路镇"},
    ],
    "values": [
        {"unit": "445203001000", "indicator": "A", "value": 50.125},
        {"unit": "445203001000", "indicator": "B", "value": "优"},
        {"unit": "445203002000", "indicator": "A", "value": 59},
    ],
}


def run_engine(*arguments: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "evaluation.scoring", *arguments],
        input=None if stdin is None else stdin.encode("utf-8"),
        capture_output=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )


def test_good_input_on_stdin_prints_the_result_and_exits_0():
    finished = run_engine(stdin=json.dumps(GOOD, ensure_ascii=False))
    assert finished.returncode == 0, finished.stderr
    text = finished.stdout.decode("utf-8")
    assert "曲溪街道" in text  # Chinese printed as is, not as \\u escapes
    results = json.loads(text)["results"]
    assert [(r["unit"], r["rank"], r["total"]) for r in results] == [
        ("445203001000", 1, "90.13"),
        ("445203002000", 2, "59.00"),
    ]
    assert results[1]["missing"] == ["B"]


def test_reads_a_file_argument(tmp_path):
    path = tmp_path / "输入.json"
    path.write_text(json.dumps(GOOD, ensure_ascii=False), encoding="utf-8")
    from_file = run_engine(str(path))
    from_stdin = run_engine("-", stdin=path.read_text(encoding="utf-8"))
    assert from_file.returncode == 0 and from_stdin.returncode == 0
    assert json.loads(from_file.stdout) == json.loads(from_stdin.stdout)


def test_the_shared_example_through_the_command_line():
    source = EXAMPLES / "engine-input.json"
    finished = run_engine(str(source))
    assert finished.returncode == 0, finished.stderr
    expected = json.loads((EXAMPLES / "engine-output.json").read_text(encoding="utf-8"))
    assert json.loads(finished.stdout) == expected


def test_invalid_input_exits_2_listing_every_error():
    bad = json.loads(json.dumps(GOOD))
    bad["scheme"]["dimensions"][0]["indicators"][0]["points"] = 61
    bad["values"][1]["value"] = "甲"
    bad["values"].append({"unit": "445203009000", "indicator": "A", "value": 1})
    bad["adjustments"] = [{"unit": "445203001000", "kind": "bonus", "points": 0}]
    finished = run_engine(stdin=json.dumps(bad, ensure_ascii=False))
    assert finished.returncode == 2
    errors = json.loads(finished.stdout)["errors"]
    assert [e["path"] for e in errors] == [
        "scheme.total",
        "values[1].value",
        "values[3].unit",
        "adjustments[0].points",
    ]
    assert all(set(e) == {"path", "message"} and e["message"] for e in errors)


def test_bad_json_exits_2():
    finished = run_engine(stdin='{"scheme": [1, 2,')
    assert finished.returncode == 2
    (error,) = json.loads(finished.stdout)["errors"]
    assert error["path"] == "" and error["message"].startswith("invalid JSON")


def test_a_missing_file_exits_2(tmp_path):
    finished = run_engine(str(tmp_path / "absent.json"))
    assert finished.returncode == 2
    (error,) = json.loads(finished.stdout)["errors"]
    assert "cannot read" in error["message"]


def test_sensitivity_through_the_command_line():
    asked = dict(GOOD, sensitivity={"samples": 100, "spread": 0, "seed": 4})
    finished = run_engine(stdin=json.dumps(asked, ensure_ascii=False))
    assert finished.returncode == 0, finished.stderr
    for result in json.loads(finished.stdout)["results"]:
        assert result["sensitivity"] == {
            "median_rank": result["rank"],
            "q5_rank": result["rank"],
            "q95_rank": result["rank"],
            "grade_at_risk": False,
        }
