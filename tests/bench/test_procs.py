"""The benchmark's CPU accounting (bench/procs.py): a group's CPU is its processes' own time plus what they reaped."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager

from bench import procs

# A parent that waits to be told to start (so that the first sample sees no child of it), forks a child, lets it burn
# CPU, reaps it and says how much CPU the child used (from the kernel's rusage), then waits to be told to exit: by
# then the child's CPU lives only in the parent's cutime/cstime, as a gunicorn worker's does in its master's once
# the master has reaped it.
PARENT = textwrap.dedent("""
    import os, sys
    sys.stdin.readline()
    pid = os.fork()
    if pid == 0:
        total = 0
        for i in range(4_000_000):
            total += i * i
        os._exit(0)
    _, _, usage = os.wait4(pid, 0)
    print(round((usage.ru_utime + usage.ru_stime) * 1000), flush=True)
    sys.stdin.readline()
""")


@contextmanager
def parent_that_reaped_a_busy_child(group: str) -> Iterator[tuple[dict[str, float], int, list[procs.Proc]]]:
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True)
    assert parent.stdin is not None
    assert parent.stdout is not None
    try:
        roles = procs.Roles(trees={group: [parent.pid]})
        before = procs.sample()
        parent.stdin.write("\n")  # only now: CPU a child spent before the first sample would not count
        parent.stdin.flush()
        child_ms = int(parent.stdout.readline())
        after = procs.sample()
        children = [p for p in after.procs.values() if p.ppid == parent.pid]
        yield procs.cpu_between(before, after, roles), child_ms, children
    finally:
        parent.stdin.write("\n")
        parent.stdin.close()
        parent.wait(30)


def test_a_reaped_childs_cpu_still_counts_for_its_group() -> None:
    with parent_that_reaped_a_busy_child("portal") as (cpu, child_ms, children):
        assert child_ms > 50
        assert children == []
        # At least the child's CPU, less two clock ticks: user and system time are each rounded down to ticks.
        assert cpu["portal"] >= child_ms - 2 * procs.TICK_MS


def test_a_groups_cpu_counts_for_no_other_group() -> None:
    with parent_that_reaped_a_busy_child("ceiling") as (cpu, child_ms, _):
        assert cpu["ceiling"] >= child_ms - 2 * procs.TICK_MS
        assert cpu["portal"] == 0
        assert cpu["simulator"] == 0


def _sample(*procs_: procs.Proc, busy: int = 10_000) -> procs.Sample:
    return procs.Sample(procs={p.pid: p for p in procs_}, busy=busy, total=2 * busy)


def test_a_worker_reaped_by_its_master_during_the_run_counts_once() -> None:
    roles = procs.Roles(trees={"portal": [100]})
    before = _sample(procs.Proc(100, 1, "python", 5, own=10, reaped=0), procs.Proc(101, 100, "python", 6, own=100,
                                                                                    reaped=0))
    # The worker ran 50 more ticks, exited and was reaped: its 150 now live in the master's reaped time.
    after = _sample(procs.Proc(100, 1, "python", 5, own=12, reaped=150))
    assert procs.cpu_between(before, after, roles)["portal"] == (2 + 50) * procs.TICK_MS


def test_postgres_counts_its_own_processes_and_the_benchmarks_backends_not_other_databases() -> None:
    roles = procs.Roles(trees={}, database="portal_bench")

    def postgres(pid: int, own: int, reaped: int = 0, database: str = "") -> procs.Proc:
        return procs.Proc(pid, 1 if pid != 10 else 0, "postgres", pid, own=own, reaped=reaped, database=database)

    before = _sample(postgres(10, 5), postgres(11, 10, database="portal_bench"), postgres(12, 10, database="other"),
                     postgres(13, 1))
    # The postmaster reaped other users' short-lived backends (1000 ticks): not the benchmark's work.
    after = _sample(postgres(10, 6, reaped=1000), postgres(11, 30, database="portal_bench"),
                    postgres(12, 500, database="other"), postgres(13, 3), postgres(14, 7, database="portal_bench"))
    cpu = procs.cpu_between(before, after, roles)
    assert cpu["postgres"] == (1 + 20 + 2 + 7) * procs.TICK_MS
    assert cpu["portal"] == 0
