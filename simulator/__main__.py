"""Run the F&O simulator: python -m simulator --port 8001 [--latency 0.15] [--fault status=503 ...].

Change a running one's orders: python -m simulator change|add-packing-slip|add-invoice|reset ... (--help on each)."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys

from . import cli
from .server import Faults, Simulator


def _fault(text: str) -> tuple[str, object]:
    key, _, value = text.partition("=")
    try:
        return key, json.loads(value)
    except ValueError:
        return key, value


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in cli.COMMANDS:
        return cli.main(argv)
    parser = argparse.ArgumentParser(prog="python -m simulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every answer")
    parser.add_argument("--jitter", type=float, default=0.0, help="up to this many seconds more, at random")
    parser.add_argument("--page-size", type=int, default=10_000)
    parser.add_argument("--orders", type=int, default=320, help="demo orders to generate")
    parser.add_argument("--max-url-length", type=int, default=2048,
                        help="longest path and query served; longer ones answer 414 (0: no limit)")
    parser.add_argument("--accept-token", action="append", help="require a bearer token; repeat to accept several")
    parser.add_argument("--fault", action="append", default=[], type=_fault,
                        help="a fault switch, e.g. status=429 retry_after=30 hang=true error_rate=0.1")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s simulator %(message)s")
    from . import data

    sim = Simulator(host=args.host, port=args.port, dataset=data.build(orders=args.orders),
                    page_size=args.page_size, accepted_tokens=set(args.accept_token) if args.accept_token else None,
                    max_url_length=args.max_url_length or None)
    sim.state.faults = Faults.from_dict({"latency": args.latency, "jitter": args.jitter, **dict(args.fault)})
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"F&O simulator listening on {sim.url}/data/", flush=True)
    try:
        sim.httpd.serve_forever()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        sim.stop() if sim._thread else sim.httpd.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
