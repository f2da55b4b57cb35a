from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from urllib.parse import unquote

import pytest

from orders.odata.query import Enum, Query, all_of, any_of, eq, ge, le, like, literal, ne

INJECTION_CORPUS = [
    "x' or OrderingCustomerAccountNumber ne 'y",
    "'",
    "''",
    "000123')",
    "a)/SalesOrderLines?$top=1",
    "a/b",
    "a?b=c",
    "a&$filter=true",
    "a#fragment",
    "100%",
    "%27",
    "a+b",
    "a b",
    "Grüße 注文 🚚",
    "tab\tnew\nline\r\x00\x1f",
    "x" * 10_000,
    "') or true or ('",
    "\\'",
]


def _filter_of(query: Query) -> str:
    params = dict(part.split("=", 1) for part in query.query_string().split("&"))
    return unquote(params["$filter"])


@pytest.mark.parametrize("value", INJECTION_CORPUS)
def test_string_literal_survives_the_url_as_one_literal(value: str) -> None:
    query = Query("SalesOrderHeadersV2").where(eq("SalesOrderNumber", value))
    encoded = query.query_string()
    # Every character that could end the parameter, the query or the literal is encoded.
    for raw in (" ", "&", "#", "?", "+", "\n", "\t", "\x00", "/"):
        assert raw not in encoded.split("$filter=", 1)[1]
    assert encoded.count("&") == 1  # cross-company and $filter, nothing smuggled in
    assert _filter_of(query) == "SalesOrderNumber eq '" + value.replace("'", "''") + "'"


def test_quotes_are_doubled() -> None:
    assert literal("O'Brien's") == "'O''Brien''s'"


def test_key_predicate_names_every_key_field_and_encodes_values() -> None:
    query = Query("SalesOrderHeadersV2").by_key(dataAreaId="usmf", SalesOrderNumber="000123")
    assert query.path() == "SalesOrderHeadersV2(dataAreaId='usmf',SalesOrderNumber='000123')"
    hostile = Query("SalesOrderHeadersV2").by_key(dataAreaId="usmf", SalesOrderNumber="a'/b?c#d%e f")
    assert hostile.path() == "SalesOrderHeadersV2(dataAreaId='usmf',SalesOrderNumber='a''%2Fb%3Fc%23d%25e%20f')"


def test_qualified_enum_literal() -> None:
    condition = eq("SalesOrderStatus", Enum("SalesStatus", "Backorder"))
    assert condition.text == "SalesOrderStatus eq Microsoft.Dynamics.DataEntities.SalesStatus'Backorder'"
    with pytest.raises(ValueError, match="identifier"):
        Enum("SalesStatus", "Backorder' or 1 eq 1").__str__()


def test_full_query_string_uses_percent_twenty_and_every_option() -> None:
    query = (
        Query("SalesOrderHeadersV2")
        .where(eq("dataAreaId", "usmf") & ne("SalesOrderStatus", Enum("SalesStatus", "Canceled")))
        .selecting("SalesOrderNumber", "SalesOrderStatus")
        .ordered_by("OrderCreationDateTime desc", "SalesOrderNumber")
        .page(top=25, skip=50)
        .with_count()
        .expanding("SalesOrderLines", "ItemNumber", "LineAmount")
    )
    assert query.query_string() == (
        "cross-company=true"
        "&$filter=dataAreaId%20eq%20'usmf'%20and%20SalesOrderStatus%20ne%20"
        "Microsoft.Dynamics.DataEntities.SalesStatus'Canceled'"
        "&$select=SalesOrderNumber,SalesOrderStatus"
        "&$expand=SalesOrderLines($select%3DItemNumber,LineAmount)"
        "&$orderby=OrderCreationDateTime%20desc,SalesOrderNumber"
        "&$top=25&$skip=50&$count=true"
    )


def test_queries_are_immutable() -> None:
    base = Query("SalesOrderLines")
    narrowed = base.where(eq("SalesOrderNumber", "1"))
    assert base.filter is None
    assert narrowed is not base


def test_date_and_number_literals() -> None:
    assert literal(datetime(2026, 7, 1, 0, 0, tzinfo=UTC)) == "2026-07-01T00:00:00Z"
    assert literal(date(2026, 7, 1)) == "2026-07-01T12:00:00Z"
    assert literal(datetime(416, 3, 30, tzinfo=UTC)) == "0416-03-30T00:00:00Z"
    assert literal(Decimal("1.50")) == "1.50"
    assert literal(True) == "true"
    assert literal(None) == "null"
    with pytest.raises(ValueError, match="naive"):
        literal(datetime(2026, 7, 1))
    plus = Query("X").where(ge("D", datetime(2026, 1, 1, tzinfo=UTC)) & le("N", 5)).query_string()
    assert "+" not in plus


def test_wildcard_only_through_like() -> None:
    with pytest.raises(ValueError, match="wildcard"):
        eq("SalesOrderNumber", "00*")
    assert like("SalesOrderName", "*retail*").text == "SalesOrderName eq '*retail*'"


@pytest.mark.parametrize("bad", ["Sales Order", "a'b", "x)", "", "1abc", "a;b", "a" * 200])
def test_names_admit_identifiers_only(bad: str) -> None:
    with pytest.raises(ValueError, match="identifier"):
        eq(bad, "x")


def test_set_membership_is_a_chain_of_or_because_f_and_o_has_no_in() -> None:
    condition = any_of(eq("dataAreaId", "usmf"), eq("dataAreaId", "demf"))
    assert condition.text == "dataAreaId eq 'usmf' or dataAreaId eq 'demf'"
    assert " in " not in condition.text
    scoped = all_of(condition, eq("SalesOrderNumber", "1"))
    assert scoped.text == "(dataAreaId eq 'usmf' or dataAreaId eq 'demf') and SalesOrderNumber eq '1'"
    assert (~scoped).text == f"not ({scoped.text})"
