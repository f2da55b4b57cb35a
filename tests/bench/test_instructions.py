"""`python -m bench.instructions`: instructions per lookup, counted by callgrind, and the figures it derives."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bench.instructions import build_helper, cold_orders, cpu_per_call, fno_per_call, markdown, per_call, totals

# A phase of work and one of twice the work, between callgrind's client requests, as bench.instructions's child
# makes them.
_PROGRAM = """
import ctypes, sys, threading
helper = ctypes.CDLL(sys.argv[1])
helper.cg_dump.argtypes = [ctypes.c_char_p]
def work(n):
    return sum(i * i for i in range(n))
work(1000)
helper.cg_start()
helper.cg_zero()
work(200_000)
helper.cg_dump(b"once")
work(400_000)
helper.cg_dump(b"twice")
thread = threading.Thread(target=work, args=(200_000,))
thread.start()
thread.join()
helper.cg_dump(b"in_a_thread")
helper.cg_dump(b"idle")
"""


def _counted(helper: Path, out: Path) -> dict[str, int]:
    out.mkdir()
    subprocess.run(["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--log-file={out}/valgrind.log",
                    f"--callgrind-out-file={out}/callgrind.out", sys.executable, "-c", _PROGRAM, str(helper)],
                   check=True, env={"PYTHONHASHSEED": "0", "PATH": "/usr/bin:/bin"})
    return totals(out)


@pytest.mark.skipif(shutil.which("valgrind") is None or shutil.which("gcc") is None
                    or not Path("/usr/include/valgrind/callgrind.h").exists(),
                    reason="needs valgrind with its headers (Debian's valgrind carries callgrind.h) and gcc")
def test_callgrind_counts_the_same_work_the_same_on_every_run_and_twice_the_work_twice(tmp_path: Path) -> None:
    helper = build_helper(tmp_path)
    first, second = _counted(helper, tmp_path / "first"), _counted(helper, tmp_path / "second")
    assert set(first) == {"once", "twice", "in_a_thread", "idle"}
    # Repeatable whatever else the machine does: the whole point of counting instructions rather than time.
    for phase in ("once", "twice"):
        assert abs(first[phase] - second[phase]) <= first[phase] * 0.005
    assert 1.8 <= first["twice"] / first["once"] <= 2.2
    assert 0.9 <= first["in_a_thread"] / first["once"] <= 1.2  # another thread's work is counted too
    assert first["idle"] < first["once"] / 100  # nothing ran between the last two dumps


def test_the_dump_files_are_read_by_the_name_each_was_asked_for_under(tmp_path: Path) -> None:
    (tmp_path / "callgrind.out.1").write_text("version: 1\ndesc: Trigger: Client Request: cold_api\n"
                                              "events: Ir\nsummary: 4500\n")
    (tmp_path / "callgrind.out.2").write_text("desc: Trigger: Client Request: idle\nevents: Ir\ntotals: 100\n")
    (tmp_path / "callgrind.out").write_text("desc: Trigger: Program termination\nsummary: 7\n")  # not asked for
    assert totals(tmp_path) == {"cold_api": 4500, "idle": 100}


def test_each_phase_is_divided_by_its_calls_after_the_idle_pause_is_taken_off() -> None:
    counts = {"cold_api": 4_100, "cached_api": 1_100, "idle": 100}
    assert per_call(counts, {"cold_api": 10, "cached_api": 100, "cached_web": 5}) == {"cold_api": 400,
                                                                                      "cached_api": 10}
    times = {"cold_api": [0.0525, 0.0125], "idle": [0.0025, 0.0025]}
    assert cpu_per_call(times, {"cold_api": 10}) == {"cold_api": {"user_ms": 5.0, "system_ms": 1.0}}
    assert fno_per_call({"cold_api": 200}, {"cold_api": 40, "cached_api": 300}) == {"cold_api": 5.0,
                                                                                     "cached_api": 0.0}


def test_the_native_run_and_the_counted_one_never_share_a_cold_order() -> None:
    # After the native run its cold orders are cached: counted again, they would be cache hits called cold.
    paths = [f"/api/v1/orders/usmf/{n:06}" for n in range(100)]
    native, counted = cold_orders(paths, 10)
    assert len(native) == len(counted) == 13  # three for each run's warm-up
    assert not set(native) & set(counted)
    with pytest.raises(SystemExit):
        cold_orders(paths[:25], 10)


def test_the_report_gives_each_case_in_ceiling_requests_and_the_last_revision_over_the_first() -> None:
    def revision(source: str, cold: float, cached: float) -> dict[str, object]:
        cpu = {"user_ms": 1.0, "system_ms": 0.25}
        return {"portal_source": source, "calls": {"cold_api": 40},
                "instructions_per_call": {"cold_api": cold, "cached_api": cached, "cached_web": 8e6,
                                          "ceiling": 4e5},
                "native_cpu_ms_per_call": {case: cpu for case in ("cold_api", "cached_api", "cached_web",
                                                                  "ceiling")},
                "fno_calls_per_call": {"cold_api": 5.0 if source == "new" else 6.0, "cached_api": 0.0}}

    text = markdown({"finished_at": "2026-12-01T00:00:00+00:00",
                     "revisions": [revision("old", 40e6, 4e6), revision("new", 30e6, 2e6)]})
    counted = text.split("The same phases run natively")[0]
    rows = {line.split(" | ")[0].lstrip("| ").split(" (")[0]: line.split(" | ")[1:]
            for line in counted.splitlines() if line.startswith("| ")}
    assert rows["cold API order lookup"] == ["40.00 (100.0)", "30.00 (75.0)", "0.750 |"]
    assert rows["cached API order lookup"] == ["4.00 (10.0)", "2.00 (5.0)", "0.500 |"]
    assert "| cached API order lookup | 1.000 + 0.250 (20% system) | 1.000 + 0.250 (20% system) |" in text
    assert "F&O requests per cold lookup, as the simulator counted them: 6, 5 " in text


def test_a_count_without_the_native_run_reports_no_milliseconds_rather_than_zeros() -> None:
    revision = {"portal_source": "new", "calls": {"cold_api": 40}, "native_cpu_ms_per_call": {},
                "instructions_per_call": {"cold_api": 3e7, "cached_api": 2e6, "cached_web": 8e6, "ceiling": 4e5}}
    text = markdown({"finished_at": "2026-12-01T00:00:00+00:00", "revisions": [revision]})
    assert "| cold API order lookup (cache miss, five F&O reads) | 30.00 (75.0) |" in text
    assert "system" not in text
