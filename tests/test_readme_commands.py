"""The README's Commands table and its claims about options match the real CLI."""

from __future__ import annotations

import re

import click

from generator.cli import cli
from tests.helpers import ROOT


def _commands(group: click.Group = cli, path: tuple[str, ...] = ()) -> dict[tuple[str, ...], click.Command]:
    found: dict[tuple[str, ...], click.Command] = {}
    context = click.Context(group)
    for name in group.list_commands(context):
        command = group.get_command(context, name)
        assert command is not None
        if isinstance(command, click.Group):
            found.update(_commands(command, (*path, name)))
        else:
            found[(*path, name)] = command
    return found


def _options(command: click.Command) -> set[str]:
    return {opt for param in command.params for opt in (*param.opts, *param.secondary_opts)}


def _table_rows() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("\n## Commands\n"):]
    section = section[:section.index("\n## ", 1)]
    return re.findall(r"^\| `(launchbook [^`]+)` \|", section, flags=re.MULTILINE)


def test_every_option_in_the_commands_table_exists() -> None:
    commands = _commands()
    rows = _table_rows()
    assert len(rows) >= 15, rows
    for row in rows:
        words = row.split()[1:]
        path = tuple(w for w in words[:2] if re.fullmatch(r"[a-z][a-z-]*", w))
        if "/" in row.split("[")[0]:  # `run start/mark/…`: one row for several commands
            continue
        while path and path not in commands:
            path = path[:-1]
        assert path in commands, f"README names a command that does not exist: {row}"
        shown = set(re.findall(r"(?<![\w-])(--?[a-zA-Z][\w-]*)", row))
        missing = shown - _options(commands[path])
        assert not missing, f"launchbook {' '.join(path)} has no {sorted(missing)} (README: {row})"


def test_json_and_project_options_are_where_the_readme_says() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "Every command a machine might call takes `--json`\n(all but `serve`)" in text
    assert "(not\n`inspect FILE`, `new DIR` or `auth add`)" in text
    commands = _commands()
    without_json = {" ".join(p) for p, c in commands.items() if "--json" not in _options(c)}
    without_project = {" ".join(p) for p, c in commands.items() if "-C" not in _options(c)}
    assert without_json == {"serve"}
    assert without_project == {"inspect", "new", "auth add"}
