from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from languages.catalogue import TRANSLATED, catalogue_compile, catalogue_extract, catalogue_problems, catalogue_template


class Command(BaseCommand):
    help = (
        "Update the translation catalogues in locale/ from the code and templates (makemessages: needs GNU gettext), "
        "then compile them (no gettext needed). --compile only compiles; --check reports untranslated, fuzzy, "
        "missing and left-over entries and a stale .mo, and fails on any."
    )
    # Run by the Makefile before `make run` and the tests: it reads and writes locale/ only, whatever the settings.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--compile", action="store_true", help="only compile each .po into its .mo")
        mode.add_argument("--check", action="store_true", help="change nothing; exit 1 on any problem")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["check"]:
            template = catalogue_template()
            problems = [f"{language}: {problem}" for language in TRANSLATED
                        for problem in catalogue_problems(language, template=template)]
            if problems:
                raise CommandError("\n".join(problems))
            self.stdout.write(f"complete: {', '.join(TRANSLATED)}")
            return
        if not options["compile"]:
            catalogue_extract()
        for language in TRANSLATED:
            mo = catalogue_compile(language)
            self.stdout.write(f"compiled {mo}")
