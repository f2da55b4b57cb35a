from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from orders.odata.errors import MalformedResponse
from orders.odata.values import read_date, read_datetime, read_decimal, read_enum, read_str, read_yes


def test_empty_date_of_1900_means_no_date() -> None:
    assert read_date({"D": "1900-01-01T12:00:00Z"}, "D") is None
    assert read_datetime({"T": "1900-01-01T00:00:00Z"}, "T") is None
    assert read_date({"D": None}, "D") is None


def test_date_only_field_is_the_utc_date_of_noon() -> None:
    assert read_date({"D": "2026-03-10T12:00:00Z"}, "D") == date(2026, 3, 10)


def test_utc_date_time_keeps_its_time() -> None:
    assert read_datetime({"T": "2026-07-15T01:58:18Z"}, "T") == datetime(2026, 7, 15, 1, 58, 18, tzinfo=UTC)


def test_decimals_are_exact() -> None:
    assert read_decimal({"A": Decimal("0.1")}, "A") + read_decimal({"A": 0.2}, "A") == Decimal("0.3")
    assert read_decimal({"A": 1500}, "A") == Decimal(1500)
    assert read_decimal({}, "A") == Decimal(0)


def test_strings_enums_and_yes_no() -> None:
    assert read_str({"S": ""}, "S") == ""
    assert read_str({"S": "  T0001"}, "S") == "T0001"
    assert read_enum({"E": None}, "E") == ""
    assert read_yes({"Y": "Yes"}, "Y") is True
    assert read_yes({"Y": "No"}, "Y") is False


@pytest.mark.parametrize(("reader", "value"), [(read_date, "yesterday"), (read_decimal, "abc"), (read_str, 5)])
def test_wrong_shapes_are_malformed(reader, value) -> None:
    with pytest.raises(MalformedResponse):
        reader({"X": value}, "X")
