from __future__ import annotations

import json
import shutil
import textwrap
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from orders.fno_check import FnoCheckReport, Outcome, fno_check_run


class Command(BaseCommand):
    help = (
        "Check the F&O environment against what the portal reads: token, $metadata, one read per entity set, "
        "visible companies, linked accounts. Exit status 0 only when all is well."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="print the report as JSON, for automation")

    def handle(self, *args: Any, **options: Any) -> None:
        report = fno_check_run()
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), indent=2))
        else:
            self.stdout.write(self.table(report))
        if not report.ok:
            raise SystemExit(1)

    def table(self, report: FnoCheckReport) -> str:
        width = max(80, min(shutil.get_terminal_size((120, 20)).columns, 160))
        subject_width = min(46, max(len(line.subject) for line in report.lines) if report.lines else 10)
        head = f"{'CHECK':<10} {'SUBJECT':<{subject_width}} {'RESULT':<8} {'MS':>6}  DETAIL"
        detail_width = max(30, width - len(head) + len("DETAIL"))
        indent = " " * (len(head) - len("DETAIL"))
        rows = [f"F&O check of {report.environment or '(no D365_URL)'}", "", head, "-" * min(width, 160)]
        for line in report.lines:
            result = str(line.outcome).upper() if line.outcome is not Outcome.OK else "ok"
            ms = str(line.latency_ms) if line.latency_ms is not None else ""
            wrapped = textwrap.wrap(line.detail, detail_width) or [""]
            subject = line.subject if len(line.subject) <= subject_width else line.subject[: subject_width - 1] + "…"
            rows.append(f"{line.section:<10} {subject:<{subject_width}} {result:<8} {ms:>6}  {wrapped[0]}")
            rows.extend(indent + more for more in wrapped[1:])
        rows.append("")
        if report.ok:
            rows.append(self.style.SUCCESS(f"All is well ({report.elapsed_ms} ms)."))
        else:
            rows.append(self.style.ERROR(f"{len(report.problems)} problem(s) ({report.elapsed_ms} ms)."))
        return "\n".join(rows)
