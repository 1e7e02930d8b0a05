"""The nbval run's status records, and the status page built from them."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_record_names_its_environment_and_merges_partial_runs(tmp_path, monkeypatch):
    hooks = _load("root_conftest", ROOT / "conftest.py")
    monkeypatch.setenv("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false --xla_cpu_max_isa=SSE4_2")
    hooks._seconds.update({"notebooks/01_least_squares.ipynb": 12.5})
    first = hooks.write_status_record(tmp_path)
    hooks._seconds.clear()
    hooks._seconds.update({"notebooks/02_gradient_descent.ipynb": 3.0})
    hooks._failed.add("notebooks/02_gradient_descent.ipynb")
    second = hooks.write_status_record(tmp_path)
    assert first == second and "SSE4_2" in first.name
    record = json.loads(second.read_text())
    env = record["environment"]
    assert env["isa"] == "SSE4_2" and env["jax"] and env["python"] and env["cores"] >= 1
    assert record["notebooks"]["notebooks/01_least_squares.ipynb"]["seconds"] == 12.5
    assert record["notebooks"]["notebooks/02_gradient_descent.ipynb"]["outcome"] == "failed"


def test_the_page_reads_every_record_and_says_when_there_is_none(tmp_path):
    page = _load("status_page", ROOT / "book" / "_ext" / "status_page.py")
    assert page._records(tmp_path) == []
    folder = tmp_path / "_build" / "status"
    folder.mkdir(parents=True)
    for isa, date in (("AVX", "2026-01-02T00:00:00+00:00"), (None, "2026-01-03T00:00:00+00:00")):
        (folder / f"{isa}.json").write_text(
            json.dumps(
                {
                    "environment": {"python": "3.11.7", "jax": "0.10.2", "isa": isa, "cores": 2},
                    "date": date,
                    "notebooks": {"notebooks/01_least_squares.ipynb": {"seconds": 1.0}},
                }
            )
        )
    (folder / "broken.json").write_text("{not json")
    records = page._records(tmp_path)
    assert [r["environment"]["isa"] for r in records] == [None, "AVX"]  # newest first, the unreadable one left out
    assert page._environment(records[1]["environment"]) == "Python 3.11.7, jax 0.10.2, XLA ISA AVX, 2 core(s)"
