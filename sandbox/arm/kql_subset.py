"""The slice of Kusto (KQL) that the emulated Resource Graph understands, parsed strictly.

Served: a table (``resources`` or ``kubernetesconfigurationresources``) followed by ``| where`` (``=~ == !~ !=
contains in~ in``, ``and``/``or``, parentheses), ``| extend`` and ``| project`` (columns, or ``name = expr``),
``| join kind=inner (<query>) on <column>`` and ``| order by``/``| sort by``. Expressions are literals, columns,
dynamic property paths (``properties.gitRepository.url``), indexing (``[0]``) and ``tolower``/``toupper``/
``tostring``/``split``. Anything else raises ``KqlError`` with where it stopped, which the endpoint answers as
Resource Graph does (400 BadRequest with InvalidQuery details).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Row = dict[str, Any]
Expr = Callable[[Row], Any]

_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")|(?P<num>\d+)|(?P<op>=~|!~|==|!=|in~|[|(),.\[\]=])"
    r"|(?P<word>[A-Za-z_][A-Za-z0-9_]*))"
)


class KqlError(ValueError):
    """The query is outside the served subset or wrong; ``position`` is where parsing stopped (0-based)."""

    def __init__(self, message: str, position: int, token: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.position = position
        self.token = token


@dataclass(frozen=True)
class Token:
    kind: str  # str | num | op | word | end
    text: str
    at: int


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    at = 0
    while at < len(text):
        if text[at:].strip() == "":
            break
        found = _TOKEN.match(text, at)
        if found is None or found.lastgroup is None:
            start = len(text[at:]) - len(text[at:].lstrip()) + at
            raise KqlError(f"unexpected character {text[start]!r}", start, text[start])
        kind = found.lastgroup
        value = found.group(kind)
        tokens.append(Token(kind, value, found.start(kind)))
        at = found.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


def _unquote(raw: str) -> str:
    return re.sub(r"\\(.)", r"\1", raw[1:-1])


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _split(value: Any, sep: Any) -> list[str]:
    return _text(value).split(_text(sep)) if _text(sep) else [_text(value)]


FUNCTIONS: dict[str, tuple[int, Callable[..., Any]]] = {
    "tolower": (1, lambda v: _text(v).lower()),
    "toupper": (1, lambda v: _text(v).upper()),
    "tostring": (1, _text),
    "split": (2, _split),
}


def _compare(op: str, left: Any, right: Any) -> bool:
    if op == "==":
        return bool(left == right)
    if op == "!=":
        return bool(left != right)
    if op == "=~":
        return bool(_lower(left) == _lower(right))
    if op == "!~":
        return bool(_lower(left) != _lower(right))
    if op == "contains":
        return left is not None and _text(right).lower() in _text(left).lower()
    if op == "in~":
        return _lower(left) in [_lower(r) for r in right]
    return left in right  # "in"


def _index(value: Any, key: Any) -> Any:
    if isinstance(value, Mapping):
        return value.get(key) if isinstance(key, str) else None
    if isinstance(value, list) and isinstance(key, int) and -len(value) <= key < len(value):
        return value[key]
    return None


def _column(name: str) -> Expr:
    return lambda row: row.get(name)


def _either(a: Expr, b: Expr) -> Expr:
    return lambda row: a(row) is True or b(row) is True


def _both(a: Expr, b: Expr) -> Expr:
    return lambda row: a(row) is True and b(row) is True


def _indexed(base: Expr, key: Any) -> Expr:
    return lambda row: _index(base(row), key)


def _sort_key(name: str) -> Callable[[Row], tuple[bool, str]]:
    return lambda row: (row.get(name) is not None, _text(row.get(name)))


@dataclass
class Stage:
    """A parsed query: its source rows and the operators in order; ``columns`` after the last one."""

    table: str
    steps: list[Callable[[list[Row], Callable[[Stage], list[Row]]], list[Row]]]
    columns: list[str]


class Parser:
    """Recursive descent over the tokens of one query; ``schemas`` names each table's columns."""

    def __init__(self, text: str, schemas: Mapping[str, Sequence[str]]) -> None:
        self.tokens = tokenize(text)
        self.pos = 0
        self.schemas = schemas

    # -- tokens ----------------------------------------------------------------------------------

    @property
    def tok(self) -> Token:
        return self.tokens[self.pos]

    def fail(self, what: str) -> KqlError:
        tok = self.tok
        return KqlError(f"{what} (at '{tok.text or 'end of query'}')", tok.at, tok.text)

    def take(self, kind: str, text: str | None = None) -> Token:
        tok = self.tok
        if tok.kind != kind or (text is not None and tok.text.lower() != text):
            raise self.fail(f"expected {text or kind}")
        self.pos += 1
        return tok

    def peek_word(self, *words: str) -> bool:
        return self.tok.kind == "word" and self.tok.text.lower() in words

    # -- queries ---------------------------------------------------------------------------------

    def query(self, *, nested: bool = False) -> Stage:
        name = self.take("word").text
        if name.lower() not in self.schemas:
            raise KqlError(f"unknown table '{name}'", self.tokens[self.pos - 1].at, name)
        stage = Stage(name.lower(), [], list(self.schemas[name.lower()]))
        while self.tok.kind == "op" and self.tok.text == "|":
            self.pos += 1
            self.operator(stage)
        if not nested and self.tok.kind != "end":
            raise self.fail("expected '|' or the end of the query")
        return stage

    def operator(self, stage: Stage) -> None:
        word = self.take("word").text.lower()
        if word == "where":
            cond = self.expr(stage.columns)
            stage.steps.append(lambda rows, run: [r for r in rows if cond(r) is True])
        elif word in ("project", "extend"):
            self.assignments(stage, keep=word == "extend")
        elif word == "join":
            self.join(stage)
        elif word in ("order", "sort"):
            self.take("word", "by")
            self.order(stage)
        else:
            raise KqlError(f"the operator '{word}' is not served", self.tokens[self.pos - 1].at, word)

    def assignments(self, stage: Stage, *, keep: bool) -> None:
        made: list[tuple[str, Expr]] = []
        while True:
            name_tok = self.take("word")
            if self.tok.kind == "op" and self.tok.text == "=":
                self.pos += 1
                made.append((name_tok.text, self.expr(stage.columns)))
            elif keep:
                raise self.fail("extend needs name = expression")
            else:
                if name_tok.text not in stage.columns:
                    raise KqlError(f"failed to resolve column '{name_tok.text}'", name_tok.at, name_tok.text)
                column = name_tok.text
                made.append((column, _column(column)))
            if not (self.tok.kind == "op" and self.tok.text == ","):
                break
            self.pos += 1
        names = [n for n, _ in made]

        def step(rows: list[Row], run: Callable[[Stage], list[Row]]) -> list[Row]:
            out = []
            for row in rows:
                values = {n: f(row) for n, f in made}
                out.append({**row, **values} if keep else values)
            return out

        stage.steps.append(step)
        stage.columns = [*stage.columns, *[n for n in names if n not in stage.columns]] if keep else names

    def join(self, stage: Stage) -> None:
        self.take("word", "kind")
        self.take("op", "=")
        kind = self.take("word").text.lower()
        if kind != "inner":
            raise KqlError(f"join kind '{kind}' is not served (inner is)", self.tokens[self.pos - 1].at, kind)
        self.take("op", "(")
        right = self.query(nested=True)
        self.take("op", ")")
        self.take("word", "on")
        key_tok = self.take("word")
        key = key_tok.text
        if key not in stage.columns or key not in right.columns:
            raise KqlError(f"join key '{key}' must be a column of both sides", key_tok.at, key)
        renamed = {c: (f"{c}1" if c in stage.columns else c) for c in right.columns}

        def step(rows: list[Row], run: Callable[[Stage], list[Row]]) -> list[Row]:
            by_key: dict[Any, list[Row]] = {}
            for r in run(right):
                by_key.setdefault(r.get(key), []).append(r)
            return [
                {**row, **{renamed[c]: v for c, v in match.items()}}
                for row in rows
                for match in by_key.get(row.get(key), [])
            ]

        stage.steps.append(step)
        stage.columns = [*stage.columns, *renamed.values()]

    def order(self, stage: Stage) -> None:
        keys: list[tuple[str, bool]] = []
        while True:
            col = self.take("word")
            if col.text not in stage.columns:
                raise KqlError(f"failed to resolve column '{col.text}'", col.at, col.text)
            descending = True  # KQL sorts descending unless told
            if self.peek_word("asc", "desc"):
                descending = self.take("word").text.lower() == "desc"
            keys.append((col.text, descending))
            if not (self.tok.kind == "op" and self.tok.text == ","):
                break
            self.pos += 1

        def step(rows: list[Row], run: Callable[[Stage], list[Row]]) -> list[Row]:
            out = list(rows)
            for column, descending in reversed(keys):
                out.sort(key=_sort_key(column), reverse=descending)
            return out

        stage.steps.append(step)

    # -- expressions -----------------------------------------------------------------------------

    def expr(self, columns: list[str]) -> Expr:
        left = self.conjunction(columns)
        while self.peek_word("or"):
            self.pos += 1
            right, first = self.conjunction(columns), left
            left = _either(first, right)
        return left

    def conjunction(self, columns: list[str]) -> Expr:
        left = self.comparison(columns)
        while self.peek_word("and"):
            self.pos += 1
            right, first = self.comparison(columns), left
            left = _both(first, right)
        return left

    def comparison(self, columns: list[str]) -> Expr:
        left = self.value(columns)
        tok = self.tok
        if tok.kind == "op" and tok.text in ("=~", "!~", "==", "!=", "in~"):
            op = tok.text
        elif tok.kind == "word" and tok.text.lower() in ("contains", "in"):
            op = tok.text.lower()
        else:
            return left
        self.pos += 1
        if op in ("in", "in~"):
            self.take("op", "(")
            items = [self.literal()]
            while self.tok.kind == "op" and self.tok.text == ",":
                self.pos += 1
                items.append(self.literal())
            self.take("op", ")")
            return lambda r: _compare(op, left(r), items)
        right = self.value(columns)
        return lambda r: _compare(op, left(r), right(r))

    def literal(self) -> Any:
        tok = self.tok
        if tok.kind == "str":
            self.pos += 1
            return _unquote(tok.text)
        if tok.kind == "num":
            self.pos += 1
            return int(tok.text)
        raise self.fail("expected a literal")

    def value(self, columns: list[str]) -> Expr:
        base = self.primary(columns)
        while self.tok.kind == "op" and self.tok.text in (".", "["):
            if self.take("op").text == ".":
                key: Any = self.take("word").text
            else:
                key = self.literal()
                self.take("op", "]")
            base = _indexed(base, key)
        return base

    def primary(self, columns: list[str]) -> Expr:
        tok = self.tok
        if tok.kind in ("str", "num"):
            constant = self.literal()
            return lambda r: constant
        if tok.kind == "op" and tok.text == "(":
            self.pos += 1
            inner = self.expr(columns)
            self.take("op", ")")
            return inner
        if tok.kind != "word":
            raise self.fail("expected an expression")
        self.pos += 1
        if tok.text.lower() in ("true", "false"):
            flag = tok.text.lower() == "true"
            return lambda r: flag
        if self.tok.kind == "op" and self.tok.text == "(":
            return self.call(tok, columns)
        if tok.text not in columns:
            raise KqlError(f"failed to resolve scalar expression named '{tok.text}'", tok.at, tok.text)
        return _column(tok.text)

    def call(self, name: Token, columns: list[str]) -> Expr:
        spec = FUNCTIONS.get(name.text.lower())
        if spec is None:
            raise KqlError(f"the function '{name.text}' is not served", name.at, name.text)
        arity, fn = spec
        self.take("op", "(")
        args = [self.expr(columns)]
        while self.tok.kind == "op" and self.tok.text == ",":
            self.pos += 1
            args.append(self.expr(columns))
        self.take("op", ")")
        if len(args) != arity:
            raise KqlError(f"{name.text}() takes {arity} argument(s), not {len(args)}", name.at, name.text)
        return lambda r: fn(*(a(r) for a in args))


def parse(text: str, schemas: Mapping[str, Sequence[str]]) -> Stage:
    """The query as a runnable stage, or KqlError."""
    return Parser(text, schemas).query()


def run(stage: Stage, tables: Callable[[str], list[Row]]) -> list[Row]:
    """The rows a parsed query yields over ``tables`` (table name -> its rows), projected to its columns."""

    def execute(s: Stage) -> list[Row]:
        rows = [dict(r) for r in tables(s.table)]
        for step in s.steps:
            rows = step(rows, execute)
        return [{c: r.get(c) for c in s.columns} for r in rows]

    return execute(stage)
