"""The docs keep up with the code: every command, option and public name is documented."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import glas_convert
from glas_convert.cli import cli

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def _sections(text: str) -> dict[str, str]:
    """Level-2 heading -> the text under it, up to the next level-2 heading."""
    parts = re.split(r"^## +(.+?) *$", text, flags=re.M)
    return {title: body for title, body in zip(parts[1::2], parts[2::2], strict=True)}


USAGE = _sections((DOCS / "usage.md").read_text(encoding="utf-8"))


def _long_options(command: click.Command) -> list[str]:
    names = []
    for param in command.params:
        if isinstance(param, click.Option):
            names.extend(o for o in param.opts + param.secondary_opts if o.startswith("--"))
    return [n for n in names if n != "--help"]


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_every_command_has_a_section_in_usage(name):
    assert f"glas-convert {name}" in USAGE, f"docs/usage.md has no '## glas-convert {name}'"


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_every_option_is_in_its_command_section(name):
    section = USAGE.get(f"glas-convert {name}", "")
    missing = [o for o in _long_options(cli.commands[name]) if f"`{o}" not in section]
    assert not missing, f"docs/usage.md, glas-convert {name}: {missing} not documented"


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_every_command_has_help_text(name):
    assert (cli.commands[name].help or "").strip(), f"glas-convert {name} has no help text"


def test_top_level_help_lists_every_command_with_a_whole_summary():
    result = CliRunner().invoke(cli, ["--help"], terminal_width=80)
    assert result.exit_code == 0
    listed = result.output.split("Commands:\n", 1)[1].splitlines()
    assert sorted(line.split()[0] for line in listed) == sorted(cli.commands)
    cut = [line.strip() for line in listed if line.endswith("...")]
    assert not cut, f"summaries cut short in --help: {cut}"


def test_options_are_found_by_the_helper():
    # Guards the test above: a command with options must yield them.
    assert "--mask-format" in _long_options(cli.commands["coco"])
    assert "--quiet" in _long_options(cli.commands["all"])


def test_every_public_name_is_in_the_api_docs():
    api = (DOCS / "api.md").read_text(encoding="utf-8")
    missing = [name for name in glas_convert.__all__ if f"`{name}" not in api]
    assert not missing, f"docs/api.md does not mention {missing}"


def test_readme_starts_with_make_demo_and_make_test():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first_section = readme.split("\n## ")[1]
    assert "make demo" in first_section and "make test" in first_section


@pytest.mark.parametrize("doc", ["usage.md", "formats.md", "dataset.md", "api.md"])
def test_readme_links_every_doc(doc):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"(docs/{doc})" in readme
    assert (DOCS / doc).is_file()


def test_readme_links_the_guarantees():
    # docs/guarantees.md is written with the reliability work (issue 5).
    assert "(docs/guarantees.md)" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_make_targets_in_usage_exist_in_the_makefile():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([\w -]+):(?!=)", makefile, flags=re.M))
    targets = {t for line in targets for t in line.split()}
    documented = set(re.findall(r"`make ([\w-]+)", (DOCS / "usage.md").read_text("utf-8")))
    assert documented <= targets, f"docs/usage.md names missing targets {documented - targets}"
