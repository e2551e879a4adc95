"""Refresh the ``--help`` blocks of docs/cli.md from the command itself (``tests/test_cli.py`` checks them).

Run from the project root: ``PYTHONPATH=src python docs/update_cli_help.py``.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
from pathlib import Path

from psychonetrics import cli

DOCS_CLI = Path(__file__).resolve().parent / "cli.md"


def help_text(command: str) -> str:
    os.environ["COLUMNS"] = "200"  # the help has its own width, whatever the terminal
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
        cli.main([command, "--help"])
    return out.getvalue()


def main() -> None:
    text = DOCS_CLI.read_text()
    for command in ("fit", "demo"):
        prompt = f"$ psychonetrics {command} --help\n"
        pattern = re.compile(r"(^```text\n)" + re.escape(prompt) + r".*?(^```$)", re.S | re.M)
        text, n = pattern.subn(lambda m: m.group(1) + prompt + help_text(command) + m.group(2), text)
        if n != 1:
            raise SystemExit(f"docs/cli.md: expected one block for `psychonetrics {command} --help`, found {n}")
    DOCS_CLI.write_text(text)


if __name__ == "__main__":
    main()
