"""Change a running simulator's orders over HTTP (the admin endpoints under /_sim/orders):

    python -m simulator change --company usmf --order 001001 --set ConfirmedShippingDate=2026-12-19
    python -m simulator change --company usmf --order 001001 --line-set 2:SalesOrderLineStatus=Delivered
    python -m simulator add-packing-slip --company usmf --order 001001 --tracking 1Z999 [--line 1=2 ...]
    python -m simulator add-invoice --company usmf --order 001001 [--date 2026-12-20] [--amount 120.50]
    python -m simulator reset

Values are sent as text; the simulator reads them as the field's type (an empty value is an empty date or text).
Prints the simulator's answer as JSON. Exit status: 0 done, 1 refused by the simulator, 3 simulator unreachable.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import sys
from typing import Any
from urllib.parse import quote, urlsplit

COMMANDS = ("change", "add-packing-slip", "add-invoice", "reset")
REFUSED = 1
UNREACHABLE = 3


def _pair(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return key, value


def _url(text: str) -> str:
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path.strip("/") or parts.query:
        raise argparse.ArgumentTypeError(f"expected the simulator's root, e.g. http://127.0.0.1:8001, got {text!r}")
    return text.rstrip("/")


def _line_set(text: str) -> tuple[str | None, str, str]:
    line, sep, rest = text.partition(":")
    if not sep or "=" in line:
        line, rest = "", text
    key, value = _pair(rest)
    return line or None, key, value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m simulator", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)

    def command(name: str, help: str, order: bool = True) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help, description=help)
        sub.add_argument("--url", type=_url, default="http://127.0.0.1:8001",
                         help="the simulator (default %(default)s)")
        sub.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for its answer")
        if order:
            sub.add_argument("--company", required=True, help="dataAreaId, e.g. usmf")
            sub.add_argument("--order", required=True, help="SalesOrderNumber")
        return sub

    change = command("change", "set fields of an order's header and lines")
    change.add_argument("--set", dest="fields", action="append", default=[], type=_pair, metavar="FIELD=VALUE",
                        help="a header field, e.g. ConfirmedShippingDate=2026-12-19, IsSalesProcessingStopped=Yes")
    change.add_argument("--line-set", action="append", default=[], type=_line_set, metavar="[LINE:]FIELD=VALUE",
                        help="a line field: on line LINE (its LineNumber), or on every line without LINE:")
    slip = command("add-packing-slip", "post a packing slip (journal, lines, tracking numbers)")
    slip.add_argument("--id", help="PackingSlipId (default: the company's next)")
    slip.add_argument("--date", help="DeliveryDate, e.g. 2026-12-19 (default: today)")
    slip.add_argument("--tracking", action="append", default=[], metavar="NUMBER",
                      help="a parcel's tracking number; repeat for several (none: a slip without tracking)")
    slip.add_argument("--line", action="append", default=[], type=_pair, metavar="LINE=QTY",
                      help="ship QTY of order line LINE (default: what is left of every open line)")
    invoice = command("add-invoice", "post an invoice")
    invoice.add_argument("--number", help="InvoiceNumber (default: the company's next)")
    invoice.add_argument("--date", help="InvoiceDate, e.g. 2026-12-20 (default: today)")
    invoice.add_argument("--amount", help="TotalInvoiceAmount (default: the order's lines plus 8 %% tax)")
    invoice.add_argument("--tax", help="TotalTaxAmount")
    command("reset", "undo every change: back to the demo data the simulator built at start", order=False)
    return parser


def _request(args: argparse.Namespace) -> tuple[str, str, dict[str, Any] | None]:
    """(method, path, body) for the command."""
    if args.command == "reset":
        return "DELETE", "/_sim/orders", None
    path = f"/_sim/orders/{quote(args.company, safe='')}/{quote(args.order, safe='')}"
    if args.command == "change":
        body: dict[str, Any] = dict(args.fields)
        lines: dict[str | None, dict[str, Any]] = {}
        for line, key, value in args.line_set:
            lines.setdefault(line, {})[key] = value
        if lines:
            body["lines"] = [{**({"LineNumber": line} if line else {}), **values} for line, values in lines.items()]
        return "POST", path, body
    if args.command == "add-packing-slip":
        body = {"tracking": args.tracking}
        if args.id:
            body["PackingSlipId"] = args.id
        if args.date:
            body["DeliveryDate"] = args.date
        if args.line:
            body["lines"] = [{"LineNumber": line, "Qty": qty} for line, qty in args.line]
        return "POST", path + "/packing-slips", body
    body = {name: value for name, value in (("InvoiceNumber", args.number), ("InvoiceDate", args.date),
                                            ("TotalInvoiceAmount", args.amount), ("TotalTaxAmount", args.tax))
            if value is not None}
    return "POST", path + "/invoices", body


def _send(url: str, method: str, path: str, body: dict[str, Any] | None, timeout: float) -> tuple[int, bytes]:
    parts = urlsplit(url)
    connection_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = connection_class(parts.netloc, timeout=timeout)
    try:
        payload = json.dumps(body).encode() if body is not None else None
        connection.request(method, path, body=payload,
                           headers={"Content-Type": "application/json", "Accept": "application/json"})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    method, path, body = _request(args)
    try:
        status, answer = _send(args.url, method, path, body, args.timeout)
    except (OSError, http.client.HTTPException) as exc:  # refused, reset, timed out, name not found
        print(f"simulator at {args.url} unreachable: {str(exc) or type(exc).__name__}", file=sys.stderr)
        return UNREACHABLE
    if status >= 300:
        detail: Any = answer.decode(errors="replace")
        with contextlib.suppress(ValueError, KeyError, TypeError):
            detail = json.loads(detail)["error"]
        print(f"simulator refused ({status}): {detail}", file=sys.stderr)
        return REFUSED
    print(json.dumps(json.loads(answer or b"{}"), indent=2, ensure_ascii=False))
    return 0
