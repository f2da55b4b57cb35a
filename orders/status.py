"""The one place where F&O's order status becomes the customer's words.

F&O's SalesStatus "Backorder" is the internal name of an *open* order (reference §2), not a backorder.
Rules are tried in order; the first that matches wins. The same table yields the OData $filter for a
status chosen in the order list, so the list filter and the label can never disagree.

The filter is written with positive comparisons only (`eq`, `ne`), each enum set spelt whichever way is
shorter: "not any earlier rule" as a chain of `not (...)` groups made the "Received" filter alone longer than
most URL budgets (IIS refuses query strings over 2,048 characters). It is exact over the members F&O
documents for SalesStatus, SalesOrderProcessingStatus and NoYes (reference §2).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

from orders.odata.query import Enum, Filter, all_of, any_of, eq, ne

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

_SALES = "SalesStatus"
_PROCESSING = "SalesOrderProcessingStatus"


@dataclass(frozen=True)
class Rule:
    code: str
    label: StrOrPromise
    description: StrOrPromise
    sales_statuses: frozenset[str]
    processing_statuses: frozenset[str]
    on_hold: bool = False

    def matches(self, *, status: str, processing: str, on_hold: bool) -> bool:
        if self.on_hold:
            return on_hold
        return status in self.sales_statuses or processing in self.processing_statuses or not (
            self.sales_statuses or self.processing_statuses
        )

    @property
    def explanation(self) -> str:
        if self.on_hold:
            return "IsSalesProcessingStopped = Yes"
        terms = [f"SalesOrderStatus = {s}" for s in sorted(self.sales_statuses)]
        terms += [f"SalesOrderProcessingStatus = {p}" for p in sorted(self.processing_statuses)]
        return " or ".join(terms) or "any other combination"


RULES: tuple[Rule, ...] = (
    Rule("cancelled", _("Cancelled"), _("This order was cancelled."),
         frozenset({"Canceled"}), frozenset({"Canceled"})),
    Rule("invoiced", _("Invoiced"), _("Everything was delivered and invoiced."),
         frozenset({"Invoiced"}), frozenset({"Invoiced"})),
    Rule("on_hold", _("On hold"), _("We have paused this order. Contact us if you did not expect this."),
         frozenset(), frozenset(), on_hold=True),
    Rule("shipped", _("Shipped"), _("Everything has been shipped."),
         frozenset({"Delivered"}), frozenset({"Delivered", "DeliveredPartiallyInvoiced"})),
    Rule("partially_shipped", _("Partly shipped"), _("Part of the order has been shipped; the rest is on its way."),
         frozenset(), frozenset({"PartiallyDelivered", "PartiallyInvoiced"})),
    Rule("picked", _("Ready to ship"), _("Your goods are picked and waiting to be shipped."),
         frozenset(), frozenset({"Picked"})),
    Rule("confirmed", _("Confirmed"), _("We have confirmed your order and its dates."),
         frozenset(), frozenset({"Confirmed"})),
    Rule("open", _("Received"), _("We have your order and will confirm it soon."), frozenset(), frozenset()),
)
RULES_BY_CODE = {rule.code: rule for rule in RULES}
CODES = tuple(RULES_BY_CODE)


@dataclass(frozen=True)
class CustomerStatus:
    code: str
    label: str
    description: str
    rule: str


def customer_status(*, status: str, processing: str, on_hold: bool) -> CustomerStatus:
    for rule in RULES:
        if rule.matches(status=status, processing=processing, on_hold=on_hold):
            return CustomerStatus(rule.code, str(rule.label), str(rule.description), rule.explanation)
    raise AssertionError("the last rule matches everything")


# Every member of the three enums the rules read, in F&O's order (reference §2).
_MEMBERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "SalesOrderStatus": (_SALES, ("None", "Backorder", "Delivered", "Invoiced", "Canceled")),
    _PROCESSING: (_PROCESSING, (
        "Active", "Confirmed", "Picked", "PartiallyDelivered", "Delivered", "Invoiced", "PartiallyInvoiced",
        "Canceled", "DeliveredPartiallyInvoiced",
    )),
    "IsSalesProcessingStopped": ("NoYes", ("No", "Yes")),
}


def _one_of(prop: str, members: frozenset[str]) -> Filter | None:
    """`prop` is one of `members`: an `eq` chain or an `ne` chain over the rest, whichever needs fewer comparisons.
    None when every member is allowed."""
    enum, every = _MEMBERS[prop]
    chosen = [m for m in every if m in members]
    others = [m for m in every if m not in members]
    if not others:
        return None
    if not chosen:
        raise ValueError(f"no member of {prop} allowed")
    positive = any_of(*(eq(prop, Enum(enum, m)) for m in chosen))
    negative = all_of(*(ne(prop, Enum(enum, m)) for m in others))
    # Fewer comparisons wins; on a tie, `eq`, which also leaves out a null F&O might send.
    return positive if len(chosen) <= len(others) else negative


def _shortest(*candidates: Filter) -> Filter:
    return min(candidates, key=lambda f: len(f.text))


@cache
def status_filter(code: str) -> Filter:
    """The $filter that selects exactly the orders customer_status() labels `code`.

    A rule's orders are "its own condition, and no earlier rule's". Each earlier rule excludes members per
    property, so "no earlier rule" is one allowed set per property; the own condition is an `or` across
    properties. Both spellings (allowed sets and'ed with the own condition, or one box per own property)
    are built and the shorter is kept.
    """
    rule = RULES_BY_CODE[code]
    allowed = {prop: frozenset(members) for prop, (_enum, members) in _MEMBERS.items()}
    for earlier in RULES[: RULES.index(rule)]:
        if earlier.on_hold:
            allowed["IsSalesProcessingStopped"] -= {"Yes"}
        else:
            allowed["SalesOrderStatus"] -= earlier.sales_statuses
            allowed[_PROCESSING] -= earlier.processing_statuses
    own: dict[str, frozenset[str]] = {}
    if rule.on_hold:
        allowed["IsSalesProcessingStopped"] &= {"Yes"}
    else:
        for prop, members in (("SalesOrderStatus", rule.sales_statuses), (_PROCESSING, rule.processing_statuses)):
            if members & allowed[prop]:
                own[prop] = members & allowed[prop]

    def constraints(skip: str = "") -> list[Filter]:
        return [f for prop, members in allowed.items() if prop != skip and (f := _one_of(prop, members)) is not None]

    terms = {prop: term for prop, members in own.items() if (term := _one_of(prop, members)) is not None}
    if not terms or len(terms) < len(own):
        return all_of(*constraints())  # the rule's own condition holds for every order the earlier ones leave
    if len(terms) == 1:
        # The own set lies inside the allowed set of its property, so that allowed set need not be spelt.
        [(prop, term)] = terms.items()
        return all_of(*constraints(skip=prop), term)
    factored = all_of(*constraints(), any_of(*terms.values()))
    boxes = any_of(*(all_of(*constraints(skip=prop), term) for prop, term in terms.items()))
    return _shortest(factored, boxes)


LINE_LABELS = {
    "None": _("Received"),
    "Backorder": _("Open"),
    "Delivered": _("Shipped"),
    "Invoiced": _("Invoiced"),
    "Canceled": _("Cancelled"),
}


def line_status_label(status: str) -> str:
    return str(LINE_LABELS.get(status, status or _("Unknown")))
