"""Generates the reference pages of docs/: `python -m maintbook.docs [DIR] [--check]`.

- `runbook.md` and `configuration.md` from the shipped JSON Schemas (`maintbook.docs_schema`);
- `commands.md` from the command line's own help (click), for every command.

`--check` writes nothing and exits 1 when a committed page differs from what would be
generated (the test suite runs it). The hand-written pages (`README.md`, `lifecycle.md`)
are not touched.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from maintbook.docs_schema import reference
from maintbook.resources import schema

HELP_WIDTH = 100


def _context(command: click.Command, name: str, parent: click.Context | None = None
             ) -> click.Context:
    """A context as the command line makes one (the group's settings: `-h, --help`), at a
    fixed width, so that the page does not depend on the terminal or on what ran before."""
    settings = {**(parent.command.context_settings if parent else {}),
                **command.context_settings}
    return click.Context(command, info_name=name, parent=parent, **{
        **settings, "terminal_width": HELP_WIDTH, "max_content_width": HELP_WIDTH})


def command_help(name: str, command: click.Command, group: click.Group) -> str:
    return command.get_help(_context(command, name, _context(group, "maintbook")))


def commands_page() -> str:
    from maintbook.cli import main

    parent = _context(main, "maintbook")
    lines = ["# Command reference", "",
             "Generated from the command line's own help by `python -m maintbook.docs`: edit "
             "the commands in `src/maintbook/cli.py`, not this page.", "",
             "Every command takes `--config FILE` (default `./maintbook.yml`, built-in "
             "defaults where absent). Exit codes: 0 success, 1 problems found (or a run that "
             "did not succeed, see [lifecycle.md](lifecycle.md)), 2 usage, configuration or "
             "refusal, 3 rollback failed, 130 interrupted.", "", "```text",
             main.get_help(parent), "```", ""]
    for name in sorted(main.commands):
        lines += [f"## `maintbook {name}`", "", "```text",
                  command_help(name, main.commands[name], main), "```", ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def pages() -> dict[str, str]:
    """Every generated page: file name → text."""
    return {
        "runbook.md": reference(schema("runbook.schema.json"), "Runbook reference",
                                "schemas/runbook.schema.json"),
        "configuration.md": reference(schema("config.schema.json"),
                                      "Configuration reference (maintbook.yml)",
                                      "schemas/config.schema.json"),
        "commands.md": commands_page(),
    }


def stale(folder: Path) -> list[str]:
    """The generated pages missing from `folder` or different there."""
    return [name for name, text in pages().items()
            if not (folder / name).is_file()
            or (folder / name).read_text(encoding="utf-8") != text]


def main(argv: list[str]) -> int:
    check = "--check" in argv
    rest = [a for a in argv if a != "--check"]
    folder = Path(rest[0]) if rest else Path("docs")
    if check:
        found = stale(folder)
        for name in found:
            print(f"{folder / name} is stale: run python -m maintbook.docs {folder}")
        return 1 if found else 0
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in pages().items():
        (folder / name).write_text(text, encoding="utf-8")
        print(f"wrote {folder / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
