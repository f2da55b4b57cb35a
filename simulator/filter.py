"""A strict parser and evaluator for the part of OData $filter that F&O supports (reference §6).

Tokenizer plus recursive descent, so nesting, quoting and precedence are handled as a server
would, and anything F&O rejects (functions, `in`, `has`, unknown or wrong-case properties)
raises BadRequest with F&O's words.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import cast

from .schema import ENUMS, NAMESPACE, EntitySet


class BadRequest(Exception):
    pass


@dataclass(frozen=True)
class Token:
    kind: str  # "(", ")", ",", "str", "enum", "num", "dt", "name", "word"
    text: str
    value: object = None


_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<punct>[(),])
  | (?P<str>'(?:[^']|'')*')
  | (?P<dt>\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2}))?)
  | (?P<num>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?[mMdDfFlL]?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*(?:[./][A-Za-z_][A-Za-z0-9_]*)*)(?P<enumlit>'(?:[^']|'')*')?
    """,
    re.VERBOSE,
)

COMPARISONS = {"eq", "ne", "gt", "ge", "lt", "le"}
UNSUPPORTED_OPERATORS = {"has", "in", "add", "sub", "mul", "div", "divby", "mod"}


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            raise BadRequest(f"Syntax error at position {pos} in '{text[:200]}'.")
        pos = m.end()
        if m.group("ws"):
            continue
        if m.group("punct"):
            tokens.append(Token(m.group("punct"), m.group("punct")))
        elif m.group("str") is not None:
            tokens.append(Token("str", m.group("str"), m.group("str")[1:-1].replace("''", "'")))
        elif m.group("dt"):
            tokens.append(Token("dt", m.group("dt"), _datetime(m.group("dt"))))
        elif m.group("num"):
            raw = m.group("num").rstrip("mMdDfFlL")
            try:
                tokens.append(Token("num", raw, Decimal(raw)))
            except InvalidOperation as exc:
                raise BadRequest(f"Bad number literal '{raw}'.") from exc
        elif m.group("enumlit") is not None:
            tokens.append(Token("enum", m.group(0), (m.group("name"), m.group("enumlit")[1:-1])))
        else:
            word = m.group("name")
            tokens.append(Token("word" if word in _KEYWORDS else "name", word))
    return tokens


_KEYWORDS = COMPARISONS | UNSUPPORTED_OPERATORS | {"and", "or", "not", "true", "false", "null"}


def _datetime(text: str) -> datetime:
    value = text if "T" in text else text + "T00:00:00Z"
    value = value.replace("Z", "+00:00")
    try:
        return datetime.fromisoformat(value)
    except ValueError as exc:
        raise BadRequest(f"Bad date-time literal '{text}'.") from exc


Predicate = Callable[[dict[str, object]], bool]


class _Parser:
    def __init__(self, tokens: list[Token], entity: EntitySet) -> None:
        self.tokens = tokens
        self.pos = 0
        self.entity = entity

    def peek(self) -> Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> Token:
        tok = self.peek()
        if tok is None:
            raise BadRequest("Unexpected end of $filter expression.")
        self.pos += 1
        return tok

    def parse(self) -> Predicate:
        pred = self.or_expr()
        if (extra := self.peek()) is not None:
            raise BadRequest(f"Syntax error: unexpected '{extra.text}'.")
        return pred

    def or_expr(self) -> Predicate:
        left = self.and_expr()
        while (tok := self.peek()) and tok.kind == "word" and tok.text == "or":
            self.take()
            right = self.and_expr()
            # An `or` of order numbers still narrows the rows to those numbers: both sides must name the property.
            lc, rc = candidates_of(left), candidates_of(right)
            either = {prop: lc[prop] | rc[prop] for prop in lc.keys() & rc.keys()}
            left = _with((lambda a, b: lambda row: a(row) or b(row))(left, right), either)
        return left

    def and_expr(self) -> Predicate:
        left = self.unary()
        while (tok := self.peek()) and tok.kind == "word" and tok.text == "and":
            self.take()
            right = self.unary()
            lc, rc = candidates_of(left), candidates_of(right)
            both = {**lc, **rc, **{prop: lc[prop] & rc[prop] for prop in lc.keys() & rc.keys()}}
            left = _with((lambda a, b: lambda row: a(row) and b(row))(left, right), both)
        return left

    def unary(self) -> Predicate:
        tok = self.peek()
        if tok and tok.kind == "word" and tok.text == "not":
            self.take()
            inner = self.unary()
            return _with(lambda row: not inner(row), {})
        if tok and tok.kind == "(":
            self.take()
            inner = self.or_expr()
            if self.take().kind != ")":
                raise BadRequest("Syntax error: ')' expected.")
            return inner
        return self.comparison()

    def operand(self) -> tuple[str, object]:
        tok = self.take()
        if tok.kind == "name":
            nxt = self.peek()
            if nxt and nxt.kind == "(":
                raise BadRequest(f"Unknown function '{tok.text}'.")
            if "/" in tok.text or "." in tok.text:
                raise BadRequest(f"Navigation and qualified paths are not supported here: '{tok.text}'.")
            if tok.text not in self.entity.properties:
                raise BadRequest(
                    f"Could not find a property named '{tok.text}' on type "
                    f"'{NAMESPACE}.{self.entity.type_name}'."
                )
            return "prop", tok.text
        if tok.kind == "word" and tok.text in ("true", "false"):
            return "lit", tok.text == "true"
        if tok.kind == "word" and tok.text == "null":
            return "lit", None
        if tok.kind in ("str", "num", "dt", "enum"):
            return tok.kind, tok.value
        raise BadRequest(f"Syntax error: unexpected '{tok.text}'.")

    def comparison(self) -> Predicate:
        left = self.operand()
        op_tok = self.take()
        if op_tok.kind != "word" or op_tok.text not in COMPARISONS:
            if op_tok.text in UNSUPPORTED_OPERATORS:
                raise BadRequest(f"The operator '{op_tok.text}' is not supported.")
            raise BadRequest(f"Syntax error: operator expected, found '{op_tok.text}'.")
        right = self.operand()
        if left[0] != "prop" and right[0] == "prop":
            left, right = right, left
            op = {"gt": "lt", "lt": "gt", "ge": "le", "le": "ge"}.get(op_tok.text, op_tok.text)
        else:
            op = op_tok.text
        if left[0] != "prop":
            raise BadRequest("A comparison needs a property on one side.")
        return self.build(str(left[1]), op, right)

    def build(self, prop: str, op: str, right: tuple[str, object]) -> Predicate:
        kind = self.entity.properties[prop]
        rkind, rvalue = right
        if rkind == "prop":
            raise BadRequest("Comparing two properties is not supported by this simulator.")
        if kind.startswith("enum:"):
            enum_type = kind[5:]
            if rkind != "enum":
                # F&O wants the qualified literal; a bare string is unconfirmed, so refuse it (reference §5).
                raise BadRequest(f"A value of type '{NAMESPACE}.{enum_type}' is expected for '{prop}'.")
            qualified, member = cast("tuple[str, str]", rvalue)
            if qualified != f"{NAMESPACE}.{enum_type}" or member not in ENUMS[enum_type]:
                raise BadRequest(f"The enum literal '{qualified}'{member}'' is not valid for '{prop}'.")
            if op not in ("eq", "ne"):
                raise BadRequest(f"The operator '{op}' is not supported for enum properties.")
            return lambda row: (row.get(prop) == member) == (op == "eq")
        if rkind == "enum":
            raise BadRequest(f"'{prop}' is not an enum property.")
        if kind == "String":
            if rkind == "lit" and rvalue is None:
                return _compare(op, lambda row: row.get(prop), None)
            if rkind != "str":
                raise BadRequest(f"A string literal is expected for '{prop}'.")
            text = str(rvalue)
            if "*" in text and op in ("eq", "ne"):
                # F&O's wildcard search inside eq (reference §6); string comparisons ignore case.
                pattern = re.compile(".*".join(re.escape(p) for p in text.split("*")), re.IGNORECASE | re.DOTALL)
                return lambda row: bool(pattern.fullmatch(str(row.get(prop) or ""))) == (op == "eq")
            folded = text.casefold()
            pred = _compare(op, lambda row: str(row.get(prop) or "").casefold(), folded)
            return _with(pred, {prop: frozenset({folded})} if op == "eq" else {})
        if kind in ("Date", "DateTime"):
            if rkind != "dt":
                raise BadRequest(f"A date-time literal is expected for '{prop}'.")
            return _compare(op, lambda row: _datetime(str(row.get(prop))), rvalue)
        if rkind != "num":
            raise BadRequest(f"A numeric literal is expected for '{prop}'.")
        return _compare(op, lambda row: Decimal(str(row.get(prop))), rvalue)


def _compare(op: str, get: Callable[[dict[str, object]], object], value: object) -> Predicate:
    def pred(row: dict[str, object]) -> bool:
        left = get(row)
        if op == "eq":
            return left == value
        if op == "ne":
            return left != value
        if left is None or value is None:
            return False
        # Both sides are of the property's kind (a Decimal or a datetime), checked when the filter was parsed.
        a, b = cast(Decimal, left), cast(Decimal, value)
        return {"gt": a > b, "ge": a >= b, "lt": a < b, "le": a <= b}[op]

    return pred


def _with(pred: Predicate, candidates: dict[str, frozenset[str]]) -> Predicate:
    pred.candidates = candidates  # type: ignore[attr-defined]  # a function attribute, read by candidates_of
    return pred


def candidates_of(pred: Predicate) -> dict[str, frozenset[str]]:
    """Per string property, the casefolded values every match must have one of (from `eq` terms joined by `and`,
    and `or` chains of them): lets the server use an index. A property not named may have any value."""
    return getattr(pred, "candidates", {})


def parse_filter(text: str, entity: EntitySet) -> Predicate:
    if len(text) > 20000:
        raise BadRequest("The $filter expression is too long.")
    return _Parser(tokenize(text), entity).parse()
