"""The one place where F&O's order status becomes the customer's words.

F&O's SalesStatus "Backorder" is the internal name of an *open* order (reference §2), not a backorder.
Rules are tried in order; the first that matches wins. The same table yields the OData $filter for a
status chosen in the order list, so the list filter and the label can never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from orders.odata.query import Enum, Filter, all_of, any_of, eq

_SALES = "SalesStatus"
_PROCESSING = "SalesOrderProcessingStatus"


def _status(member: str) -> Filter:
    return eq("SalesOrderStatus", Enum(_SALES, member))


def _processing(*members: str) -> Filter:
    return any_of(*(eq("SalesOrderProcessingStatus", Enum(_PROCESSING, m)) for m in members))


@dataclass(frozen=True)
class Rule:
    code: str
    label: str
    description: str
    sales_statuses: frozenset[str]
    processing_statuses: frozenset[str]
    on_hold: bool = False

    def matches(self, *, status: str, processing: str, on_hold: bool) -> bool:
        if self.on_hold:
            return on_hold
        return status in self.sales_statuses or processing in self.processing_statuses or not (
            self.sales_statuses or self.processing_statuses
        )

    def condition(self) -> Filter | None:
        if self.on_hold:
            return eq("IsSalesProcessingStopped", Enum("NoYes", "Yes"))
        parts = [_status(s) for s in sorted(self.sales_statuses)]
        if self.processing_statuses:
            parts.append(_processing(*sorted(self.processing_statuses)))
        return any_of(*parts) if parts else None

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


def status_filter(code: str) -> Filter:
    """The $filter that selects exactly the orders customer_status() labels `code`."""
    rule = RULES_BY_CODE[code]
    earlier = [r.condition() for r in RULES[: RULES.index(rule)]]
    parts = [~c for c in earlier if c is not None]
    own = rule.condition()
    if own is not None:
        parts.insert(0, own)
    return all_of(*parts)


LINE_LABELS = {
    "None": _("Received"),
    "Backorder": _("Open"),
    "Delivered": _("Shipped"),
    "Invoiced": _("Invoiced"),
    "Canceled": _("Cancelled"),
}


def line_status_label(status: str) -> str:
    return str(LINE_LABELS.get(status, status or _("Unknown")))
