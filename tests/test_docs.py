"""The docs site: it builds strictly, and its API reference documents every public name."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

import cloudtrail_lake_import

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "constructs" / "cloudtrail_lake_import"


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def text_of(page: Path) -> str:
    parser = _Text()
    parser.feed(page.read_text())
    return " ".join(parser.parts)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site as `make docs` builds it: strict, so a broken link or an unreadable docstring
    fails the build."""
    out = tmp_path_factory.mktemp("site")
    mkdocs = Path(sys.executable).parent / "mkdocs"
    subprocess.run(
        [str(mkdocs), "build", "--strict", "--quiet", "--site-dir", str(out)],
        check=True,
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    return out


def public_attributes(module: Path, class_name: str) -> set[str]:
    """The attributes a class sets on ``self`` without a leading underscore."""
    tree = ast.parse(module.read_text())
    (cls,) = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == class_name]
    found: set[str] = set()
    for node in ast.walk(cls):
        targets = (
            node.targets
            if isinstance(node, ast.Assign)
            else [node.target]
            if isinstance(node, ast.AnnAssign)
            else []
        )
        for target in targets:
            if (
                isinstance(target, ast.Attribute)
                and isinstance(target.value, ast.Name)
                and target.value.id == "self"
                and not target.attr.startswith("_")
            ):
                found.add(target.attr)
    return found


CONSTRUCTS = {
    "CloudTrailLakeImport": PACKAGE / "single_import" / "lake_import.py",
    "CloudTrailLakeImportPlan": PACKAGE / "plan" / "import_plan.py",
    "CloudTrailLakeImportSourceAccess": PACKAGE / "policy" / "source_access.py",
}


def test_every_public_name_is_in_the_api_reference(site: Path) -> None:
    api = text_of(site / "reference" / "api" / "index.html")
    missing = [name for name in cloudtrail_lake_import.__all__ if name not in api]
    assert missing == []


@pytest.mark.parametrize("name", sorted(CONSTRUCTS))
def test_every_public_attribute_of_a_construct_is_documented(site: Path, name: str) -> None:
    attributes = public_attributes(CONSTRUCTS[name], name)
    assert attributes, f"{name} has public attributes"
    api = text_of(site / "reference" / "api" / "index.html")
    section = api.split(name, 1)[1]
    undocumented = [a for a in sorted(attributes) if not re.search(rf"\b{a}\b", section)]
    assert undocumented == []
    docstring = getattr(cloudtrail_lake_import, name).__doc__ or ""
    assert [a for a in sorted(attributes) if f":ivar {a}:" not in docstring] == []


def test_every_prop_of_the_import_is_in_the_api_reference(site: Path) -> None:
    api = text_of(site / "reference" / "api" / "index.html")
    tree = ast.parse(CONSTRUCTS["CloudTrailLakeImport"].read_text())
    (init,) = [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.FunctionDef) and n.name == "__init__" and n.args.kwonlyargs
    ][:1]
    props = [a.arg for a in init.args.kwonlyargs]
    assert len(props) > 20
    assert [p for p in props if p not in api] == []


def test_every_command_and_option_of_the_command_line_is_in_its_reference(site: Path) -> None:
    from cloudtrail_lake_import.cli.main import cli

    reference = text_of(site / "reference" / "cli" / "index.html")
    for command in cli.commands.values():
        assert command.name is not None
        assert command.name in reference
        for param in command.params:
            for option in getattr(param, "opts", []):
                if option.startswith("--"):
                    assert option in reference, f"{command.name} {option}"
