"""The info and synth commands through click's CliRunner."""

from __future__ import annotations

import json

import click
from click.testing import CliRunner

from glas_convert.cli import cli


def test_info_json_matches_facts(sample_dir, facts):
    result = CliRunner().invoke(cli, ["info", str(sample_dir), "--json"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    for name, expected in facts.items():
        assert {key: info["images"][name][key] for key in expected} == expected
    assert info["splits"]["test_b"]["multi_part"] == 1
    assert info["total"]["grade_glas"] == {"benign": 3, "malignant": 9}
    again = CliRunner().invoke(cli, ["info", str(sample_dir), "--json"])
    assert again.stdout == result.stdout


def test_info_table_and_split_filter(sample_dir):
    result = CliRunner().invoke(cli, ["info", str(sample_dir), "--split", "test_b"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split()[:3] == ["split", "images", "glands"]
    assert lines[1].split()[:3] == ["test_b", "3", "13"]
    assert "train" not in result.stdout


def test_info_rejects_unknown_split(sample_dir):
    result = CliRunner().invoke(cli, ["info", str(sample_dir), "--split", "val"])
    assert result.exit_code == 2
    assert "'val' is not one of 'train', 'test_a', 'test_b'" in result.output


def test_info_warnings_go_to_stderr(synth_dir, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(synth_dir, copy)
    (copy / "Grade.csv").unlink()
    result = CliRunner().invoke(cli, ["info", str(copy), "--json"])
    assert result.exit_code == 0
    assert (
        result.stderr == f"warning: {copy / 'Grade.csv'}: not found; samples have no grade tags\n"
    )
    assert json.loads(result.stdout)["total"]["grade_glas"] == {"unknown": 9}


def test_synth_command(tmp_path):
    out = tmp_path / "glas"
    result = CliRunner().invoke(cli, ["synth", str(out), "--count", "4", "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert "wrote 4 images (train 2, test_a 1, test_b 1)" in result.stdout
    again = CliRunner().invoke(cli, ["synth", str(out), "--count", "4"])
    assert again.exit_code == 1
    assert "folder is not empty; pass --overwrite to replace it" in again.output
    assert "Traceback" not in again.output


def test_every_command_has_help_with_example():
    for name, command in cli.commands.items():
        result = CliRunner().invoke(cli, [name, "--help"])
        assert result.exit_code == 0, name
        assert isinstance(command, click.Command)
        assert "Example:" in (command.help or ""), name
        assert command.help.rstrip().splitlines()[-1].strip().startswith("glas-convert "), name
