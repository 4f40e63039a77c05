from click.testing import CliRunner

from glas_convert import __version__
from glas_convert.cli import cli


def test_version_prints_package_version():
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"glas-convert, version {__version__}"
