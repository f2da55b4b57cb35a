"""The German catalogue: every entry translated, none fuzzy, nothing the code marks missing, the .mo current."""

from __future__ import annotations

import shutil
import subprocess

import polib
import pytest

from languages.catalogue import TRANSLATED, catalogue_po, catalogue_problems, catalogue_template, entry_problems

GETTEXT_MISSING = "GNU gettext is missing: `make test` installs it (apt-get install gettext)"


def test_german_is_a_translated_language() -> None:
    assert TRANSLATED == ["de"]


def test_every_german_entry_is_translated_none_is_fuzzy_and_the_mo_matches_the_po() -> None:
    assert catalogue_problems("de") == []


def test_the_catalogue_holds_exactly_what_makemessages_extracts_from_the_code_and_templates() -> None:
    if not shutil.which("xgettext") or not shutil.which("msgmerge"):
        pytest.fail(GETTEXT_MISSING)
    template = catalogue_template()
    assert len(template) > 400
    assert catalogue_problems("de", template=template) == []


def test_msgfmt_reports_every_german_entry_translated() -> None:
    if not shutil.which("msgfmt"):
        pytest.fail(GETTEXT_MISSING)
    po = catalogue_po("de")
    result = subprocess.run(["msgfmt", "--check", "--statistics", "-o", "/dev/null", str(po)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    # "476 translated messages." and nothing about fuzzy or untranslated ones.
    assert result.stderr.strip().endswith(" translated messages."), result.stderr
    assert "fuzzy" not in result.stderr
    assert "untranslated" not in result.stderr


def test_an_untranslated_a_fuzzy_and_a_misplaced_placeholder_are_each_a_problem() -> None:
    untranslated = polib.POEntry(msgid="Shipped", msgstr="")
    fuzzy = polib.POEntry(msgid="Shipped", msgstr="Versandt", flags=["fuzzy"])
    renamed = polib.POEntry(msgid="Order %(number)s", msgstr="Bestellung %(nummer)s", flags=["python-format"])
    dropped = polib.POEntry(msgid="As of %(time)s (%(age)s)", msgstr="Stand %(time)s", flags=["python-format"])
    plural_gap = polib.POEntry(msgid="%(n)d hour ago", msgid_plural="%(n)d hours ago", flags=["python-format"],
                               msgstr_plural={0: "vor %(n)d Stunde", 1: ""})
    assert entry_problems(untranslated) == ["untranslated: 'Shipped'"]
    assert entry_problems(fuzzy) == ["fuzzy: 'Shipped'"]
    assert entry_problems(renamed)[0].startswith("placeholders differ: 'Order %(number)s'")
    assert entry_problems(dropped)[0].startswith("placeholders differ:")
    assert entry_problems(plural_gap) == ["untranslated: '%(n)d hour ago'"]


def test_a_plural_form_may_spell_out_its_count_but_not_invent_a_placeholder() -> None:
    spelt = polib.POEntry(msgid="%(count)d invoice", msgid_plural="%(count)d invoices", flags=["python-format"],
                          msgstr_plural={0: "eine Rechnung", 1: "%(count)d Rechnungen"})
    invented = polib.POEntry(msgid="%(count)d invoice", msgid_plural="%(count)d invoices", flags=["python-format"],
                             msgstr_plural={0: "%(count)d Rechnung %(x)s", 1: "%(count)d Rechnungen"})
    assert entry_problems(spelt) == []
    assert entry_problems(invented) != []
