"""Run the examples of the user guide and, with ``--write``, refresh the outputs shown in it.

Conventions of the Markdown files in ``docs/`` (and ``README.md``):

* every ```` ```python ```` block runs, in order, in one namespace per file,
  with a fresh temporary directory as the working directory;
* a ```` ```bash ```` block whose lines start with ``psychonetrics `` runs
  those commands through :func:`psychonetrics.cli.main` (same directory);
  other bash blocks (installation) are not run;
* a ```` ```text ```` block right after a python or bash block shows what it
  printed; ``--write`` replaces it with the real output (```` ```text head=N ````
  keeps the first N lines and marks the cut with ``...``);
* with ``--write``, PNG files the examples write and the file embeds
  (``img/NAME.png``) are copied to ``docs/img/``.

Without ``--write`` the printed outputs are compared with the ```` ```text ````
blocks shown in the files (:func:`differences`), after this normalization
(:func:`same_output`):

* blank lines at the end of the output are dropped and whitespace inside a
  line is ignored (trailing blanks, the alignment of pandas columns and the
  padding numpy puts around numbers all follow the width of the numbers);
  line breaks and everything else that is not a number must be equal;
* ```` ```text head=N ```` blocks compare only their first N lines (the ``...``
  marking the cut is not compared);
* numbers are compared as numbers: two numbers match when they agree to a
  relative 1e-4 (4 significant digits) or differ by at most one unit of the
  last decimal both print (``0.7215`` vs ``0.7216``), so rounding noise of the
  platform in the last digit passes but a changed estimate does not.  Numbers
  written without a decimal point or an exponent (counts, df, npar) must agree
  to the relative 1e-4, i.e. exactly when small.  A tolerance rather than
  rounding both sides to 4 significant digits, because rounding turns noise
  just at a rounding boundary (``0.12345`` vs ``0.123449``) into a mismatch;
* the optimizer's own diagnostics (the iteration count and the gradient norm at
  which it stopped, as ``print(model)`` shows them) are compared by form only:
  they follow the platform's rounding and say nothing about the estimates,
  which the rest of the output pins down.

A code block printing output with no ```` ```text ```` block after it is
not compared (the page chose not to show its output).

Usage, from the project root::

    PYTHONPATH=src python docs/run_examples.py            # run every file, report failures and differences
    PYTHONPATH=src python docs/run_examples.py --diff     # ... and show each difference
    PYTHONPATH=src python docs/run_examples.py --write docs/fit.md

``tests/test_docs.py`` runs the same code (without writing) and asserts
that every page prints what it shows.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import io
import os
import re
import shlex
import shutil
import sys
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
FENCE = re.compile(r"^```(\w*)([^\n]*)\n(.*?)^```[ \t]*$", re.S | re.M)


@dataclass
class Block:
    lang: str
    info: str  # the rest of the opening fence line, e.g. "head=20"
    code: str
    start: int  # offsets of the whole fenced block in the file text
    end: int


def blocks(text: str) -> list[Block]:
    """Fenced code blocks of a Markdown text, in order."""
    return [Block(m.group(1), m.group(2).strip(), m.group(3), m.start(), m.end()) for m in FENCE.finditer(text)]


def is_cli(block: Block) -> bool:
    lines = [ln for ln in block.code.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    return block.lang == "bash" and bool(lines) and all(ln.startswith("psychonetrics ") for ln in lines)


def runnable(block: Block) -> bool:
    return block.lang == "python" or is_cli(block)


def run_block(block: Block, namespace: dict, name: str) -> str:
    """Run one block; return what it printed (stdout)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if block.lang == "python":
            exec(compile(block.code, name, "exec"), namespace)  # noqa: S102 - running our own examples
        else:
            from psychonetrics.cli import main

            for line in block.code.splitlines():
                if line.strip() and not line.lstrip().startswith("#"):
                    code = main(shlex.split(line)[1:])
                    if code != 0:
                        raise RuntimeError(f"{line!r} exited with code {code}")
    return out.getvalue()


def run_file(path: Path, *, write: bool = False, skip: tuple[str, ...] = ()) -> list[tuple[Block, str]]:
    """Run the examples of ``path``; with ``write`` update its output blocks and images.

    Blocks containing any of the strings in ``skip`` are not run (their
    output block is left as it is).
    """
    text = path.read_text()
    found = blocks(text)
    namespace: dict = {"__name__": "__docs__"}
    results: list[tuple[Block, str]] = []
    old = Path.cwd()
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        try:
            for k, block in enumerate(found):
                if not runnable(block) or any(s in block.code for s in skip):
                    continue
                printed = run_block(block, namespace, f"{path.name}[block {k + 1}]")
                results.append((block, printed))
            if write:
                for png in Path(tmp).glob("*.png"):
                    if f"img/{png.name}" in text:
                        shutil.copy(png, DOCS / "img" / png.name)
        finally:
            os.chdir(old)
    if write:
        pieces, pos = [], 0
        for _, block, printed, shown in pair_outputs(text, found, results):
            if shown is None:
                continue
            pieces.append(text[pos:shown.start])
            lines = printed.rstrip().splitlines()
            head = head_lines(shown)
            if head is not None and len(lines) > head:
                lines = [*lines[:head], "..."]
            fence = "```text" + (f" {shown.info}" if shown.info else "")
            pieces.append(fence + "\n" + "\n".join(lines) + "\n```")
            pos = shown.end
        pieces.append(text[pos:])
        path.write_text("".join(pieces))
    return results


def head_lines(shown: Block) -> int | None:
    """N of a ```` ```text head=N ```` block, else None."""
    head = re.fullmatch(r"head=(\d+)", shown.info)
    return int(head.group(1)) if head else None


def pair_outputs(text: str, found: list[Block], results: list[tuple[Block, str]]
                 ) -> list[tuple[int, Block, str, Block | None]]:
    """For each executed block: its number in the file (1-based), the block, what it printed and the
    ```` ```text ```` block right after it (only blank text in between), or None."""
    printed = {b.start: out for b, out in results}
    pairs = []
    for k, block in enumerate(found):
        if block.start not in printed:
            continue
        nxt = found[k + 1] if k + 1 < len(found) else None
        shown = nxt if nxt is not None and nxt.lang == "text" and text[block.end:nxt.start].strip() == "" else None
        pairs.append((k + 1, block, printed[block.start], shown))
    return pairs


# ------------------------------------------------------------ comparing printed with shown outputs

NUMBER = re.compile(r"(?<![\w.])([-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?)(?![\w.])")
RTOL = 1e-4


def _unit(token: str) -> float:
    """One unit of the last digit ``token`` prints (0 for an integer: compared by RTOL only)."""
    mantissa, _, exponent = token.lower().partition("e")
    if "." not in mantissa and not exponent:
        return 0.0
    decimals = len(mantissa.partition(".")[2])
    return 10.0 ** (int(exponent or 0) - decimals)


def _same_number(a: str, b: str) -> bool:
    x, y = float(a), float(b)
    tol = max(RTOL * max(abs(x), abs(y)), min(_unit(a), _unit(b)))
    return abs(x - y) <= tol * (1 + 1e-9)


def output_lines(text: str, head: int | None = None) -> list[str]:
    """Lines of an output: trailing blank lines dropped, runs of whitespace as one space (for the diff),
    only the first N of a head=N block."""
    lines = [" ".join(ln.split()) if ln.strip() else "" for ln in text.rstrip().splitlines()]
    if head is not None:
        if len(lines) == head + 1 and lines[-1] == "...":
            lines = lines[:-1]
        lines = lines[:head]
    return lines


DIAGNOSTICS = re.compile(r"(in )\d+( iterations?)|(gradient norm )[-+0-9.eE]+")


def _mask_diagnostics(line: str) -> str:
    return DIAGNOSTICS.sub(lambda m: f"{m.group(1)}#{m.group(2)}" if m.group(1) else f"{m.group(3)}#", line)


def same_line(a: str, b: str) -> bool:
    a, b = _mask_diagnostics(a), _mask_diagnostics(b)
    pa, pb = NUMBER.split(a), NUMBER.split(b)  # text, number, text, number, ..., text
    if len(pa) != len(pb):
        return False
    return all("".join(x.split()) == "".join(y.split()) if k % 2 == 0 else _same_number(x, y)
               for k, (x, y) in enumerate(zip(pa, pb)))


def same_output(printed: str, shown: str, head: int | None = None) -> bool:
    """Whether a block printed what the page shows (see the module docstring for the normalization)."""
    a, b = output_lines(printed, head), output_lines(shown, head)
    return len(a) == len(b) and all(same_line(x, y) for x, y in zip(a, b))


@dataclass
class Difference:
    page: str
    block: int  # number of the code block in the file (1-based, counting every fenced block)
    line: int  # line of the file where the shown ```text block starts
    printed: str
    shown: str
    head: int | None

    def diff(self) -> str:
        """Unified diff shown -> printed of the normalized lines."""
        return "\n".join(difflib.unified_diff(output_lines(self.shown, self.head),
                                               output_lines(self.printed, self.head),
                                               f"{self.page} (shown, line {self.line})",
                                               f"{self.page} [block {self.block}] (printed)", lineterm=""))

    def __str__(self) -> str:
        return f"{self.page} [block {self.block}], output shown at line {self.line}"


def differences(path: Path, *, skip: tuple[str, ...] = (), results: list[tuple[Block, str]] | None = None
                ) -> list[Difference]:
    """Every executed block of ``path`` whose printed output differs from the ```` ```text ```` block
    shown after it; runs the examples unless ``results`` (of :func:`run_file`) are given."""
    text = path.read_text()
    found = blocks(text)
    if results is None:
        results = run_file(path, skip=skip)
    out = []
    for k, _, printed, shown in pair_outputs(text, found, results):
        if shown is None:
            continue
        head = head_lines(shown)
        if not same_output(printed, shown.code, head):
            out.append(Difference(path.name, k, text.count("\n", 0, shown.start) + 1, printed, shown.code, head))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path, help="Markdown files (default: docs/*.md and README.md)")
    parser.add_argument("--write", action="store_true", help="refresh output blocks and copy images to docs/img")
    parser.add_argument("--diff", action="store_true", help="show the differences between printed and shown outputs")
    args = parser.parse_args(argv)
    files = args.files or [*sorted(DOCS.glob("*.md")), ROOT / "README.md"]
    failed = differ = 0
    for path in files:
        try:
            if args.write:
                n = len(run_file(path.resolve(), write=True))
                print(f"ok      {path} ({n} blocks)")
                continue
            found = differences(path.resolve())
        except Exception as exc:  # noqa: BLE001 - report and go on
            failed += 1
            print(f"FAILED  {path}: {type(exc).__name__}: {exc}")
            continue
        if not found:
            print(f"ok      {path}")
        for d in found:
            differ += 1
            print(f"DIFFERS {path} [block {d.block}]: printed output != output shown at line {d.line}")
            if args.diff:
                print(d.diff())
    return 1 if failed or differ else 0


if __name__ == "__main__":
    sys.exit(main())
