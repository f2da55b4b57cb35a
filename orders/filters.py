"""What a lookup may ask for: the order list's filters, and the limits on order references and search text.

Input outside these limits never reaches F&O (orders.exceptions.InvalidLookup).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

# F&O number sequences may hold constant characters such as `/`, spaces or `#` ("SO/2026/0001"); any printable
# text up to 40 characters can name an order. `*` is F&O's wildcard inside eq and cannot be escaped, so never.
ORDER_NUMBER_MAX = 40
COMPANY = re.compile(r"[a-z0-9]{1,8}")
SEARCH_MAX = 60
PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
MAX_PAGE = 500


@dataclass(frozen=True)
class OrderFilters:
    q: str = ""
    status: str = ""
    date_from: date | None = None
    date_to: date | None = None
    page: int = 1
    page_size: int = PAGE_SIZE

    @property
    def narrowed(self) -> bool:
        """Whether anything but paging narrows the list."""
        return bool(self.q or self.status or self.date_from or self.date_to)


def order_number_valid(number: str) -> bool:
    return (
        0 < len(number) <= ORDER_NUMBER_MAX
        and number == number.strip()
        and "*" not in number
        and all(ch.isprintable() for ch in number)
    )


# What a guest proves an order is theirs with: its delivery postal code (10 characters in F&O) or their own order
# reference (CustomersOrderReference, 60). The same rules as an order number: printable, trimmed, never `*`.
GUEST_FACT_MAX = 60


def guest_fact_valid(fact: str) -> bool:
    return (
        0 < len(fact) <= GUEST_FACT_MAX
        and fact == fact.strip()
        and "*" not in fact
        and all(ch.isprintable() for ch in fact)
    )


def company_valid(company: str) -> bool:
    return COMPANY.fullmatch(company) is not None


def search_text_clean(text: str) -> str | None:
    """Search text with its whitespace collapsed and F&O's wildcard `*` dropped (it cannot be escaped, so it is not
    searchable text); None when it is too long or holds control characters."""
    text = " ".join(text.split())
    if len(text) > SEARCH_MAX or any(unicodedata.category(ch) == "Cc" for ch in text):
        return None
    return text.replace("*", "")
