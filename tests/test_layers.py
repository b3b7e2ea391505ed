"""The package's layers, beyond what .importlinter checks: no import placed inside a function to dodge a cycle,
and every module that moved still importable by its old name."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import cors_policies

PACKAGE = Path(cors_policies.__file__).parent
ROOT = PACKAGE.parent

#: Files allowed an import of this package inside a function: none (issue 15 emptied the list; keep it so).
ALLOWED: frozenset[str] = frozenset()


def imports_of_this_package_in_functions(path: Path, root: Path = ROOT) -> list[str]:
    """``path:line: statement`` (``path`` relative to ``root``) for each import of a cors_policies module inside a
    function of ``path``."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found: dict[int, str] = {}
    for function in ast.walk(tree):
        if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue
        for node in ast.walk(function):
            if isinstance(node, ast.ImportFrom):
                own = node.level > 0 or (node.module or "").split(".")[0] == "cors_policies"
            elif isinstance(node, ast.Import):
                own = any(alias.name.split(".")[0] == "cors_policies" for alias in node.names)
            else:
                continue
            if own:
                found[node.lineno] = ast.unparse(node)
    relative = path.relative_to(root).as_posix()
    return [f"{relative}:{line}: {statement}" for line, statement in sorted(found.items())]


def test_no_module_imports_this_package_inside_a_function() -> None:
    """A local import of our own module hides a cycle or a layer pointing the wrong way: import at the top, or move
    the code to the layer it belongs to. (Optional third-party packages may be imported locally, with a comment.)"""
    found = [
        hit
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.relative_to(ROOT).as_posix() not in ALLOWED
        for hit in imports_of_this_package_in_functions(path)
    ]
    assert found == [], "imports inside functions:\n" + "\n".join(found)


def test_the_scan_finds_what_it_looks_for(tmp_path: Path) -> None:
    package = tmp_path / "cors_policies"
    package.mkdir()
    module = package / "sample.py"
    module.write_text(
        "import json\n"
        "from . import conf\n"
        "def f():\n"
        "    from .models import CorsPolicy\n"
        "    import json\n"
        "    return CorsPolicy\n"
        "class C:\n"
        "    async def g(self):\n"
        "        import cors_policies.cache\n"
        "        from cors_policies import engine\n"
        "        from redis import Redis  # optional: fine\n"
    )
    assert imports_of_this_package_in_functions(module, tmp_path) == [
        "cors_policies/sample.py:4: from .models import CorsPolicy",
        "cors_policies/sample.py:9: import cors_policies.cache",
        "cors_policies/sample.py:10: from cors_policies import engine",
    ]


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("cors_policies.allow", "cors_policies.services.allow_origin"),
        ("cors_policies.precedence", "cors_policies.services.precedence"),
        ("cors_policies.corsheaders", "cors_policies.corsheaders_settings"),
        ("cors_policies.sync", "cors_policies.services.documents"),
        ("cors_policies.cache", "cors_policies.snapshot"),
        ("cors_policies.api.serializers", "cors_policies.services.policy_json"),
    ],
)
def test_a_moved_module_keeps_its_old_path(old: str, new: str) -> None:
    moved = importlib.import_module(new)
    shim = importlib.import_module(old)
    assert moved.__all__
    for name in moved.__all__:
        assert getattr(shim, name) is getattr(moved, name), (old, name)


def test_the_admin_package_keeps_the_names_admin_py_had() -> None:
    from django.contrib import admin as django_admin

    from cors_policies import admin
    from cors_policies.models import CorsPolicy, ObservedOrigin

    for name in (
        "ALLOW_URL_NAME",
        "COPY_SUFFIX",
        "MESSAGE_LEVELS",
        "NOT_RECORDED",
        "RECENT_DAYS",
        "SHORT_ORIGINS",
        "TESTER_URL_NAME",
        "TOP_ORIGINS",
        "CorsPolicyAdmin",
        "ObservedOriginAdmin",
        "PolicyChangeList",
        "ReasonFilter",
        "copy_name",
        "curl_command",
        "limit_search",
    ):
        assert hasattr(admin, name), name
    assert type(django_admin.site._registry[CorsPolicy]) is admin.CorsPolicyAdmin
    assert type(django_admin.site._registry[ObservedOrigin]) is admin.ObservedOriginAdmin
