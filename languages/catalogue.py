"""The translation catalogues in locale/: extracted with Django's makemessages (GNU gettext's xgettext, msgmerge),
compiled with polib, so building the .mo files needs no gettext tools on the machine, and checked: every entry
translated, none fuzzy, the same placeholders on both sides, nothing makemessages would extract missing, nothing it
would not extract left over, and each compiled .mo holding exactly what its .po says.
"""

from __future__ import annotations

import gettext
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import polib
from django.conf import settings
from django.core.management import call_command
from django.test.utils import override_settings

# Every language but the one the source is written in.
TRANSLATED = [code for code, _name in settings.LANGUAGES if code != "en"]
# Not the portal's: its tests, the simulator (a stand-in for F&O with no pages of its own), tools and what is built.
IGNORE = [
    "bench", "build", "docs", "node_modules", "scripts", "simulator", "staticfiles", "test-artifacts", "tests", "var",
    "*.egg-info",
]
# %(name)s and %s (python-format), {name} (python-brace-format): a translation must use the same ones.
_PLACEHOLDER = re.compile(r"%\((\w+)\)[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]|%[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")
_BRACES = re.compile(r"\{(\w*)[^{}]*\}")


def catalogue_root() -> Path:
    return Path(settings.LOCALE_PATHS[0])


def catalogue_po(language: str, root: Path | None = None) -> Path:
    return (root or catalogue_root()) / language / "LC_MESSAGES" / "django.po"


@contextmanager
def _in_project() -> Iterator[None]:
    """makemessages walks the current directory."""
    before = Path.cwd()
    os.chdir(settings.BASE_DIR)
    try:
        yield
    finally:
        os.chdir(before)


def catalogue_extract() -> None:
    """Update every language's .po with what the code and templates mark now (new entries come untranslated)."""
    with _in_project():
        call_command("makemessages", locale=TRANSLATED, ignore_patterns=IGNORE, add_location="file",
                     no_obsolete=True, verbosity=0)


def catalogue_template() -> polib.POFile:
    """What makemessages would extract now, without touching locale/: a .pot built in a scratch directory that links
    to every top-level entry of the project but locale/ (makemessages writes beside the nearest locale/ it finds)."""
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        for entry in Path(settings.BASE_DIR).iterdir():
            if entry.name != "locale" and not entry.name.startswith("."):
                (root / entry.name).symlink_to(entry, target_is_directory=entry.is_dir())
        target = root / "locale"
        target.mkdir()
        before = Path.cwd()
        os.chdir(root)
        try:
            with override_settings(LOCALE_PATHS=[target]):
                call_command("makemessages", locale=TRANSLATED[:1], ignore_patterns=IGNORE, symlinks=True,
                             keep_pot=True, verbosity=0)
        finally:
            os.chdir(before)
        return polib.pofile(str(target / "django.pot"))


def catalogue_compile(language: str) -> Path:
    po = catalogue_po(language)
    mo = po.with_suffix(".mo")
    polib.pofile(str(po)).save_as_mofile(str(mo))
    return mo


def _key(entry: polib.POEntry) -> tuple[str, str]:
    return entry.msgctxt or "", entry.msgid


def _placeholders(text: str, flags: list[str]) -> list[str]:
    found: list[str] = []
    if "python-format" in flags:
        found += sorted(m.group(0) if m.group(1) is None else f"%({m.group(1)})" for m in _PLACEHOLDER.finditer(text))
    if "python-brace-format" in flags:
        found += sorted(m.group(1) for m in _BRACES.finditer(text))
    return found


def entry_problems(entry: polib.POEntry) -> list[str]:
    name = repr(entry.msgid[:60])
    if entry.fuzzy:
        return [f"fuzzy: {name}"]
    if not entry.translated():
        return [f"untranslated: {name}"]
    problems = []
    expected = _placeholders(entry.msgid, entry.flags)
    translations = list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]
    for translation in translations:
        # A plural form may leave out a count it spells out ("Eine Bestellung"), but may not invent a placeholder.
        used = _placeholders(translation, entry.flags)
        if used != expected and not (entry.msgid_plural and set(used) <= set(expected)):
            problems.append(f"placeholders differ: {name} has {expected}, {translation[:60]!r} has {used}")
    return problems


def catalogue_problems(language: str, *, template: polib.POFile | None = None) -> list[str]:
    """Everything wrong with one language's catalogue; empty when it is complete and current. With `template` (what
    makemessages extracts now), also what is missing from it or left over."""
    po = polib.pofile(str(catalogue_po(language)))
    entries = [entry for entry in po if not entry.obsolete]
    problems = ["fuzzy: the header"] if po.metadata_is_fuzzy else []
    problems += [problem for entry in entries for problem in entry_problems(entry)]
    if template is not None:
        have = {_key(entry) for entry in entries}
        wanted = {_key(entry) for entry in template if not entry.obsolete}
        problems += [f"missing (run `python manage.py catalogue`): {msgid[:60]!r}"
                     for _c, msgid in sorted(wanted - have)]
        problems += [f"no longer in the code (run `python manage.py catalogue`): {msgid[:60]!r}"
                     for _c, msgid in sorted(have - wanted)]
    mo = catalogue_po(language).with_suffix(".mo")
    if not mo.exists():
        problems.append(f"{mo.name} is missing (run `python manage.py catalogue --compile`)")
    elif _compiled(mo) != _expected(po):
        problems.append(f"{mo.name} does not match {language}/django.po (run `python manage.py catalogue --compile`)")
    return problems


def _compiled(mo: Path) -> dict[object, str]:
    with mo.open("rb") as handle:
        catalog: dict[object, str] = vars(gettext.GNUTranslations(handle))["_catalog"]
    return {key: text for key, text in catalog.items() if key != ""}  # "" is the header


def _expected(po: polib.POFile) -> dict[object, str]:
    """What gettext reads from a .mo compiled from this .po: keyed by msgid (after its context and EOT), plural forms
    by (msgid, index)."""
    expected: dict[object, str] = {}
    for entry in po.translated_entries():
        key = f"{entry.msgctxt}\x04{entry.msgid}" if entry.msgctxt else entry.msgid
        if entry.msgid_plural:
            expected.update({(key, int(index)): text for index, text in entry.msgstr_plural.items()})
        else:
            expected[key] = entry.msgstr
    return expected
