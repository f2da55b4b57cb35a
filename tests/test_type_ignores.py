"""A silenced type error names its error code and says why, beside it: `ignore[code]  # reason`.

mypy refuses an ignore comment without a code (`ignore-without-code` in pyproject.toml); this test asks for the reason.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_NOT_OURS = {".venv", ".git", "node_modules", "var", "test-artifacts", "build"}
_IGNORE = re.compile(r"#\s*type:\s*ignore(?P<code>\[[a-z0-9-]+(?:,\s*[a-z0-9-]+)*\])?(?P<rest>.*)$")
_REASON = re.compile(r"\s+#\s*\S.{4,}")


def _sources() -> list[Path]:
    return [
        path for path in sorted(ROOT.rglob("*.py"))
        if not _NOT_OURS.intersection(path.relative_to(ROOT).parts[:-1])
    ]


def unexplained_ignores(text: str) -> list[int]:
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        match = _IGNORE.search(line)
        if match and not (match["code"] and _REASON.match(match["rest"])):
            found.append(number)
    return found


def test_every_type_ignore_names_its_error_code_and_gives_a_reason() -> None:
    bad = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in _sources()
        for number in unexplained_ignores(path.read_text(encoding="utf-8"))
    ]
    assert bad == []


def test_the_check_tells_a_reasoned_ignore_from_a_bare_one() -> None:
    ignore = "# type" + ": ignore"  # spelt in two, so this file passes its own check
    bare = f"x = f()  {ignore}\n"
    code_only = f"x = f()  {ignore}[attr-defined]\n"
    reasoned = f"x = f()  {ignore}[attr-defined]  # set by the library at run time\n"
    assert unexplained_ignores(bare + code_only + reasoned) == [1, 2]
