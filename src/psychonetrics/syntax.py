"""A lavaan-like model syntax for the factor structure of a two-level model.

The structure written here is shared by the within- and the between-cluster
level; it fixes which loadings, latent regressions and latent covariances
exist, not their values or how the model is identified.

Supported statements (one per line, or separated by ``;``)::

    # a comment, to the end of the line
    F1 =~ y1 + y2 + y3          # F1 is measured by y1, y2 and y3
    F1 =~ y4                    # more indicators of F1 (lines accumulate)
    F2 =~ 1*y5 + 0.5*y6 + y.7   # numeric premultipliers fix a loading
    F2 ~ F1                     # regression of latent F2 on latent F1
    F1 ~~ F2                    # latent covariance (informational)

Names are letters, digits, ``_`` and ``.`` and do not start with a digit
(``y.1``, ``item_3``, ``F2``). Whitespace may appear anywhere between tokens.
Anything else raises :class:`~psychonetrics.exceptions.ModelSyntaxError`
with the line number, the line text and the offending token.

Example
-------
>>> m = parse_model("F1 =~ y1 + y2 + y3; F2 =~ y4 + y5 + y6; F2 ~ F1")
>>> m.latents, m.vars
(('F1', 'F2'), ('y1', 'y2', 'y3', 'y4', 'y5', 'y6'))
>>> m.beta
array([[0, 0],
       [1, 0]])
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence, Set
from dataclasses import dataclass

import numpy as np

from psychonetrics._arg import preview
from psychonetrics.exceptions import ModelSyntaxError

__all__ = ["ParsedModel", "parse_model"]


@dataclass(frozen=True, eq=False)
class ParsedModel:
    """Factor structure read from a model syntax string.

    Arrays are read-only. Rows of ``lambda_`` follow ``vars``; columns of
    ``lambda_``/``lambda_fixed`` and rows and columns of ``beta`` follow
    ``latents``.

    Attributes
    ----------
    latents : tuple of str
        Latent variables, in order of first definition by ``=~``.
    vars : tuple of str
        Observed variables: the ``observed`` order when it was given to
        :func:`parse_model`, else the order of first appearance as indicators.
    lambda_ : numpy.ndarray of int, shape (p, m)
        Loading pattern: 1 where the variable loads on the factor, 0 where
        the loading is fixed at zero. The first indicator of each factor is
        1 as well (identification is done elsewhere). Where ``lambda_fixed``
        holds a value the loading is fixed at that value rather than free;
        ``lambda_`` is still 1 there, so it always marks the nonzero loadings.
    lambda_fixed : numpy.ndarray of float, shape (p, m), or None
        Values of loadings fixed by a numeric premultiplier (``0.5*y2``),
        NaN elsewhere; None when the syntax fixes no loading at a nonzero
        value. ``0*y`` fixes a loading at zero: ``lambda_`` is 0 there and
        ``lambda_fixed`` NaN.
    beta : numpy.ndarray of int, shape (m, m)
        Latent regressions: ``beta[i, j] == 1`` when ``Fi ~ Fj`` (the effect
        of eta_j on eta_i), else 0.
    latent_covariances : tuple of (str, str)
        Pairs from ``Fi ~~ Fj`` statements, in order of appearance
        (``Fi ~~ Fi`` gives a variance pair). Informational only.
    """

    latents: tuple[str, ...]
    vars: tuple[str, ...]
    lambda_: np.ndarray
    lambda_fixed: np.ndarray | None
    beta: np.ndarray
    latent_covariances: tuple[tuple[str, str], ...]


# --------------------------------------------------------------------------
# Lexing
# --------------------------------------------------------------------------

_OPERATORS: tuple[str, ...] = ("=~", "~", "~~")
_OPERATOR_TEXT = "'=~', '~' or '~~'"

_TOKEN_RE = re.compile(
    r"""
      (?P<space>\s+)
    | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
    | (?P<name>(?:[^\W\d]|\.(?!\d))[\w.]*)
    | (?P<op>[=~:<>!|]+)
    | (?P<plus>\+)
    | (?P<minus>-)
    | (?P<star>\*)
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class _Line:
    """A physical line of the syntax, for error messages."""

    number: int
    text: str

    def error(self, message: str) -> ModelSyntaxError:
        return ModelSyntaxError(f"line {self.number} ({self.text!r}): {message}")


@dataclass(frozen=True)
class _Token:
    kind: str  # "name", "number", "op", "plus", "minus" or "star"
    text: str


@dataclass(frozen=True)
class _Term:
    """One right-hand-side element: a name with an optional numeric premultiplier."""

    name: str
    value: float | None


@dataclass(frozen=True)
class _Statement:
    lhs: str
    op: str
    terms: tuple[_Term, ...]
    line: _Line


def _tokenize(text: str, line: _Line) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN_RE.match(text, pos)
        if match is None:
            raise line.error(f"unexpected character {text[pos]!r}")
        kind = match.lastgroup
        assert kind is not None
        if kind != "space":
            tokens.append(_Token(kind, match.group()))
        pos = match.end()
    return tokens


# --------------------------------------------------------------------------
# Parsing of one statement:  name op term ('+' term)*,  term := [['-'] number '*'] name
# --------------------------------------------------------------------------


class _StatementParser:
    def __init__(self, tokens: list[_Token], line: _Line) -> None:
        self.tokens = tokens
        self.line = line
        self.pos = 0

    def peek(self) -> _Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def fail(self, expected: str, after: str | None) -> ModelSyntaxError:
        where = f" after {after!r}" if after is not None else " at the start of the statement"
        token = self.peek()
        got = "" if token is None else f", got {token.text!r}"
        return self.line.error(f"expected {expected}{where}{got}")

    def parse(self) -> _Statement:
        first = self.peek()
        if first is None or first.kind != "name":
            raise self.fail("a variable name", None)
        lhs = self.take().text

        token = self.peek()
        if token is None or token.kind != "op":
            raise self.fail(f"an operator ({_OPERATOR_TEXT})", lhs)
        op = self.take().text
        if op not in _OPERATORS:
            raise self.line.error(f"unknown operator {op!r} (expected {_OPERATOR_TEXT})")

        terms = [self.term(after=op, op=op)]
        while (token := self.peek()) is not None:
            if token.kind != "plus":
                raise self.fail("'+' or the end of the statement", self.tokens[self.pos - 1].text)
            self.take()
            terms.append(self.term(after="+", op=op))
        return _Statement(lhs, op, tuple(terms), self.line)

    def term(self, *, after: str, op: str) -> _Term:
        """One right-hand-side element; ``after`` is the preceding token, for messages."""
        token = self.peek()
        if token is not None and token.kind in ("number", "minus"):
            if op != "=~":
                raise self.line.error(
                    f"expected a latent variable name after {after!r}, got {token.text!r} "
                    f"(numbers, such as intercepts or fixed coefficients, are not supported in "
                    f"{op!r} statements; numeric premultipliers are allowed in '=~' lines only)"
                )
            return self.fixed_term()
        if token is None or token.kind != "name":
            raise self.fail("a variable name", after)
        name = self.take().text
        following = self.peek()
        if following is not None and following.kind == "star":
            raise self.line.error(
                f"modifier {name!r} before '*' is not supported "
                "(only numeric premultipliers such as 0.5*y2 are allowed in '=~' lines)"
            )
        return _Term(name, None)

    def fixed_term(self) -> _Term:
        """``['-'] number '*' name``, a loading fixed at a value (``=~`` statements only)."""
        start = self.peek()
        assert start is not None
        sign = 1.0
        if start.kind == "minus":
            self.take()
            token = self.peek()
            if token is None or token.kind != "number":
                raise self.fail("a number", "-")
            sign = -1.0
        number = self.take().text
        shown = ("-" if sign < 0 else "") + number
        token = self.peek()
        if token is None or token.kind != "star":
            raise self.fail("'*'", shown)
        self.take()
        token = self.peek()
        if token is None or token.kind != "name":
            raise self.fail("a variable name", "*")
        return _Term(self.take().text, sign * float(number))


def _read_statements(syntax: str) -> list[_Statement]:
    statements: list[_Statement] = []
    for number, raw in enumerate(syntax.splitlines(), start=1):
        text = raw.split("#", 1)[0].strip()
        if not text:
            continue
        line = _Line(number, text)
        for part in text.split(";"):
            tokens = _tokenize(part, line)
            if tokens:
                statements.append(_StatementParser(tokens, line).parse())
    return statements


# --------------------------------------------------------------------------
# Building the model
# --------------------------------------------------------------------------


def _check_observed(observed: Sequence[str] | None) -> tuple[str, ...] | None:
    """Validate ``observed``; any ordered collection of str (list, tuple, pandas Index)."""
    if observed is None:
        return None
    if isinstance(observed, (str, bytes, Set, Mapping)) or not isinstance(observed, Iterable):
        raise TypeError(
            "`observed`: expected an ordered sequence of variable names (e.g. a list of str "
            f"or DataFrame.columns), got {type(observed).__name__}."
        )
    names = tuple(observed)
    for name in names:
        if not isinstance(name, str):
            raise TypeError(f"`observed`: expected variable names as str, got {name!r}.")
    names = tuple(str(name) for name in names)  # plain str, also for numpy.str_
    if not names:
        raise ValueError("`observed`: expected at least one variable name, got an empty sequence.")
    repeated = [name for name, count in Counter(names).items() if count > 1]
    if repeated:
        raise ValueError(f"`observed`: expected unique variable names; repeated: {preview(repeated)}.")
    return names


def parse_model(syntax: str, *, observed: Sequence[str] | None = None) -> ParsedModel:
    """Parse a lavaan-like description of the factor structure.

    Parameters
    ----------
    syntax : str
        Model statements, separated by newlines or ``;``:

        * ``F =~ a + b + c`` -- factor ``F`` is measured by ``a``, ``b`` and
          ``c``; several lines for the same factor accumulate. A numeric
          premultiplier fixes a loading: ``F =~ 1*a + 0.5*b + -1*c``.
        * ``F2 ~ F1 + F3`` -- regression of a latent on latents.
        * ``F1 ~~ F2`` -- latent covariance (kept for information).

        ``#`` starts a comment that runs to the end of the line.
    observed : sequence of str, optional
        The observed variables, in the order of the data. When given, every
        indicator must be one of them, and they (all of them, even those
        that load on no factor) make up ``vars`` in this order. When omitted,
        ``vars`` are the indicators in order of first appearance.

    Returns
    -------
    ParsedModel
        The latent and observed names, the loading pattern (and fixed
        loadings), the latent regression pattern and the latent covariances.

    Raises
    ------
    ModelSyntaxError
        If the syntax is empty, a statement cannot be parsed (an unknown
        operator such as ``=~~`` or ``:=``, a missing name, a stray token),
        a regression or covariance involves an observed variable or an
        undefined latent, a latent regresses on itself, a factor has the
        name of an observed variable, an indicator is not in ``observed``,
        a latent is used as an indicator (higher-order factors are not
        supported), an element is listed twice, or a factor has no nonzero
        loading. The message names the line number, the line text and the
        offending token.
    TypeError
        If ``syntax`` is not a str or ``observed`` is not a sequence of str.
    ValueError
        If ``observed`` is empty or has repeated names.

    Examples
    --------
    >>> m = parse_model("F1 =~ 1*y1 + y2 + 0.5*y3")
    >>> m.lambda_.ravel().tolist(), m.lambda_fixed.ravel().tolist()
    ([1, 1, 1], [1.0, nan, 0.5])
    """
    if not isinstance(syntax, str):
        raise TypeError(f"`syntax`: expected a model syntax string, got {type(syntax).__name__}.")
    observed_names = _check_observed(observed)

    statements = _read_statements(syntax)
    if not statements:
        raise ModelSyntaxError(
            "`syntax`: the model syntax is empty (expected at least one 'F =~ indicator' statement)."
        )

    measurement = [s for s in statements if s.op == "=~"]
    if not measurement:
        s = statements[0]
        raise s.line.error(
            f"no factor is defined: add at least one '=~' statement (found only {s.op!r} statements)"
        )

    # Latents, in order of first definition.
    defined_at: dict[str, _Line] = {}
    for s in measurement:
        defined_at.setdefault(s.lhs, s.line)
    latents = tuple(defined_at)
    if observed_names is not None:
        for name, line in defined_at.items():
            if name in observed_names:
                raise line.error(
                    f"factor name {name!r} is also the name of an observed variable "
                    "(choose a different name for the factor)"
                )

    # Loadings: (indicator, factor) -> fixed value or None, in order of appearance.
    loadings: dict[tuple[str, str], float | None] = {}
    first_seen: dict[tuple[str, str], int] = {}
    indicators: dict[str, None] = {}
    for s in measurement:
        for term in s.terms:
            if term.name in defined_at:
                raise s.line.error(
                    f"{term.name!r} is defined as a factor by '=~' and also used as an indicator "
                    f"of {s.lhs!r} (a factor cannot share its name with an observed variable, "
                    "and higher-order factors are not supported)"
                )
            if observed_names is not None and term.name not in observed_names:
                raise s.line.error(
                    f"indicator {term.name!r} is not an observed variable "
                    f"(available: {preview(observed_names)})"
                )
            key = (term.name, s.lhs)
            if key in loadings:
                raise s.line.error(
                    f"indicator {term.name!r} is listed twice for factor {s.lhs!r} "
                    f"(first on line {first_seen[key]})"
                )
            loadings[key] = term.value
            first_seen[key] = s.line.number
            indicators.setdefault(term.name, None)
    for factor in latents:
        if all(loadings[key] == 0.0 for key in loadings if key[1] == factor):
            raise defined_at[factor].error(
                f"factor {factor!r} has no nonzero loading (every indicator is fixed at 0)"
            )

    vars_ = observed_names if observed_names is not None else tuple(indicators)
    row = {name: i for i, name in enumerate(vars_)}
    col = {name: j for j, name in enumerate(latents)}

    lambda_ = np.zeros((len(vars_), len(latents)), dtype=int)
    lambda_fixed = np.full(lambda_.shape, np.nan)
    for (name, factor), value in loadings.items():
        if value == 0.0:
            continue  # fixed at zero, same as not listed
        lambda_[row[name], col[factor]] = 1
        if value is not None:
            lambda_fixed[row[name], col[factor]] = value
    has_fixed = bool(np.any(~np.isnan(lambda_fixed)))

    # Structural part: regressions and covariances among latents only.
    beta = np.zeros((len(latents), len(latents)), dtype=int)
    regression_at: dict[tuple[str, str], int] = {}
    covariances: dict[frozenset[str], tuple[tuple[str, str], int]] = {}
    for s in statements:
        if s.op == "=~":
            continue
        _require_latents(s, defined_at, indicators, observed_names)
        for term in s.terms:
            if s.op == "~":
                if term.name == s.lhs:
                    raise s.line.error(
                        f"latent {s.lhs!r} cannot be regressed on itself ('{s.lhs} ~ {term.name}')"
                    )
                key = (s.lhs, term.name)
                if key in regression_at:
                    raise s.line.error(
                        f"regression '{s.lhs} ~ {term.name}' is listed twice "
                        f"(first on line {regression_at[key]})"
                    )
                regression_at[key] = s.line.number
                beta[col[s.lhs], col[term.name]] = 1
            else:  # "~~"
                pair = frozenset((s.lhs, term.name))
                if pair in covariances:
                    (a, b), first = covariances[pair]
                    raise s.line.error(
                        f"covariance '{s.lhs} ~~ {term.name}' is listed twice "
                        f"(first as '{a} ~~ {b}' on line {first})"
                    )
                covariances[pair] = ((s.lhs, term.name), s.line.number)

    return ParsedModel(
        latents=latents,
        vars=vars_,
        lambda_=_readonly(lambda_),
        lambda_fixed=_readonly(lambda_fixed) if has_fixed else None,
        beta=_readonly(beta),
        latent_covariances=tuple(pair for pair, _ in covariances.values()),
    )


def _require_latents(
    statement: _Statement,
    defined_at: dict[str, _Line],
    indicators: dict[str, None],
    observed_names: tuple[str, ...] | None,
) -> None:
    """Raise unless every name in a ``~``/``~~`` statement is a latent defined by ``=~``.

    Observed variables are reported first, so that ``F2 ~ y1`` says that only
    latent regressions are supported even when ``F2`` is undefined as well.
    """
    names = (statement.lhs, *(t.name for t in statement.terms))
    kind = "regressions" if statement.op == "~" else "covariances"
    for name in names:
        if name not in defined_at and (
            name in indicators or (observed_names is not None and name in observed_names)
        ):
            raise statement.line.error(
                f"{name!r} is an observed variable; only latent {kind} are supported "
                f"in {statement.op!r} statements"
            )
    for name in names:
        if name not in defined_at:
            raise statement.line.error(
                f"latent {name!r} is used in {statement.op!r} but never defined by '=~' "
                f"(defined latents: {preview(defined_at)})"
            )


def _readonly(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array
