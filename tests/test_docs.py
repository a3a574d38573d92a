"""The README documents every setting and command, and opens with the two set-up commands."""

import ast
import re
from pathlib import Path

import pytest

from outreach.cli import main
from outreach.core.settings import SETTINGS

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.name)
def test_every_setting_is_documented(setting):
    assert f"`{setting.name}`" in README


def _commands(group, prefix=""):
    for name, command in group.commands.items():
        if name in ("shell", "routes", "db"):
            continue
        yield f"{prefix}{name}"
        if hasattr(command, "commands"):
            yield from _commands(command, f"{prefix}{name} ")


@pytest.mark.parametrize("command", sorted(_commands(main)))
def test_every_command_is_documented(command):
    assert f"outreach {command}" in README


def test_readme_opens_with_the_two_commands_and_ci_runs_the_second():
    commands = re.findall(r"```\n(.+?)\n```", README)[:2]
    assert commands == ["./scripts/demo", "./scripts/test"]
    assert "./scripts/test" in (ROOT / ".ci" / "run").read_text()


def test_sync_engine_imports_neither_flask_nor_outreach():
    for path in (ROOT / "sync").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] not in ("flask", "outreach"), (path, name)


def test_every_public_function_has_a_docstring():
    missing = []
    for path in [*(ROOT / "outreach").rglob("*.py"), *(ROOT / "sync").rglob("*.py")]:
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.ClassDef) and not node.name.startswith("_"):
                if not ast.get_docstring(node):
                    missing.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}")
    assert not missing, missing
