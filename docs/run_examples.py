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

Usage, from the project root::

    PYTHONPATH=src python docs/run_examples.py            # run every file, report failures
    PYTHONPATH=src python docs/run_examples.py --write docs/fit.md

``tests/test_docs.py`` runs the same code (without writing).
"""

from __future__ import annotations

import argparse
import contextlib
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
        outputs = {id(b): s for b, s in results}
        for k, block in enumerate(found):
            nxt = found[k + 1] if k + 1 < len(found) else None
            if id(block) in outputs and nxt is not None and nxt.lang == "text" and text[block.end:nxt.start].strip() == "":
                pieces.append(text[pos:nxt.start])
                lines = outputs[id(block)].rstrip().splitlines()
                head = re.fullmatch(r"head=(\d+)", nxt.info)
                if head and len(lines) > int(head.group(1)):
                    lines = [*lines[: int(head.group(1))], "..."]
                fence = "```text" + (f" {nxt.info}" if nxt.info else "")
                pieces.append(fence + "\n" + "\n".join(lines) + "\n```")
                pos = nxt.end
        pieces.append(text[pos:])
        path.write_text("".join(pieces))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path, help="Markdown files (default: docs/*.md and README.md)")
    parser.add_argument("--write", action="store_true", help="refresh output blocks and copy images to docs/img")
    args = parser.parse_args(argv)
    files = args.files or [*sorted(DOCS.glob("*.md")), ROOT / "README.md"]
    failed = 0
    for path in files:
        try:
            n = len(run_file(path.resolve(), write=args.write))
            print(f"ok      {path} ({n} blocks)")
        except Exception as exc:  # noqa: BLE001 - report and go on
            failed += 1
            print(f"FAILED  {path}: {type(exc).__name__}: {exc}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
