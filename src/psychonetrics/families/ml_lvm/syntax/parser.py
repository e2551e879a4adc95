"""A parser of lavaan's model syntax, including two-level ``level:`` blocks.

:func:`parse_syntax` reads a model written in lavaan's syntax and returns its
statements, one per left-hand side and operator, with the modifiers of every
right-hand-side element. It checks the grammar only: whether a name is an
observed or a latent variable, and whether the model is identified, is
decided by whoever compiles the statements into model matrices.

Grammar
-------
Layout

* ``#`` and ``!`` start a comment that runs to the end of the line (not
  inside a quoted label).
* Statements are separated by newlines or ``;`` (lavaan treats both alike).
  A statement continues on the next line when its line ends with an
  operator, ``+``, ``-``, ``*``, ``?``, ``(`` or ``,``, or when the next line
  starts with ``+``, ``*``, ``?`` or one of the operators ``=~``, ``~``,
  ``~~``. Blank and comment lines in between are skipped.
* Whitespace may appear anywhere between tokens, but not inside an operator
  (``= ~`` is not ``=~``).

Statements::

    lhs ('+' lhs)*  op  term ('+' term)*          op: '=~', '~' or '~~'
    term     := (modifier ('*' | '?'))* variable
    variable := name | '1'                        '1' (an intercept) in '~' only
    modifier := number | 'NA' | label | "quoted label"
              | label("a") | equal("a") | start(number) | fixed(number | NA)

* ``F =~ y1 + y2`` -- F is measured by y1 and y2; ``y ~ x1 + x2`` -- y is
  regressed on x1 and x2; ``y1 ~~ y2`` -- covariance (``y1 ~~ y1``: variance).
* ``y ~ 1`` is an intercept; it is returned with the operator ``"~1"`` and
  the single term ``Term("1")``. ``y ~ 0`` is lavaan's short form of
  ``y ~ 0*1``. A ``~`` statement may mix both (``y ~ 1 + x1``): it is split
  into a ``"~1"`` and a ``"~"`` statement, in order of first appearance.
* Several left-hand sides (``y1 + y2 ~ x1``) give one statement per
  left-hand side, with the same terms.
* Modifiers premultiply a variable with ``*``: a number fixes the parameter
  (``0.5*y2``, ``-1*y2``, ``1e-3*y2``); ``NA`` frees a parameter lavaan would
  fix, such as a marker loading; an identifier (``a*y2``), a quoted string
  (``"a"*y2``), ``label("a")`` or ``equal("a")`` give a label; ``start(0.3)``
  or ``0.3?y2`` give a start value; ``fixed(0.5)`` is ``0.5*``. Modifiers can
  be chained (``NA*a*y1``) or spread over repeated terms of the same variable
  (``F =~ NA*y1 + a*y1 + y2``); they are merged into one :class:`Term` at the
  position of the variable's first appearance. Repeating a modifier with the
  same value is allowed; two different labels, fixed values or start values,
  or a fixed value together with ``NA``, are an error.
* Names (variables and labels) are letters, digits, ``_`` and ``.`` and do not
  start with a digit (``y.1``, ``item_3``). ``NA`` is not a variable name.
* A variable regressed on itself (``y ~ y``) is an error unless the
  coefficient is fixed at zero, as in lavaan.

Levels::

    level: 1        (or: level: within,  level:1,  Level: WITHIN,  level: "1")
        ...statements of the within-cluster level...
    level: 2        (or: level: between)
        ...statements of the between-cluster level...

Every statement after a ``level:`` line belongs to that level (``"within"``
or ``"between"``) until the next ``level:`` line. When the syntax has a
``level:`` line, a statement before the first one is an error; without
``level:`` lines every statement has ``level=None``. A level may be given
more than once: its statements accumulate (each keeps its own position in
``statements``). Whether both levels are present is left to the compiler.

Not supported (a :class:`~psychonetrics.exceptions.ModelSyntaxError` names the
construct and the line): defined parameters ``:=``; constraints ``==``,
``<``, ``>``; thresholds ``|``; scaling factors ``~*~``; formative indicators
``<~``; ``%`` blocks; ``group:`` (and ``block:``/``class:``) blocks; ``efa("...")*``
modifiers; interaction terms ``x1:x2``; per-group modifiers ``c(...)``;
``upper()``, ``lower()``, ``prior()``, ``rv()``; expressions such as
``sqrt(2)*y``. Every error message reads ``line N ('<statement>'): <problem>``,
with N the first line of the statement (and the line of the offending token
when the statement spans several lines).

Example
-------
>>> m = parse_syntax('''
... level: 1
...     fw =~ y1 + a*y2 + y3
...     fw ~ x1
... level: 2
...     fb =~ y1 + y2 + y3
... ''')
>>> m.has_levels, [(s.level, s.lhs, s.op) for s in m.statements]
(True, [('within', 'fw', '=~'), ('within', 'fw', '~'), ('between', 'fb', '=~')])
>>> m.statements[0].terms[1]
Term(name='y2', label='a', fixed=None, free=False, start=None)
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from psychonetrics.exceptions import ModelSyntaxError

__all__ = ["ModelSyntax", "Statement", "Term", "parse_syntax"]


# --------------------------------------------------------------------------
# Result
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    """One right-hand-side element with its modifiers.

    Attributes
    ----------
    name : str
        A variable name, or ``"1"`` for an intercept.
    label : str or None
        The label from ``a*y2``, ``"a"*y2``, ``label("a")*y2`` or
        ``equal("a")*y2``.
    fixed : float or None
        The value the parameter is fixed at (``0.5*y2``, ``-1*y2``, ``0*y2``).
    free : bool
        True for ``NA*y2``: frees a parameter lavaan would fix (e.g. a marker
        loading).
    start : float or None
        A start value only (``start(0.5)*y2`` or ``0.5?y2``).
    """

    name: str
    label: str | None = None
    fixed: float | None = None
    free: bool = False
    start: float | None = None


@dataclass(frozen=True)
class Statement:
    """One statement: a left-hand side, an operator and its terms.

    Attributes
    ----------
    lhs : str
        The left-hand-side variable.
    op : str
        ``"=~"`` (measured by), ``"~"`` (regressed on), ``"~~"`` (covariance
        or variance) or ``"~1"`` (intercept; ``terms`` is ``(Term("1", ...),)``).
    terms : tuple of Term
        The right-hand side, one :class:`Term` per variable, in order of first
        appearance, with the modifiers of repeated variables merged.
    level : str or None
        ``"within"`` or ``"between"`` inside level blocks, None when the
        syntax has no ``level:`` lines.
    line : int
        1-based line number of the statement's first line.
    text : str
        The statement as written (whitespace runs and comments collapsed to
        one space), for messages. Statements expanded from one source
        statement (several left-hand sides, ``y ~ 1 + x``) share it.
    """

    lhs: str
    op: str
    terms: tuple[Term, ...]
    level: str | None
    line: int
    text: str


@dataclass(frozen=True)
class ModelSyntax:
    """The statements of a lavaan model syntax, in the order written.

    Attributes
    ----------
    statements : tuple of Statement
        Every statement, after expanding several left-hand sides and splitting
        intercepts from regressions.
    has_levels : bool
        True when the syntax uses ``level:`` blocks.
    """

    statements: tuple[Statement, ...]
    has_levels: bool


# --------------------------------------------------------------------------
# Lexing
# --------------------------------------------------------------------------

_OPERATORS: tuple[str, ...] = ("=~", "~", "~~")
_OPERATOR_TEXT = "'=~', '~' or '~~'"

#: Operators of lavaan's syntax that are recognised but not supported: their error messages.
_UNSUPPORTED_OPERATORS: dict[str, str] = {
    ":=": "defined parameters (':=') are not supported",
    "==": "equality constraints ('==') are not supported; to constrain parameters to be "
    "equal, give them the same label (e.g. 'F =~ y1 + a*y2 + a*y3')",
    "<": "inequality constraints ('<') are not supported",
    ">": "inequality constraints ('>') are not supported",
    "|": "thresholds ('|') are not supported",
    "~*~": "scaling factors ('~*~') are not supported",
    "<~": "formative indicators ('<~') are not supported",
    "%": "'%' blocks (such as efa blocks) are not supported",
}

_TOKEN_RE = re.compile(
    r"""
      (?P<newline>[\n;])
    | (?P<space>[^\S\n]+)
    | (?P<comment>[#!][^\n]*)
    | (?P<string>"[^"\n]*"|'[^'\n]*')
    | (?P<number>(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)
    | (?P<name>(?:[^\W\d]|\.(?=[^\W\d]))[\w.]*)
    | (?P<op>~\*~|[=~<>:|%]+)
    | (?P<plus>\+)
    | (?P<minus>-)
    | (?P<star>\*)
    | (?P<query>\?)
    | (?P<lparen>\()
    | (?P<rparen>\))
    | (?P<comma>,)
    """,
    re.VERBOSE,
)

_LABEL_RE = re.compile(r"(?:[^\W\d]|\.(?=[^\W\d]))[\w.]*")


@dataclass(frozen=True)
class _Token:
    """A token: its kind (a group name of ``_TOKEN_RE``), text, line and offsets."""

    kind: str
    text: str
    line: int
    start: int
    end: int


@dataclass(frozen=True)
class _Span:
    """Where a statement is, for error messages."""

    line: int
    text: str

    def error(self, message: str, token: _Token | None = None) -> ModelSyntaxError:
        """An error about this statement; names the token's line when it is a later one."""
        if token is not None and token.line != self.line:
            message += f" (on line {token.line})"
        return ModelSyntaxError(f"line {self.line} ({self.text!r}): {message}")


def _normalize(text: str) -> str:
    """Unify line ends; read lavaan's 'strange tilde' U+02DC as ``~`` (as lavaan does)."""
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\u02dc", "~")


def _tokenize(source: str) -> list[_Token]:
    """Split the whole syntax into tokens, dropping whitespace and comments.

    ``;`` is returned as a ``newline`` token.

    Raises
    ------
    ModelSyntaxError
        For a character that starts no token (an unclosed quote included).
    """
    tokens: list[_Token] = []
    line = 1
    pos = 0
    while pos < len(source):
        match = _TOKEN_RE.match(source, pos)
        if match is None:
            line_text = source.split("\n")[line - 1].strip()
            char = source[pos]
            what = f"unclosed quote {char!r}" if char in "\"'" else f"unexpected character {char!r}"
            raise ModelSyntaxError(f"line {line} ({line_text!r}): {what}")
        kind = match.lastgroup
        assert kind is not None
        if kind not in ("space", "comment"):
            tokens.append(_Token(kind, match.group(), line, pos, match.end()))
        if match.group() == "\n":
            line += 1
        pos = match.end()
    return tokens


# --------------------------------------------------------------------------
# Statements: grouping tokens into logical statements
# --------------------------------------------------------------------------

_CONTINUES_AFTER = frozenset({"plus", "minus", "star", "query", "lparen", "comma"})
_CONTINUES_BEFORE = frozenset({"plus", "star", "query"})


def _continues(last: _Token, following: _Token | None) -> bool:
    """Whether a statement whose line ends with ``last`` goes on with the next line.

    ``following`` is the first token of the next non-blank line, None at the end.
    """
    if last.kind in _CONTINUES_AFTER or (last.kind == "op" and last.text != ":"):
        return True
    if following is None:
        return False
    return following.kind in _CONTINUES_BEFORE or (
        following.kind == "op" and following.text in _OPERATORS
    )


def _split_statements(tokens: list[_Token]) -> list[list[_Token]]:
    """Group the tokens into statements at newlines and ``;``, following line continuations."""
    statements: list[list[_Token]] = []
    current: list[_Token] = []
    for i, token in enumerate(tokens):
        if token.kind != "newline":
            current.append(token)
            continue
        if not current:
            continue
        following = next((t for t in tokens[i + 1 :] if t.kind != "newline"), None)
        if not _continues(current[-1], following):
            statements.append(current)
            current = []
    if current:
        statements.append(current)
    return statements


def _statement_text(tokens: list[_Token]) -> str:
    """The statement as written, with each run of whitespace and comments shown as one space."""
    parts = [tokens[0].text]
    for previous, token in zip(tokens, tokens[1:]):
        if token.start > previous.end:
            parts.append(" ")
        parts.append(token.text)
    return "".join(parts)


# --------------------------------------------------------------------------
# Block lines:  level: 1
# --------------------------------------------------------------------------

_BLOCK_KEYWORDS = frozenset({"level", "group", "block", "class"})

_LEVEL_NAMES: dict[str, str] = {
    "1": "within",
    "within": "within",
    "2": "between",
    "between": "between",
}


def _is_block_line(tokens: list[_Token]) -> bool:
    """``level:``, ``group:``, ``block:`` or ``class:`` at the start of a statement."""
    return (
        len(tokens) >= 2
        and tokens[0].kind == "name"
        and tokens[0].text.lower() in _BLOCK_KEYWORDS
        and tokens[1].kind == "op"
        and tokens[1].text == ":"
    )


def _is_level_line(tokens: list[_Token]) -> bool:
    return _is_block_line(tokens) and tokens[0].text.lower() == "level"


def _parse_block_line(tokens: list[_Token], span: _Span) -> str:
    """The level (``"within"`` or ``"between"``) of a ``level:`` line.

    Raises
    ------
    ModelSyntaxError
        For ``group:``, ``block:`` and ``class:`` blocks, a missing or unknown
        level, or anything after the level.
    """
    keyword = tokens[0].text.lower()
    if keyword == "group":
        raise span.error(
            "'group:' blocks (multi-group syntax) are not supported; write one model for "
            "all groups and pass the grouping variable as groups=... instead"
        )
    if keyword != "level":
        raise span.error(f"'{keyword}:' blocks are not supported (only 'level:' blocks are)")
    if len(tokens) < 3:
        raise span.error("expected a level after 'level:' (1, 2, within or between)")
    value = tokens[2]
    text = value.text[1:-1].strip() if value.kind == "string" else value.text
    level = _LEVEL_NAMES.get(text.lower()) if value.kind in ("number", "name", "string") else None
    if level is None:
        raise span.error(
            f"unknown level {_statement_text(tokens[2:])!r} (expected 1 or within, 2 or "
            "between; two-level models have a within- and a between-cluster level)"
        )
    if len(tokens) > 3:
        raise span.error(
            f"unexpected {tokens[3].text!r} after {_statement_text(tokens[:3])!r} "
            "(start the statements of the level on the next line or after ';')",
            tokens[3],
        )
    return level


# --------------------------------------------------------------------------
# Formulas:  lhs ('+' lhs)* op term ('+' term)*
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Element:
    """A primary of a term: a name, a (signed) number, a quoted string or a call ``f(args)``."""

    kind: str  # "name", "number", "string" or "call"
    text: str  # as written, for messages
    token: _Token  # its first token, for line numbers
    name: str = ""  # the name, or the function of a call
    number: float = math.nan  # the value of a number
    string: str = ""  # the content of a quoted string
    args: tuple[_Element, ...] = ()  # the arguments of a call


class _TermBuilder:
    """Collects the modifiers of one variable, rejecting conflicting ones."""

    def __init__(self, name: str, span: _Span, token: _Token) -> None:
        self.name = name
        self.span = span
        self.token = token
        self.label: str | None = None
        self.fixed: float | None = None
        self.free = False
        self.start: float | None = None

    def conflict(self, detail: str) -> ModelSyntaxError:
        what = "the intercept" if self.name == "1" else repr(self.name)
        return self.span.error(f"conflicting modifiers for {what}: {detail}", self.token)

    def set_label(self, label: str) -> None:
        if self.label is not None and self.label != label:
            raise self.conflict(f"two labels, {self.label!r} and {label!r}")
        self.label = label

    def set_fixed(self, value: float) -> None:
        if self.free:
            raise self.conflict(f"fixed at {value:g} and freed by NA")
        if self.fixed is not None and self.fixed != value:
            raise self.conflict(f"fixed at two values, {self.fixed:g} and {value:g}")
        self.fixed = value

    def set_free(self) -> None:
        if self.fixed is not None:
            raise self.conflict(f"fixed at {self.fixed:g} and freed by NA")
        self.free = True

    def set_start(self, value: float) -> None:
        if self.start is not None and self.start != value:
            raise self.conflict(f"two start values, {self.start:g} and {value:g}")
        self.start = value

    def merge(self, other: _TermBuilder) -> None:
        """Take the modifiers of a repeated term of the same variable."""
        self.token = other.token
        if other.label is not None:
            self.set_label(other.label)
        if other.fixed is not None:
            self.set_fixed(other.fixed)
        if other.free:
            self.set_free()
        if other.start is not None:
            self.set_start(other.start)

    def build(self) -> Term:
        return Term(self.name, label=self.label, fixed=self.fixed, free=self.free, start=self.start)


_MODIFIER_FUNCTIONS = "label(\"a\"), equal(\"a\"), start(0.5) or fixed(0.5)"
_UNSUPPORTED_FUNCTIONS = frozenset({"upper", "lower", "prior", "rv"})


class _StatementParser:
    """Recursive-descent parser of one statement (no block line)."""

    def __init__(self, tokens: list[_Token], span: _Span) -> None:
        self.tokens = tokens
        self.span = span
        self.pos = 0

    # -- token access ------------------------------------------------------

    def peek(self, offset: int = 0) -> _Token | None:
        index = self.pos + offset
        return self.tokens[index] if index < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def unexpected(self, expected: str) -> ModelSyntaxError:
        """``expected X after 'previous token', got 'next token'``."""
        token = self.peek()
        where = (
            f" after {self.tokens[self.pos - 1].text!r}"
            if self.pos > 0
            else " at the start of the statement"
        )
        got = " the end of the statement" if token is None else f" {token.text!r}"
        return self.span.error(f"expected {expected}{where}, got{got}", token)

    def text_from(self, start: int) -> str:
        return _statement_text(self.tokens[start : self.pos])

    # -- statement -----------------------------------------------------------

    def statement(self) -> tuple[list[str], str, list[_TermBuilder]]:
        """``lhs ('+' lhs)* op term ('+' term)*``: the left-hand sides, operator and terms."""
        lhs = [self.lhs_name()]
        while (token := self.peek()) is not None and token.kind == "plus":
            self.take()
            lhs.append(self.lhs_name())
        token = self.peek()
        if token is None or token.kind != "op":
            raise self.unexpected(f"'+' or an operator ({_OPERATOR_TEXT})")
        op = self.take().text
        terms = [self.term(op)]
        while (token := self.peek()) is not None:
            if token.kind != "plus":
                raise self.unexpected("'+' or the end of the statement")
            self.take()
            terms.append(self.term(op))
        return lhs, op, terms

    def lhs_name(self) -> str:
        token = self.peek()
        if token is None or token.kind != "name" or token.text == "NA":
            raise self.unexpected("a variable name")
        following = self.peek(1)
        if following is not None and following.kind in ("star", "query"):
            written = _statement_text(self.tokens[self.pos : self.pos + 3])
            raise self.span.error(
                f"modifiers on the left-hand side ({written!r}) are not supported; "
                "premultiply a right-hand-side variable (e.g. 'F =~ a*y1')",
                token,
            )
        return self.take().text

    # -- terms ---------------------------------------------------------------

    def term(self, op: str) -> _TermBuilder:
        """``(modifier ('*' | '?'))* variable``, with the modifiers applied."""
        modifiers: list[tuple[_Element, _Token]] = []
        element = self.element()
        while (token := self.peek()) is not None and token.kind in ("star", "query"):
            modifiers.append((element, self.take()))
            element = self.element()
        name = self.variable(element, op, bool(modifiers))
        builder = _TermBuilder(name, self.span, element.token)
        if element.kind == "number" and element.number == 0.0:
            builder.set_fixed(0.0)  # 'y ~ 0' is lavaan's short form of 'y ~ 0*1'
        for modifier, separator in modifiers:
            self.apply(builder, modifier, separator)
        return builder

    def element(self) -> _Element:
        """A name, a signed number, a quoted string or a call ``name(arg, ...)``."""
        start = self.pos
        token = self.peek()
        if token is None or token.kind not in ("name", "number", "string", "minus"):
            raise self.unexpected("a variable name")
        if token.kind in ("number", "minus"):
            return self.number()
        if token.kind == "string":
            self.take()
            return _Element("string", token.text, token, string=token.text[1:-1])
        self.take()
        following = self.peek()
        if following is None or following.kind != "lparen":
            return _Element("name", token.text, token, name=token.text)
        self.take()
        args: list[_Element] = []
        if (closing := self.peek()) is None or closing.kind != "rparen":
            args.append(self.argument())
            while (comma := self.peek()) is not None and comma.kind == "comma":
                self.take()
                args.append(self.argument())
        closing = self.peek()
        if closing is None or closing.kind != "rparen":
            raise self.unexpected("',' or ')'")
        self.take()
        return _Element("call", self.text_from(start), token, name=token.text, args=tuple(args))

    def number(self) -> _Element:
        """``['-'] number``; the value must be finite."""
        start = self.pos
        first = self.take()
        sign = 1.0
        if first.kind == "minus":
            token = self.peek()
            if token is None or token.kind != "number":
                raise self.unexpected("a number")
            self.take()
            sign = -1.0
        text = self.text_from(start)
        value = sign * float(self.tokens[self.pos - 1].text)
        if not math.isfinite(value):
            raise self.span.error(f"the number {text!r} is too large", first)
        return _Element("number", text, first, number=value)

    def argument(self) -> _Element:
        """An argument of a modifier function: a signed number, a quoted string or a name."""
        token = self.peek()
        if token is not None and token.kind in ("number", "minus"):
            return self.number()
        if token is not None and token.kind in ("string", "name"):
            self.take()
            if token.kind == "string":
                return _Element("string", token.text, token, string=token.text[1:-1])
            return _Element("name", token.text, token, name=token.text)
        raise self.unexpected("a number, a quoted label or NA")

    def variable(self, element: _Element, op: str, modified: bool) -> str:
        """The variable a term is about: a name, or ``"1"`` for an intercept in ``~``."""
        if element.kind == "name":
            if element.name == "NA":
                raise self.span.error(
                    "'NA' is not a variable name ('NA*y2' frees the parameter of y2)", element.token
                )
            return element.name
        if element.kind == "number":
            if op == "~" and (element.number == 1.0 or (element.number == 0.0 and not modified)):
                return "1"
            if op == "~":
                raise self.span.error(
                    f"{element.text!r} is not a variable; an intercept is written '1' "
                    "(e.g. 'y ~ 1', 'y ~ a*1' or 'y ~ 0*1')",
                    element.token,
                )
            if element.number == 1.0:
                raise self.span.error(
                    f"the intercept '1' can only be used in '~' statements ('y ~ 1'), "
                    f"not in {op!r}",
                    element.token,
                )
            raise self.span.error(
                f"expected a variable name in {op!r}, got the number {element.text!r} "
                "(a fixed value is written '0.5*y2')",
                element.token,
            )
        if element.kind == "string":
            raise self.span.error(
                f"expected a variable name, got the quoted text {element.text} "
                "(a quoted label premultiplies a variable: '\"a\"*y2')",
                element.token,
            )
        if element.name in ("label", "equal", "start", "fixed", "c"):
            raise self.span.error(
                f"expected '*' and a variable after the modifier {element.text!r}", element.token
            )
        raise self.span.error(
            f"expected a variable name, got {element.text!r} "
            "(functions of variables and expressions are not supported)",
            element.token,
        )

    # -- modifiers -------------------------------------------------------------

    def apply(self, builder: _TermBuilder, element: _Element, separator: _Token) -> None:
        """Apply one modifier written before ``*`` (or ``?``, a start value)."""
        if separator.kind == "query":
            if element.kind != "number":
                raise self.span.error(
                    f"'?' gives a start value and needs a number before it "
                    f"(e.g. '0.5?y2'), got {element.text!r}",
                    element.token,
                )
            builder.set_start(element.number)
        elif element.kind == "number":
            builder.set_fixed(element.number)
        elif element.kind == "name" and element.name == "NA":
            builder.set_free()
        elif element.kind == "name":
            builder.set_label(element.name)
        elif element.kind == "string":
            builder.set_label(self.label(element, element.string))
        else:
            self.apply_call(builder, element)

    def apply_call(self, builder: _TermBuilder, element: _Element) -> None:
        """Apply ``label("a")``, ``equal("a")``, ``start(x)`` or ``fixed(x)``."""
        function, args = element.name, element.args
        if function == "c":
            raise self.span.error(
                f"per-group modifiers {element.text!r} are not supported; use one label "
                "or value for all groups (e.g. 'a*y2' or '0.5*y2')",
                element.token,
            )
        if function in _UNSUPPORTED_FUNCTIONS:
            raise self.span.error(
                f"the modifier {function}() is not supported (supported: {_MODIFIER_FUNCTIONS})",
                element.token,
            )
        if function in ("label", "equal"):
            if len(args) != 1 or args[0].kind != "string":
                raise self.span.error(
                    f"{function}() takes one quoted label, e.g. {function}(\"a\")*y2; "
                    f"got {element.text!r}",
                    element.token,
                )
            builder.set_label(self.label(element, args[0].string))
        elif function in ("start", "fixed"):
            if len(args) == 1 and args[0].kind == "number":
                (builder.set_start if function == "start" else builder.set_fixed)(args[0].number)
            elif function == "fixed" and len(args) == 1 and args[0].text == "NA":
                builder.set_free()
            else:
                raise self.span.error(
                    f"{function}() takes one number, e.g. {function}(0.5)*y2; got {element.text!r}",
                    element.token,
                )
        else:
            raise self.span.error(
                f"unknown modifier {element.text!r} (expected a number, NA, a label, "
                f"{_MODIFIER_FUNCTIONS} before '*')",
                element.token,
            )

    def label(self, element: _Element, label: str) -> str:
        """Check the text of a quoted label: a name of letters, digits, ``_`` and ``.``."""
        if _LABEL_RE.fullmatch(label) is None or label == "NA":
            raise self.span.error(
                f"invalid label {label!r} in {element.text!r} (a label is a name of letters, "
                "digits, '_' and '.' that does not start with a digit)",
                element.token,
            )
        return label


def _check_operators(tokens: list[_Token], span: _Span) -> None:
    """Reject unknown and unsupported operators, ``efa()`` and a second operator.

    Done before parsing, so that e.g. ``a*b == c`` is reported as a constraint
    rather than as a misplaced modifier.
    """
    for i, token in enumerate(tokens):
        previous = tokens[i - 1] if i > 0 else None
        following = tokens[i + 1] if i + 1 < len(tokens) else None
        if token.text == "efa" and following is not None and following.kind == "lparen":
            raise span.error(
                "efa(\"...\") modifiers (exploratory factor blocks) are not supported", token
            )
        if token.kind != "op" or token.text in _OPERATORS:
            continue
        if token.text == ":":
            if _is_name(previous) and _is_name(following):
                assert previous is not None and following is not None
                raise span.error(
                    f"interaction terms ('{previous.text}:{following.text}') are not supported",
                    token,
                )
            raise span.error(
                "unexpected ':' (level blocks are written 'level: 1' and 'level: 2')", token
            )
        if token.text in _UNSUPPORTED_OPERATORS:
            raise span.error(_UNSUPPORTED_OPERATORS[token.text], token)
        _check_spaced_operator(tokens, i, span)
        raise span.error(f"unknown operator {token.text!r} (expected {_OPERATOR_TEXT})", token)
    operators = [i for i, t in enumerate(tokens) if t.kind == "op"]
    if len(operators) > 1:
        _check_spaced_operator(tokens, operators[0], span)
        first, second = tokens[operators[0]], tokens[operators[1]]
        raise span.error(
            f"a second operator {second.text!r} after {first.text!r} "
            "(one statement per line, or separate statements with ';')",
            second,
        )


def _is_name(token: _Token | None) -> bool:
    return token is not None and token.kind == "name"


def _check_spaced_operator(tokens: list[_Token], i: int, span: _Span) -> None:
    """Raise when ``tokens[i]`` and the next token are one operator split by a space (``= ~``)."""
    if i + 1 < len(tokens) and tokens[i + 1].kind == "op":
        joined = tokens[i].text + tokens[i + 1].text
        if joined in _OPERATORS:
            raise span.error(
                f"write the operator {joined!r} without spaces "
                f"(got {_statement_text(tokens[i : i + 2])!r})",
                tokens[i],
            )


def _expand(
    lhs: list[str], op: str, builders: list[_TermBuilder], level: str | None, span: _Span
) -> list[Statement]:
    """One statement per left-hand side; repeated terms merged; intercepts split from ``~``."""
    merged: dict[str, _TermBuilder] = {}
    for builder in builders:
        if builder.name in merged:
            merged[builder.name].merge(builder)
        else:
            merged[builder.name] = builder
    terms = [builder.build() for builder in merged.values()]

    parts: dict[str, list[Term]] = {}  # operator -> terms, in order of first appearance
    for term in terms:
        part = "~1" if term.name == "1" else op
        parts.setdefault(part, []).append(term)

    statements = []
    for name in dict.fromkeys(lhs):
        for part, part_terms in parts.items():
            if part == "~":
                _check_self_regression(name, part_terms, merged, span)
            statements.append(Statement(name, part, tuple(part_terms), level, span.line, span.text))
    return statements


def _check_self_regression(
    lhs: str, terms: list[Term], builders: dict[str, _TermBuilder], span: _Span
) -> None:
    """A variable regressed on itself is an error unless fixed at zero (as in lavaan)."""
    for term in terms:
        if term.name == lhs and term.fixed != 0.0:
            raise span.error(
                f"{lhs!r} is regressed on itself (only '{lhs} ~ 0*{lhs}' is allowed)",
                builders[lhs].token,
            )


def _parse_statement(tokens: list[_Token], span: _Span, level: str | None) -> list[Statement]:
    """Parse one statement (not a block line) into one or more :class:`Statement`."""
    _check_operators(tokens, span)
    lhs, op, terms = _StatementParser(tokens, span).statement()
    return _expand(lhs, op, terms, level, span)


# --------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------


def parse_syntax(text: str) -> ModelSyntax:
    """Parse a model written in lavaan's model syntax.

    Parameters
    ----------
    text : str
        The model: statements such as ``F =~ y1 + a*y2 + y3``, ``F ~ x1``,
        ``y1 ~~ y2`` and ``y1 ~ 1``, separated by newlines or ``;``,
        optionally in ``level: 1`` / ``level: 2`` blocks. The grammar is
        described in the module docstring of
        :mod:`psychonetrics.families.ml_lvm.syntax.parser`.

    Returns
    -------
    ModelSyntax
        The statements in the order written (one per left-hand side; a ``~``
        statement with ``1`` among its terms split into ``"~1"`` and ``"~"``),
        and whether the syntax uses level blocks.

    Raises
    ------
    ModelSyntaxError
        If the syntax is empty, cannot be parsed, uses an unknown operator or
        a construct that is not supported (``:=``, ``==``, ``<``, ``>``,
        ``|``, ``~*~``, ``<~``, ``%``, ``group:`` blocks, ``efa()``,
        ``c()``, interactions ``x1:x2``), has a statement before its first
        ``level:`` line or an unknown level, or gives conflicting modifiers
        for a variable. The message reads ``line N ('<statement>'): ...``.
    TypeError
        If ``text`` is not a str.

    Examples
    --------
    >>> m = parse_syntax("F =~ NA*y1 + a*y1 + y2 + 0.5*y3; y2 + y3 ~ 1 + x")
    >>> m.has_levels
    False
    >>> for s in m.statements:
    ...     print(s.lhs, s.op, [t.name for t in s.terms])
    F =~ ['y1', 'y2', 'y3']
    y2 ~1 ['1']
    y2 ~ ['x']
    y3 ~1 ['1']
    y3 ~ ['x']
    >>> m.statements[0].terms[0]
    Term(name='y1', label='a', fixed=None, free=True, start=None)
    >>> parse_syntax("F =~ y1 + y2\\nab := a*b")
    Traceback (most recent call last):
    ...
    psychonetrics.exceptions.ModelSyntaxError: line 2 ('ab := a*b'): defined parameters (':=') are not supported
    """
    if not isinstance(text, str):
        raise TypeError(f"`text`: expected a model syntax string, got {type(text).__name__}.")
    chunks = _split_statements(_tokenize(_normalize(text)))
    level_lines = [chunk[0].line for chunk in chunks if _is_level_line(chunk)]

    statements: list[Statement] = []
    level: str | None = None
    for chunk in chunks:
        span = _Span(chunk[0].line, _statement_text(chunk))
        if _is_block_line(chunk):
            level = _parse_block_line(chunk, span)
            continue
        if level_lines and level is None:
            raise span.error(
                f"statement before the first 'level:' line (line {level_lines[0]}); when the "
                "model has level blocks, every statement must follow 'level: 1' or 'level: 2'"
            )
        statements.extend(_parse_statement(chunk, span, level))

    if not statements:
        found = "only 'level:' lines" if level_lines else "nothing but blank lines and comments"
        raise ModelSyntaxError(
            f"`text`: the model syntax is empty: it has {found} (expected at least one "
            "statement, such as 'F =~ y1 + y2 + y3')."
        )
    return ModelSyntax(tuple(statements), has_levels=bool(level_lines))
