"""CPU time read from the operating system: /proc/<pid>/stat for every process, /proc/stat for the machine.

A sample is taken before and after each counted run. The processes the benchmark started (the portal's and the
ceiling's gunicorn masters, the simulator, and this process, the load generator, which reaps wrk) are trees: a
tree's CPU is the change of the sum, over its processes, of their own time and their reaped children's time
(utime + stime + cutime + cstime). A gunicorn worker that exits and is reaped by its master moves from its own line
to the master's children's time, so nothing is lost or counted twice.

PostgreSQL and Redis serve other users of this shared machine too. Their CPU is the change of each process's own
time (utime + stime, not what the postmaster reaped from other users' short-lived backends), counting the postmaster,
its background processes and the backends of the benchmark's own database only. What no group holds (other users'
work, the kernel's) is "other": the machine's busy time from /proc/stat less every group.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field

TICK_MS = 1000 / os.sysconf("SC_CLK_TCK")
# The groups a run's CPU is split into, in report order. "load" is the load generator: wrk (reaped by this process)
# and this process itself, which also runs the open-loop client.
GROUPS = ("portal", "ceiling", "simulator", "postgres", "redis", "load", "other")
TREES = ("portal", "ceiling", "simulator", "load")  # the order decides who owns a pid in two trees: the first


@dataclass(frozen=True)
class Proc:
    pid: int
    ppid: int
    comm: str
    started: int  # start time in ticks since boot: tells a reused pid from the process it replaced
    own: int  # utime + stime
    reaped: int  # cutime + cstime: the children this process waited for
    database: str = ""  # a PostgreSQL backend's database; "" for the postmaster and background processes

    @property
    def ticks(self) -> int:
        return self.own + self.reaped


@dataclass(frozen=True)
class Sample:
    procs: dict[int, Proc]
    busy: int  # the machine's busy ticks, all CPUs
    total: int  # the machine's ticks, busy and idle, all CPUs


@dataclass
class Roles:
    """Which pids root which tree, and which PostgreSQL database is the benchmark's."""

    trees: dict[str, list[int]] = field(default_factory=lambda: {"load": [os.getpid()]})
    database: str = ""  # empty: every PostgreSQL backend counts


def _postgres_database(pid: int) -> str:
    """A backend's process title is "postgres: <user> <database> <client> <state>"; the postmaster's is its command
    line and a background process's "postgres: 15/main: checkpointer"."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            title = handle.read().replace(b"\0", b" ").decode(errors="replace").split()
    except OSError:
        return ""
    if len(title) >= 3 and title[0] == "postgres:" and not title[1].endswith(":"):
        return title[2]
    return ""


def _proc(pid: int) -> Proc | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            raw = handle.read().decode(errors="replace")
    except OSError:
        return None
    # comm may hold spaces and parentheses: it ends at the last ")".
    comm = raw[raw.index("(") + 1:raw.rindex(")")]
    fields = raw[raw.rindex(")") + 2:].split()
    # fields[0] is field 3 (state) of proc(5): utime 14, stime 15, cutime 16, cstime 17, starttime 22.
    utime, stime, cutime, cstime = (int(v) for v in fields[11:15])
    return Proc(pid=pid, ppid=int(fields[1]), comm=comm, started=int(fields[19]), own=utime + stime,
                reaped=cutime + cstime, database=_postgres_database(pid) if comm == "postgres" else "")


def sample() -> Sample:
    procs = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            proc = _proc(int(name))
            if proc is not None:
                procs[proc.pid] = proc
    with open("/proc/stat") as handle:
        values = [int(v) for v in handle.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal (guest time is already inside user)
    busy = values[0] + values[1] + values[2] + values[5] + values[6] + values[7]
    return Sample(procs=procs, busy=busy, total=busy + values[3] + values[4])


def _descendants(procs: dict[int, Proc], roots: Iterable[int]) -> set[int]:
    children: dict[int, list[int]] = {}
    for proc in procs.values():
        children.setdefault(proc.ppid, []).append(proc.pid)
    found: set[int] = set()
    pending = [pid for pid in roots if pid in procs]
    while pending:
        pid = pending.pop()
        if pid not in found:
            found.add(pid)
            pending.extend(children.get(pid, ()))
    return found


def _owners(snapshot: Sample, roles: Roles) -> dict[int, str]:
    owner: dict[int, str] = {}
    for group in TREES:
        for pid in _descendants(snapshot.procs, roles.trees.get(group, [])):
            owner.setdefault(pid, group)
    return owner


def _service(proc: Proc, roles: Roles) -> str | None:
    if proc.comm == "postgres":
        return "postgres" if not (roles.database and proc.database and proc.database != roles.database) else None
    return "redis" if proc.comm.startswith("redis-server") else None


def cpu_between(before: Sample, after: Sample, roles: Roles) -> dict[str, float]:
    """Milliseconds of CPU per group between two samples, with the machine's busy and total milliseconds."""
    ticks = dict.fromkeys(GROUPS, 0)
    for sign, snapshot in ((-1, before), (1, after)):
        for pid, group in _owners(snapshot, roles).items():
            ticks[group] += sign * snapshot.procs[pid].ticks
    owned = _owners(after, roles)
    for proc in after.procs.values():
        service = None if proc.pid in owned else _service(proc, roles)
        if service is not None:
            earlier = before.procs.get(proc.pid)
            same = earlier is not None and earlier.started == proc.started
            ticks[service] += proc.own - (earlier.own if earlier is not None and same else 0)
    out = {group: round(ticks[group] * TICK_MS, 1) for group in GROUPS if group != "other"}
    busy = (after.busy - before.busy) * TICK_MS
    out["other"] = round(busy - sum(out.values()), 1)
    out["machine_busy"] = round(busy, 1)
    out["machine_total"] = round((after.total - before.total) * TICK_MS, 1)
    return out


def pids_started(before: Sample, after: Sample, roots: list[int]) -> int:
    """Processes in the trees of `roots` that did not exist at `before`: gunicorn workers (re)started in between."""
    old = {(p.pid, p.started) for p in before.procs.values()}
    return sum(1 for pid in _descendants(after.procs, roots) if (pid, after.procs[pid].started) not in old)
