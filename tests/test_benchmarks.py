"""A tiny smoke run of each benchmark, so that they keep working (real runs: see the README)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).parent.parent / "benchmarks"


@pytest.mark.parametrize(
    ("script", "args", "key"),
    [("ingest.py", ["--records", "300", "--batch", "100", "--repeat", "1"], "push_vs_bare"),
     ("pull.py", ["--people", "20", "--visits", "2", "--runs", "2"], "first_pull_kb_gzip"),
     ("offline.py", ["--records", "20", "--runs", "1"], "shell_kb"),
     ("reporting.py", ["--records", "400", "--runs", "1"], "dashboard_year_vs_year_before_ms")],
)
def test_benchmark_prints_its_figures_as_json(script, args, key):
    done = subprocess.run([sys.executable, script, *args], cwd=BENCHMARKS, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    assert figures[key] > 0
