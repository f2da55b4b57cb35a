"""The load generators: wrk for closed-loop throughput, and a bare asyncio HTTP/1.1 client for a fixed number of
requests at a set concurrency or an open-loop rate (no coordinated omission: latency counts from the scheduled send)."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

REPORT_LUA = Path(__file__).with_name("report.lua")


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def wrk(url: str, *, seconds: float, threads: int, connections: int,
        headers: dict[str, str] | None = None) -> dict[str, Any]:
    command = ["wrk", f"-t{threads}", f"-c{connections}", "--timeout", "10s", "-s", str(REPORT_LUA),
               f"-d{seconds}s"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    raw = json.loads(out.split("BENCHJSON ", 1)[1].splitlines()[0])
    elapsed = raw["duration_us"] / 1e6
    return {
        "requests": raw["requests"], "seconds": round(elapsed, 2), "rps": round(raw["requests"] / elapsed, 1),
        "p50_ms": raw["p50_us"] / 1000, "p95_ms": raw["p95_us"] / 1000, "p99_ms": raw["p99_us"] / 1000,
        "errors": raw["socket_errors"] + raw["status_errors"],
    }


def _summary(outcomes: list[tuple[float, int]], elapsed: float) -> dict[str, Any]:
    latencies = [ms for ms, _ in outcomes]
    statuses: dict[str, int] = {}
    for _, status in outcomes:
        statuses[str(status)] = statuses.get(str(status), 0) + 1
    return {
        "requests": len(outcomes), "seconds": round(elapsed, 2), "rps": round(len(outcomes) / elapsed, 1),
        "p50_ms": round(percentile(latencies, 0.50), 1), "p95_ms": round(percentile(latencies, 0.95), 1),
        "p99_ms": round(percentile(latencies, 0.99), 1), "statuses": statuses,
        "errors": sum(n for s, n in statuses.items() if s != "200"),
    }


async def concurrent(urls: list[str], headers: dict[str, str], *, concurrency: int) -> dict[str, Any]:
    pool = RawPool(headers)
    semaphore = asyncio.Semaphore(concurrency)

    async def one(url: str) -> tuple[float, int]:
        async with semaphore:
            return await pool.get(url, time.perf_counter())

    started = time.perf_counter()
    outcomes = await asyncio.gather(*(one(u) for u in urls))
    elapsed = time.perf_counter() - started
    await pool.close()
    return _summary(outcomes, elapsed)


async def open_loop(pick: Callable[[int], str], headers: dict[str, str], *, rate: float,
                    seconds: float) -> dict[str, Any]:
    """Requests at a fixed rate whatever the answers' latency. A bare keep-alive client: httpx's own cost would make
    the generator, not the portal, the bottleneck at this rate on two cores."""
    total = int(rate * seconds)
    pool = RawPool(headers)
    started = time.perf_counter()
    tasks = []
    for i in range(total):
        scheduled = started + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(pool.get(pick(i), scheduled)))
    outcomes = await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - started
    await pool.close()
    result = _summary(outcomes, elapsed)
    result["generator_lag_ms_p99"] = round(percentile(pool.lags, 0.99), 1)
    result["connection_failures"] = pool.failures
    return result


class RawPool:
    """Keep-alive HTTP/1.1 connections per host, just enough for GET requests with Content-Length answers."""

    def __init__(self, headers: dict[str, str]) -> None:
        self.extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.idle: dict[tuple[str, int], list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]] = {}
        self.lags: list[float] = []
        self.failures: dict[str, int] = {}

    async def get(self, url: str, scheduled: float) -> tuple[float, int]:
        self.lags.append((time.perf_counter() - scheduled) * 1000)
        parts = urlsplit(url)
        host, port = parts.hostname or "127.0.0.1", parts.port or 80
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        request = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n{self.extra}\r\n".encode()
        idle = self.idle.setdefault((host, port), [])
        status = 0
        for attempt in range(2):
            reused = bool(idle) and attempt == 0
            try:
                reader, writer = idle.pop() if reused else await asyncio.open_connection(host, port)
                writer.write(request)
                await writer.drain()
                head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=30)
                status = int(head.split(b" ", 2)[1])
                length = re.search(rb"(?i)content-length: *(\d+)", head)
                if length is None:
                    raise ValueError("no Content-Length")
                await reader.readexactly(int(length.group(1)))
                idle.append((reader, writer))
                break
            except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
                status = 0
                name = f"{type(exc).__name__}{' (kept-alive, retried)' if reused else ''}"
                self.failures[name] = self.failures.get(name, 0) + 1
                if not reused:
                    break  # a fresh connection failed: that is the answer; a kept-alive one may just have closed
        return (time.perf_counter() - scheduled) * 1000, status

    async def close(self) -> None:
        for connections in self.idle.values():
            for _, writer in connections:
                writer.close()
