"""The conversion commands through click's CliRunner."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from export_support import GLAS_SAMPLE, SKIP_NO_SAMPLE

from glas_convert.cli import cli

COMMANDS = ["coco", "voc", "yolo", "masks", "all", "validate"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_an_example(command):
    result = CliRunner().invoke(cli, [command, "--help"])
    assert result.exit_code == 0
    assert "Example:" in result.output
    assert f"glas-convert {command}" in result.output


def test_conflicting_options_are_usage_errors_naming_both(tmp_path):
    result = CliRunner().invoke(
        cli,
        [
            "coco",
            str(tmp_path),
            str(tmp_path / "out"),
            "--images",
            "symlink",
            "--image-format",
            "jpg",
        ],
    )
    assert result.exit_code == 2
    assert "--images symlink cannot be combined with --image-format jpg" in result.output
    assert "Traceback" not in result.output


def _reader_or_skip():
    pytest.importorskip("glas_convert.dataset", reason="the dataset reader has not landed yet")
    if not GLAS_SAMPLE.is_dir():
        pytest.skip(SKIP_NO_SAMPLE)


def test_all_then_validate_on_the_real_sample(tmp_path):
    _reader_or_skip()
    out = tmp_path / "out"
    runner = CliRunner()
    result = runner.invoke(
        cli,
        [
            "all",
            str(GLAS_SAMPLE),
            str(out),
            "--images",
            "none",
            "--workers",
            "2",
            "--task",
            "segment",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "110 glands" in result.output
    result = runner.invoke(cli, ["validate", str(out), "--source", str(GLAS_SAMPLE)])
    assert result.exit_code == 0, result.output
    assert "FAILED" not in result.output
    # a second run refuses the non-empty OUT, then --overwrite replaces it
    result = runner.invoke(cli, ["coco", str(GLAS_SAMPLE), str(out), "--quiet"])
    assert result.exit_code == 1
    assert "not empty" in result.output
    result = runner.invoke(cli, ["coco", str(GLAS_SAMPLE), str(out), "--quiet", "--overwrite"])
    assert result.exit_code == 0, result.output
    assert (out / "annotations" / "instances_train.json").is_file()


def test_validate_fails_on_a_tampered_export(tmp_path):
    _reader_or_skip()
    out = tmp_path / "out"
    runner = CliRunner()
    assert (
        runner.invoke(cli, ["yolo", str(GLAS_SAMPLE), str(out), "-q", "--images", "none"]).exit_code
        == 0
    )
    label = out / "labels" / "train" / "train_12.txt"
    label.write_text("".join(label.read_text().splitlines(keepends=True)[1:]))
    result = runner.invoke(cli, ["validate", str(out), "--source", str(GLAS_SAMPLE)])
    assert result.exit_code == 1
    assert "FAILED" in result.output


def test_output_inside_the_dataset_is_refused(tmp_path):
    _reader_or_skip()
    result = CliRunner().invoke(cli, ["coco", str(GLAS_SAMPLE), str(GLAS_SAMPLE / "out")])
    assert result.exit_code == 1
    assert "inside the input dataset" in result.output
