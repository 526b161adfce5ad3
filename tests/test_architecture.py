"""The architecture contract (pyproject's [tool.importlinter], run by `make lint`) holds, and bites.

Each test copies the packages to a temporary folder, adds one import DESIGN.md forbids, and runs the real
``lint-imports`` there: it must fail and name the contract, so a contract that silently checks nothing
(a misspelt package, a wrong layer order) is caught here rather than by a reviewer.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
#: Older import-linter releases colour their output even in a pipe.
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=tree,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    result.stdout = _ANSI.sub("", result.stdout)
    return result


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of the packages' Python files and of pyproject.toml, to break on purpose."""
    for package in CONFIG["root_packages"]:
        shutil.copytree(
            ROOT / package,
            tmp_path / package,
            ignore=lambda folder, names: [
                n for n in names if not n.endswith(".py") and not (Path(folder) / n).is_dir()
            ],
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def _add_import(tree: Path, module: str, line: str) -> None:
    path = tree / (module.replace(".", "/") + ".py")
    path.write_text(path.read_text() + f"\n\ndef _violation() -> None:\n    {line}  # lazy, still counted\n")


def test_the_tree_as_committed_keeps_every_contract(tree: Path) -> None:
    result = _lint(tree)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(CONFIG['contracts'])} kept, 0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("extractors.feeds", "import flows.settings", "Leaves never import"),
        ("storage.repo", "import prefect", "Leaves never import"),
        ("alerts.render", "from prefect import get_run_logger", "Leaves never import"),
        # A cycle between packages: storage already imports classifiers.
        ("classifiers.stories", "import storage.models", "Packages form layers"),
        # The cycle issue 20 removed: trade reaching up to linear, which imports evaluate and trade.
        ("classifiers.trade", "from classifiers.linear import load_model", "No cycle between the modules"),
    ],
)
def test_a_forbidden_import_fails_lint_naming_the_contract(
    tree: Path, module: str, line: str, contract: str
) -> None:
    _add_import(tree, module, line)
    result = _lint(tree)
    assert result.returncode != 0
    broken = [row for row in result.stdout.splitlines() if row.endswith("BROKEN")]
    assert any(row.startswith(contract) for row in broken), result.stdout
