"""add_customer_user takes the password from a prompt (twice) or standard input, never only from the command line,
and holds it to Django's password validators."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db
User = get_user_model()
GOOD = "a-long-enough-password-2026"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _add(*args: str, stdin: io.StringIO) -> None:
    call_command("add_customer_user", "--email", "eve@example.com", "--account", "usmf:US-001", *args,
                 stdin=stdin, stdout=io.StringIO())


def test_the_password_is_read_from_standard_input() -> None:
    _add(stdin=io.StringIO(GOOD + "\n"))
    assert User.objects.get(username="eve@example.com").check_password(GOOD)


def test_at_a_terminal_the_password_is_asked_twice(monkeypatch) -> None:
    answers = iter([GOOD, GOOD])
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(answers))
    _add(stdin=Terminal())
    assert User.objects.get(username="eve@example.com").check_password(GOOD)


def test_two_different_answers_change_nothing(monkeypatch) -> None:
    answers = iter([GOOD, GOOD + "x"])
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(answers))
    with pytest.raises(CommandError, match="differ"):
        _add(stdin=Terminal())
    assert not User.objects.exists()


@pytest.mark.parametrize("weak", ["12345678", "password", "short1", "eve@example.com"])
def test_a_password_the_validators_refuse_changes_nothing(weak: str) -> None:
    with pytest.raises(CommandError):
        _add(stdin=io.StringIO(weak + "\n"))
    with pytest.raises(CommandError):
        _add("--password", weak, stdin=io.StringIO())
    assert not User.objects.exists()


def test_empty_standard_input_is_refused() -> None:
    with pytest.raises(CommandError, match="--no-password"):
        _add(stdin=io.StringIO(""))
    assert not User.objects.exists()


def test_no_password_creates_a_user_who_must_reset_it_and_keeps_an_existing_one() -> None:
    _add("--no-password", stdin=io.StringIO())
    assert not User.objects.get(username="eve@example.com").has_usable_password()
    _add(stdin=io.StringIO(GOOD + "\n"))
    _add("--no-password", stdin=io.StringIO())
    assert User.objects.get(username="eve@example.com").check_password(GOOD)
