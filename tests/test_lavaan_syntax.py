"""Tests of the lavaan model syntax parser (psychonetrics.families.ml_lvm.syntax.parser)."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from psychonetrics.exceptions import ModelSyntaxError
from psychonetrics.families.ml_lvm.syntax.parser import ModelSyntax, Statement, Term, parse_syntax


def summary(syntax: str) -> list[tuple]:
    """(level, lhs, op, term names) per statement, for compact assertions."""
    return [(s.level, s.lhs, s.op, tuple(t.name for t in s.terms)) for s in parse_syntax(syntax).statements]


def only(syntax: str) -> Statement:
    """The single statement of ``syntax``."""
    (statement,) = parse_syntax(syntax).statements
    return statement


def assert_syntax_error(syntax: str, line: int, text: str, fragment: str) -> ModelSyntaxError:
    """Parsing fails with ``line N ('text'): ...`` naming ``fragment``."""
    with pytest.raises(ModelSyntaxError) as info:
        parse_syntax(syntax)
    message = str(info.value)
    prefix = f"line {line} ({text!r}): "
    assert message.startswith(prefix), f"{message!r} does not start with {prefix!r}"
    assert fragment in message, f"{fragment!r} not in {message!r}"
    return info.value


# ---------------------------------------------------------------------------
# Two-level models
# ---------------------------------------------------------------------------

TUTORIAL = """
level: 1
    fw =~ y1 + y2 + y3
    fw ~ x1 + x2 + x3
level: 2
    fb =~ y1 + y2 + y3
    fb ~ w1 + w2
"""


def test_lavaan_tutorial_two_level_model() -> None:
    m = parse_syntax(TUTORIAL)
    assert isinstance(m, ModelSyntax)
    assert m.has_levels is True
    assert m.statements == (
        Statement("fw", "=~", (Term("y1"), Term("y2"), Term("y3")), "within", 3, "fw =~ y1 + y2 + y3"),
        Statement("fw", "~", (Term("x1"), Term("x2"), Term("x3")), "within", 4, "fw ~ x1 + x2 + x3"),
        Statement("fb", "=~", (Term("y1"), Term("y2"), Term("y3")), "between", 6, "fb =~ y1 + y2 + y3"),
        Statement("fb", "~", (Term("w1"), Term("w2")), "between", 7, "fb ~ w1 + w2"),
    )


def test_two_level_model_with_labels_across_levels() -> None:
    m = parse_syntax(
        "level: 1\n"
        " fw1 =~ y1 + a2*y2 + a3*y3\n"
        " fw2 =~ y4 + a5*y5 + a6*y6\n"
        " fw1 ~~ fw2\n"
        "level: 2\n"
        " fb1 =~ y1 + a2*y2 + a3*y3\n"
        " fb2 =~ y4 + a5*y5 + a6*y6\n"
        " y1 ~~ 0*y1\n"
    )
    assert [(s.level, s.lhs, s.op, s.line) for s in m.statements] == [
        ("within", "fw1", "=~", 2),
        ("within", "fw2", "=~", 3),
        ("within", "fw1", "~~", 4),
        ("between", "fb1", "=~", 6),
        ("between", "fb2", "=~", 7),
        ("between", "y1", "~~", 8),
    ]
    assert m.statements[0].terms == (Term("y1"), Term("y2", label="a2"), Term("y3", label="a3"))
    assert m.statements[3].terms == m.statements[0].terms
    assert m.statements[4].terms == (Term("y4"), Term("y5", label="a5"), Term("y6", label="a6"))
    assert m.statements[5].terms == (Term("y1", fixed=0.0),)


@pytest.mark.parametrize(
    ("header1", "header2"),
    [
        ("level: 1", "level: 2"),
        ("level:1", "level:2"),
        ("level: within", "level: between"),
        ("Level: Within", "LEVEL: BETWEEN"),
        ('level: "1"', "level: '2'"),
        ("level : 1", "level : between"),
    ],
)
def test_level_line_spellings(header1: str, header2: str) -> None:
    m = parse_syntax(f"{header1}\nfw =~ y1 + y2\n{header2}\nfb =~ y1 + y2")
    assert [s.level for s in m.statements] == ["within", "between"]
    assert m.has_levels


def test_level_lines_separated_by_semicolons() -> None:
    assert summary("level: 1; fw =~ y1 + y2; level: 2; fb =~ y1 + y2") == [
        ("within", "fw", "=~", ("y1", "y2")),
        ("between", "fb", "=~", ("y1", "y2")),
    ]


def test_a_level_given_twice_accumulates_in_written_order() -> None:
    assert summary("level: 1\nfw =~ y1 + y2\nlevel: 2\nfb =~ y1 + y2\nlevel: 1\nfw ~ x1") == [
        ("within", "fw", "=~", ("y1", "y2")),
        ("between", "fb", "=~", ("y1", "y2")),
        ("within", "fw", "~", ("x1",)),
    ]


def test_a_single_level_block_is_parsed() -> None:
    # Whether both levels are needed is for the compiler to decide.
    assert summary("level: 2\nfb =~ y1 + y2") == [("between", "fb", "=~", ("y1", "y2"))]


def test_without_level_lines_levels_are_none() -> None:
    m = parse_syntax("F =~ y1 + y2 + y3\nF ~ x1")
    assert m.has_levels is False
    assert [s.level for s in m.statements] == [None, None]


def test_level_is_a_valid_variable_name_outside_block_lines() -> None:
    assert summary("level =~ y1 + y2\ny ~ level") == [
        (None, "level", "=~", ("y1", "y2")),
        (None, "y", "~", ("level",)),
    ]


# ---------------------------------------------------------------------------
# Layout: comments, separators, continuation lines
# ---------------------------------------------------------------------------


def test_comments_blank_lines_semicolons_and_whitespace() -> None:
    syntax = (
        "# a measurement model\n"
        "\n"
        "   F1=~y1+y2   # no spaces needed\n"
        "! a comment in lavaan's other style\n"
        "\tF2   =~\ty3 +   y4 ;; F2~F1 ;\n"
        "F1~~F2;  ! trailing separator\n"
        "   \n"
    )
    m = parse_syntax(syntax)
    assert [(s.lhs, s.op, s.line, s.text) for s in m.statements] == [
        ("F1", "=~", 3, "F1=~y1+y2"),
        ("F2", "=~", 5, "F2 =~ y3 + y4"),
        ("F2", "~", 5, "F2~F1"),
        ("F1", "~~", 6, "F1~~F2"),
    ]


def test_comment_characters_inside_quoted_labels_are_not_comments() -> None:
    s = only("""F =~ "a" * y1 + label('b')*y2  # "a comment" with quotes""")
    assert s.terms == (Term("y1", label="a"), Term("y2", label="b"))
    # '#' and '!' inside quotes belong to the label (then not a valid name), not to a comment
    assert_syntax_error('F =~ label("a#b")*y1', 1, 'F =~ label("a#b")*y1', "invalid label 'a#b'")
    assert_syntax_error("F =~ label('a!b')*y1", 1, "F =~ label('a!b')*y1", "invalid label 'a!b'")


def test_continuation_after_a_trailing_plus() -> None:
    s = only("F =~ y1 +\n     y2 +\n\n     # a comment line\n     y3")
    assert [t.name for t in s.terms] == ["y1", "y2", "y3"]
    assert (s.line, s.text) == (1, "F =~ y1 + y2 + y3")


def test_continuation_before_a_leading_plus() -> None:
    s = only("F =~ y1\n   + y2\n   + y3  # done\n")
    assert [t.name for t in s.terms] == ["y1", "y2", "y3"]
    assert s.text == "F =~ y1 + y2 + y3"


@pytest.mark.parametrize("op", ["=~", "~", "~~"])
def test_continuation_after_a_trailing_operator(op: str) -> None:
    s = only(f"a {op}\n  b + c")
    assert (s.lhs, s.op, [t.name for t in s.terms]) == ("a", op, ["b", "c"])


def test_continuation_before_a_leading_operator_and_inside_modifiers() -> None:
    assert summary("F\n  =~ y1 + y2") == [(None, "F", "=~", ("y1", "y2"))]
    assert summary("y\n  ~ x") == [(None, "y", "~", ("x",))]
    s = only('F =~ label(\n"a")*\ny1 + -\n1*y2 + 0.5\n*y3')
    assert s.terms == (Term("y1", label="a"), Term("y2", fixed=-1.0), Term("y3", fixed=0.5))
    assert s.text == 'F =~ label( "a")* y1 + - 1*y2 + 0.5 *y3'


def test_statements_on_consecutive_lines_are_not_joined() -> None:
    assert summary("F =~ y1 + y2\nG =~ y3 + y4\ny1 ~~ y3") == [
        (None, "F", "=~", ("y1", "y2")),
        (None, "G", "=~", ("y3", "y4")),
        (None, "y1", "~~", ("y3",)),
    ]


def test_windows_line_ends_and_old_mac_line_ends_count_lines() -> None:
    m = parse_syntax("F =~ y1 + y2\r\n\r\nG =~ y3\rH =~ y4")
    assert [s.line for s in m.statements] == [1, 3, 4]


def test_the_strange_tilde_is_read_as_a_tilde() -> None:
    assert summary("F =\u02dc y1 + y2\ny \u02dc x") == [
        (None, "F", "=~", ("y1", "y2")),
        (None, "y", "~", ("x",)),
    ]


# ---------------------------------------------------------------------------
# Operators and left-hand sides
# ---------------------------------------------------------------------------


def test_the_three_operators() -> None:
    assert summary("F =~ y1 + y2\nF ~ x1 + x2\ny1 ~~ y2\ny1 ~~ y1") == [
        (None, "F", "=~", ("y1", "y2")),
        (None, "F", "~", ("x1", "x2")),
        (None, "y1", "~~", ("y2",)),
        (None, "y1", "~~", ("y1",)),
    ]


@pytest.mark.parametrize("op", ["=~", "~", "~~"])
def test_several_left_hand_sides_give_one_statement_each(op: str) -> None:
    m = parse_syntax(f"a + b + c {op} d + 0.5*e")
    assert [(s.lhs, s.op) for s in m.statements] == [("a", op), ("b", op), ("c", op)]
    for s in m.statements:
        assert s.terms == (Term("d"), Term("e", fixed=0.5))
        assert (s.line, s.text) == (1, f"a + b + c {op} d + 0.5*e")


def test_a_repeated_left_hand_side_gives_one_statement() -> None:
    assert summary("y1 + y1 ~ x") == [(None, "y1", "~", ("x",))]


def test_statements_are_not_merged_across_lines() -> None:
    m = parse_syntax("F =~ y1 + y2\nF =~ y3\nF =~ y1")
    assert [[t.name for t in s.terms] for s in m.statements] == [["y1", "y2"], ["y3"], ["y1"]]


@pytest.mark.parametrize("name", ["y.1", "item_3", "Y_2.b", "x.y.z", "_x", ".x1", "F2", "ähnlich"])
def test_variable_names(name: str) -> None:
    s = only(f"{name} ~ {name}2 + a.{name}*z")
    assert s.lhs == name
    assert s.terms == (Term(f"{name}2"), Term("z", label=f"a.{name}"))


# ---------------------------------------------------------------------------
# Intercepts
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("syntax", "term"),
    [
        ("y ~ 1", Term("1")),
        ("y ~ a*1", Term("1", label="a")),
        ("y ~ 0*1", Term("1", fixed=0.0)),
        ("y ~ 0", Term("1", fixed=0.0)),  # lavaan's short form of 'y ~ 0*1'
        ("y ~ 2.5*1", Term("1", fixed=2.5)),
        ("y ~ NA*1", Term("1", free=True)),
        ("y ~ start(3)*1", Term("1", start=3.0)),
        ("y ~ 1.0", Term("1")),
        ("y ~ 1 + 1", Term("1")),
        ("y ~ a*1 + 1", Term("1", label="a")),
    ],
)
def test_intercept_statements(syntax: str, term: Term) -> None:
    s = only(syntax)
    assert (s.lhs, s.op, s.terms) == ("y", "~1", (term,))


def test_intercept_and_regression_in_one_statement_are_split() -> None:
    m = parse_syntax("y ~ 1 + x1 + b*x2")
    assert [(s.lhs, s.op, s.terms) for s in m.statements] == [
        ("y", "~1", (Term("1"),)),
        ("y", "~", (Term("x1"), Term("x2", label="b"))),
    ]
    assert {(s.line, s.text) for s in m.statements} == {(1, "y ~ 1 + x1 + b*x2")}


def test_split_keeps_the_order_of_first_appearance() -> None:
    assert summary("y ~ x1 + 1 + x2") == [(None, "y", "~", ("x1", "x2")), (None, "y", "~1", ("1",))]


def test_intercepts_with_several_left_hand_sides() -> None:
    assert summary("y1 + y2 ~ 0*1 + x") == [
        (None, "y1", "~1", ("1",)),
        (None, "y1", "~", ("x",)),
        (None, "y2", "~1", ("1",)),
        (None, "y2", "~", ("x",)),
    ]


def test_latent_intercepts_inside_levels() -> None:
    assert summary("level: 1\nfw =~ y1 + y2\nlevel: 2\nfb =~ y1 + y2\nfb ~ 0*1\ny1 ~ 1") == [
        ("within", "fw", "=~", ("y1", "y2")),
        ("between", "fb", "=~", ("y1", "y2")),
        ("between", "fb", "~1", ("1",)),
        ("between", "y1", "~1", ("1",)),
    ]


# ---------------------------------------------------------------------------
# Modifiers
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("modifier", "term"),
    [
        ("0.5*", Term("y2", fixed=0.5)),
        ("1*", Term("y2", fixed=1.0)),
        ("0*", Term("y2", fixed=0.0)),
        ("-1*", Term("y2", fixed=-1.0)),
        ("- 0.25 * ", Term("y2", fixed=-0.25)),
        (".5*", Term("y2", fixed=0.5)),
        ("1e-3*", Term("y2", fixed=0.001)),
        ("2.5E+2*", Term("y2", fixed=250.0)),
        ("-3e2*", Term("y2", fixed=-300.0)),
        ("NA*", Term("y2", free=True)),
        ("a*", Term("y2", label="a")),
        ("a.b_2*", Term("y2", label="a.b_2")),
        ('"lab"*', Term("y2", label="lab")),
        ("'lab'*", Term("y2", label="lab")),
        ('label("a")*', Term("y2", label="a")),
        ("label('a')*", Term("y2", label="a")),
        ('equal("a")*', Term("y2", label="a")),
        ("start(0.3)*", Term("y2", start=0.3)),
        ("start(-1)*", Term("y2", start=-1.0)),
        ("0.3?", Term("y2", start=0.3)),
        ("fixed(2)*", Term("y2", fixed=2.0)),
        ("fixed(NA)*", Term("y2", free=True)),
        ("NA*a*", Term("y2", label="a", free=True)),
        ("a*start(0.7)*", Term("y2", label="a", start=0.7)),
        ("0.5*b*", Term("y2", label="b", fixed=0.5)),
        ("start(1)*0.5*", Term("y2", fixed=0.5, start=1.0)),
        ("0.5 * ", Term("y2", fixed=0.5)),
    ],
)
def test_modifiers(modifier: str, term: Term) -> None:
    s = only(f"F =~ y1 + {modifier}y2 + y3")
    assert s.terms == (Term("y1"), term, Term("y3"))


@pytest.mark.parametrize("op", ["=~", "~", "~~"])
def test_modifiers_in_every_operator(op: str) -> None:
    s = only(f"a {op} NA*b + c*d + 0*e + start(2)*f")
    assert s.terms == (Term("b", free=True), Term("d", label="c"), Term("e", fixed=0.0), Term("f", start=2.0))


def test_modifiers_of_a_repeated_variable_are_merged() -> None:
    s = only("F =~ NA*y1 + a*y1 + y2 + start(0.8)*y1")
    assert s.terms == (Term("y1", label="a", free=True, start=0.8), Term("y2"))


def test_repeating_the_same_modifier_value_is_allowed() -> None:
    s = only('F =~ a*y1 + label("a")*y1 + equal("a")*y1 + 1*y1 + 1.0*y1 + y1 + NA*y2 + NA*y2')
    assert s.terms == (Term("y1", label="a", fixed=1.0), Term("y2", free=True))


def test_self_regression_fixed_at_zero_is_allowed() -> None:
    assert only("y ~ 0*y + x").terms == (Term("y", fixed=0.0), Term("x"))


def test_terms_are_frozen_with_lavaan_defaults() -> None:
    term = Term("y1")
    assert (term.label, term.fixed, term.free, term.start) == (None, None, False, None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        term.name = "y2"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        only("F =~ y1").lhs = "G"  # type: ignore[misc]


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("syntax", "text", "fragment"),
    [
        ("ab := a*b", "ab := a*b", "defined parameters (':=') are not supported"),
        ("a == b", "a == b", "equality constraints ('==') are not supported"),
        ("a*b == c", "a*b == c", "equality constraints ('==') are not supported"),
        ("a < 0.5", "a < 0.5", "inequality constraints ('<') are not supported"),
        ("a > 0", "a > 0", "inequality constraints ('>') are not supported"),
        ("u1 | t1 + t2", "u1 | t1 + t2", "thresholds ('|') are not supported"),
        ("y1 ~*~ y1", "y1 ~*~ y1", "scaling factors ('~*~') are not supported"),
        ("F <~ x1 + x2", "F <~ x1 + x2", "formative indicators ('<~') are not supported"),
        ("f1 % y1", "f1 % y1", "'%' blocks (such as efa blocks) are not supported"),
        ('efa("efa1")*f1 =~ y1 + y2', 'efa("efa1")*f1 =~ y1 + y2', 'efa("...") modifiers'),
        ("y ~ x1 + x1:x2", "y ~ x1 + x1:x2", "interaction terms ('x1:x2') are not supported"),
        ("group: 1", "group: 1", "'group:' blocks (multi-group syntax) are not supported"),
        ("Group: A", "Group: A", "groups="),
        ("class: 1", "class: 1", "'class:' blocks are not supported"),
        ("block: 1", "block: 1", "'block:' blocks are not supported"),
        ("F =~ c(a, b)*y1", "F =~ c(a, b)*y1", "per-group modifiers 'c(a, b)' are not supported"),
        ("F =~ c(1, NA)*y1", "F =~ c(1, NA)*y1", "use one label or value for all groups"),
        ("F =~ upper(2)*y1", "F =~ upper(2)*y1", "the modifier upper() is not supported"),
        ("F =~ lower(0)*y1", "F =~ lower(0)*y1", "the modifier lower() is not supported"),
        ("F =~ prior(1)*y1", "F =~ prior(1)*y1", "the modifier prior() is not supported"),
    ],
)
def test_unsupported_constructs_are_named(syntax: str, text: str, fragment: str) -> None:
    assert_syntax_error(f"F =~ y1 + y2\n\n{syntax}", 3, text, fragment)


@pytest.mark.parametrize(
    ("syntax", "text", "fragment"),
    [
        ("F =~~ y1", "F =~~ y1", "unknown operator '=~~' (expected '=~', '~' or '~~')"),
        ("F = y1", "F = y1", "unknown operator '='"),
        ("F >= y1", "F >= y1", "unknown operator '>='"),
        ("F = ~ y1", "F = ~ y1", "write the operator '=~' without spaces"),
        ("y1 ~ ~ y2", "y1 ~ ~ y2", "write the operator '~~' without spaces"),
        ("F =~ y1 ~ x", "F =~ y1 ~ x", "a second operator '~' after '=~'"),
        ("F y1", "F y1", "expected '+' or an operator ('=~', '~' or '~~') after 'F', got 'y1'"),
        ("F", "F", "expected '+' or an operator ('=~', '~' or '~~') after 'F', got the end"),
        ("F =~ y1 y2", "F =~ y1 y2", "expected '+' or the end of the statement after 'y1', got 'y2'"),
        ("F =~ y1 + + y2", "F =~ y1 + + y2", "expected a variable name after '+', got '+'"),
        ("F =~", "F =~", "expected a variable name after '=~', got the end of the statement"),
        ("=~ y1", "=~ y1", "expected a variable name at the start of the statement, got '=~'"),
        ("+ F =~ y1", "+ F =~ y1", "expected a variable name at the start of the statement, got '+'"),
        ("F + =~ y1", "F + =~ y1", "expected a variable name after '+', got '=~'"),
        ("1 ~ x", "1 ~ x", "expected a variable name at the start of the statement, got '1'"),
        ("NA ~ x", "NA ~ x", "expected a variable name at the start of the statement, got 'NA'"),
        ("a*y ~ x", "a*y ~ x", "modifiers on the left-hand side ('a*y') are not supported"),
        ("F =~ y1 + 0.5 y2", "F =~ y1 + 0.5 y2", "got the number '0.5'"),
        ("F =~ 0.5 * * y2", "F =~ 0.5 * * y2", "expected a variable name after '*', got '*'"),
        ("F =~ y1 + (y2)", "F =~ y1 + (y2)", "expected a variable name after '+', got '('"),
        ("F =~ - y1", "F =~ - y1", "expected a number after '-', got 'y1'"),
        ("y ~ x +", "y ~ x +", "expected a variable name after '+', got the end of the statement"),
    ],
)
def test_unparsable_statements(syntax: str, text: str, fragment: str) -> None:
    # alone after a comment line: a trailing '+' or operator would continue onto a next line
    assert_syntax_error(f"# model\n{syntax}", 2, text, fragment)


@pytest.mark.parametrize(
    ("syntax", "text", "fragment"),
    [
        ("y ~ 2", "y ~ 2", "'2' is not a variable; an intercept is written '1'"),
        ("y ~ a*2", "y ~ a*2", "'2' is not a variable; an intercept is written '1'"),
        ("y ~ -1", "y ~ -1", "'-1' is not a variable"),
        ("y ~ a*0", "y ~ a*0", "'0' is not a variable"),
        ("F =~ 1", "F =~ 1", "the intercept '1' can only be used in '~' statements ('y ~ 1'), not in '=~'"),
        ("F =~ y1 + a*1", "F =~ y1 + a*1", "not in '=~'"),
        ("y ~~ 1", "y ~~ 1", "the intercept '1' can only be used in '~' statements ('y ~ 1'), not in '~~'"),
        ("F =~ 0", "F =~ 0", "expected a variable name in '=~', got the number '0'"),
        ("F =~ NA", "F =~ NA", "'NA' is not a variable name"),
        ('F =~ "y1"', 'F =~ "y1"', "got the quoted text \"y1\""),
        ('F =~ label("a")', 'F =~ label("a")', "expected '*' and a variable after the modifier"),
        ("y ~ log(x)", "y ~ log(x)", "expected a variable name, got 'log(x)'"),
        ("y ~ sqrt(2)*x", "y ~ sqrt(2)*x", "unknown modifier 'sqrt(2)'"),
        ("F =~ label(a)*y1", "F =~ label(a)*y1", "label() takes one quoted label"),
        ("F =~ equal(1)*y1", "F =~ equal(1)*y1", "equal() takes one quoted label"),
        ('F =~ label("1a")*y1', 'F =~ label("1a")*y1', "invalid label '1a'"),
        ('F =~ ""*y1', 'F =~ ""*y1', "invalid label ''"),
        ('F =~ start("a")*y1', 'F =~ start("a")*y1', "start() takes one number"),
        ("F =~ start()*y1", "F =~ start()*y1", "start() takes one number"),
        ("F =~ start(NA)*y1", "F =~ start(NA)*y1", "start() takes one number"),
        ("F =~ fixed(1, 2)*y1", "F =~ fixed(1, 2)*y1", "fixed() takes one number"),
        ("F =~ start(1*y1", "F =~ start(1*y1", "expected ',' or ')' after '1', got '*'"),
        ("F =~ a?y1", "F =~ a?y1", "'?' gives a start value and needs a number"),
        ("F =~ 1e999*y1", "F =~ 1e999*y1", "the number '1e999' is too large"),
        ("y ~ y", "y ~ y", "'y' is regressed on itself"),
        ("y ~ x + 1*y", "y ~ x + 1*y", "'y' is regressed on itself"),
        ("y1 + y2 ~ y2", "y1 + y2 ~ y2", "'y2' is regressed on itself"),
    ],
)
def test_invalid_terms(syntax: str, text: str, fragment: str) -> None:
    assert_syntax_error(f"G =~ z1 + z2; {syntax}", 1, text, fragment)


@pytest.mark.parametrize(
    ("syntax", "fragment"),
    [
        ("F =~ 1*y1 + 2*y1", "conflicting modifiers for 'y1': fixed at two values, 1 and 2"),
        ("F =~ NA*y1 + 1*y1", "conflicting modifiers for 'y1': fixed at 1 and freed by NA"),
        ("F =~ 0*y1 + NA*y1", "conflicting modifiers for 'y1': fixed at 0 and freed by NA"),
        ("F =~ NA*1*y1", "fixed at 1 and freed by NA"),
        ("F =~ a*y1 + b*y1", "conflicting modifiers for 'y1': two labels, 'a' and 'b'"),
        ('F =~ a*y1 + equal("b")*y1', "two labels, 'a' and 'b'"),
        ("F =~ a*b*y1", "two labels, 'a' and 'b'"),
        ("F =~ start(1)*y1 + 0.5?y1", "two start values, 1 and 0.5"),
        ("y ~ 0*1 + 1*1", "conflicting modifiers for the intercept: fixed at two values, 0 and 1"),
        ("y ~ 0 + NA*1", "conflicting modifiers for the intercept: fixed at 0 and freed by NA"),
    ],
)
def test_conflicting_modifiers(syntax: str, fragment: str) -> None:
    assert_syntax_error(syntax, 1, syntax, fragment)


@pytest.mark.parametrize(
    ("syntax", "line", "text", "fragment"),
    [
        ("F =~ y1\nlevel: 1\nfw ~ x", 1, "F =~ y1", "statement before the first 'level:' line (line 2)"),
        ("level: 3\nfw =~ y1", 1, "level: 3", "unknown level '3' (expected 1 or within, 2 or between"),
        ("level: 1\nfw =~ y1\nlevel: cluster\nfb =~ y1", 3, "level: cluster", "unknown level 'cluster'"),
        ("level: 1.0\nfw =~ y1", 1, "level: 1.0", "unknown level '1.0'"),
        ("level: (1)\nfw =~ y1", 1, "level: (1)", "unknown level '(1)'"),
        ("level:\nfw =~ y1", 1, "level:", "expected a level after 'level:'"),
        ("level: 1 fw =~ y1", 1, "level: 1 fw =~ y1", "unexpected 'fw' after 'level: 1'"),
        ("level: 1\nfw =~ y1\nlevel 2\nfb =~ y1", 3, "level 2", "expected '+' or an operator"),
        ("fw =~ y1\nwithin: 1", 2, "within: 1", "unexpected ':' (level blocks are written 'level: 1'"),
    ],
)
def test_level_errors(syntax: str, line: int, text: str, fragment: str) -> None:
    assert_syntax_error(syntax, line, text, fragment)


@pytest.mark.parametrize(
    ("syntax", "line", "text", "fragment"),
    [
        ("F =~ y1 + y2\nG =~ y3 & y4", 2, "G =~ y3 & y4", "unexpected character '&'"),
        ("F =~ y1 + y2\nG =~ 2^y3", 2, "G =~ 2^y3", "unexpected character '^'"),
        ('F =~ y1 + y2\nG =~ label("a)*y3', 2, 'G =~ label("a)*y3', "unclosed quote '\"'"),
        ("F =~ y1 +\n  y2 +\n  y3 y4", 1, "F =~ y1 + y2 + y3 y4", "got 'y4' (on line 3)"),
        ("F =~ y1 +\n\n  1e999*y2", 1, "F =~ y1 + 1e999*y2", "too large (on line 3)"),
        ("y ~ x1 +\n 1*y", 1, "y ~ x1 + 1*y", "is allowed) (on line 2)"),
        ("F =~ y1\n+ y2 y3", 1, "F =~ y1 + y2 y3", "got 'y3' (on line 2)"),
    ],
)
def test_errors_name_the_line_of_the_statement_and_of_the_token(
    syntax: str, line: int, text: str, fragment: str
) -> None:
    assert_syntax_error(syntax, line, text, fragment)


@pytest.mark.parametrize(
    ("syntax", "fragment"),
    [
        ("", "nothing but blank lines and comments"),
        ("   \n\t\n", "nothing but blank lines and comments"),
        ("# only a comment\n! and another", "nothing but blank lines and comments"),
        (";;\n;", "nothing but blank lines and comments"),
        ("level: 1\nlevel: 2", "only 'level:' lines"),
    ],
)
def test_an_empty_model_is_an_error(syntax: str, fragment: str) -> None:
    with pytest.raises(ModelSyntaxError, match="the model syntax is empty") as info:
        parse_syntax(syntax)
    assert fragment in str(info.value)


@pytest.mark.parametrize("value", [None, b"F =~ y1", ["F =~ y1"], 3])
def test_a_non_string_is_a_type_error(value: object) -> None:
    with pytest.raises(TypeError, match="expected a model syntax string"):
        parse_syntax(value)  # type: ignore[arg-type]


def test_model_syntax_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        parse_syntax("F =~ ")


# ---------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------

_FRAGMENTS = [
    "F", "y1", "y.2", "x_3", "1", "0", "-1", "0.5", "1e-3", "NA", "a", "=~", "~", "~~", ":=", "==",
    "<", ">", "|", "~*~", "<~", "%", ":", "+", "-", "*", "?", "(", ")", ",", ";", "\n", "\r\n", " ",
    "#", "!", '"', "'", '"a"', "level", "level:", "group:", "label", "equal", "start", "fixed", "c",
    "efa", "within", "between", "\u02dc", "^", "\t",
]  # fmt: skip


def _assert_parses_or_syntax_error(text: str) -> None:
    try:
        result = parse_syntax(text)
    except ModelSyntaxError:
        return
    assert isinstance(result, ModelSyntax)
    assert result.statements
    for s in result.statements:
        assert s.op in ("=~", "~", "~~", "~1")
        assert s.terms and all(isinstance(t, Term) for t in s.terms)
        assert (s.op == "~1") == all(t.name == "1" for t in s.terms)
        assert s.level in ((None,) if not result.has_levels else ("within", "between"))


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_random_text_raises_only_model_syntax_error(text: str) -> None:
    _assert_parses_or_syntax_error(text)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(_FRAGMENTS), max_size=25).map("".join))
def test_random_token_soup_raises_only_model_syntax_error(text: str) -> None:
    _assert_parses_or_syntax_error(text)


_names = st.from_regex(r"[A-Za-z][A-Za-z0-9_.]{0,5}", fullmatch=True).filter(lambda n: n != "NA")
_modifiers = st.sampled_from(["", "0.5*", "-1*", "NA*", "lab*", 'label("lab")*', "start(2)*", "0*"])


@settings(max_examples=200, deadline=None)
@given(
    lhs=st.lists(_names, min_size=1, max_size=3, unique=True),
    op=st.sampled_from(["=~", "~", "~~"]),
    rhs=st.lists(st.tuples(_modifiers, _names), min_size=1, max_size=4, unique_by=lambda t: t[1]),
    level=st.sampled_from([None, "1", "2", "within", "between"]),
)
def test_generated_statements_round_trip(
    lhs: list[str], op: str, rhs: list[tuple[str, str]], level: str | None
) -> None:
    if op == "~" and set(lhs) & {name for _, name in rhs}:
        return  # a self-regression is an error
    body = f"{' + '.join(lhs)} {op} {' + '.join(m + n for m, n in rhs)}"
    syntax = body if level is None else f"level: {level}\n{body}"
    m = parse_syntax(syntax)
    assert m.has_levels == (level is not None)
    assert [s.lhs for s in m.statements] == lhs
    expected_level = None if level is None else ("within" if level in ("1", "within") else "between")
    for s in m.statements:
        assert (s.op, s.level, s.text) == (op, expected_level, body)
        assert [t.name for t in s.terms] == [name for _, name in rhs]
        for (modifier, _), term in zip(rhs, s.terms):
            assert (term.label == "lab") == ("lab" in modifier)
            assert term.free == (modifier == "NA*")
            assert (term.start == 2.0) == (modifier == "start(2)*")
