"""The library as a distribution: `python -m build` makes an sdist and, from it, a wheel that
holds `sessions_core` alone; installed into a fresh venv, the README's library example runs
from a folder where the checkout is not importable.

The example is read from README.md, so the README cannot drift from what is tested: every
result its comments spell out as a Python literal (`# {'kill': 1}`) must be what it prints.
Building fetches hatchling and installing fetches redis and cachetools through pip's index
(PyPI): without it these tests fail and say so.
"""

from __future__ import annotations

import ast
import importlib.util
import io
import json
import re
import subprocess
import sys
import tarfile
import tokenize
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest
from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parent.parent
README_URL = "redis://127.0.0.1:6379/0"
# Outside the package: nothing of the Django project, the benchmarks or the tests.
NOT_THE_LIBRARY = ("dashboard/", "project/", "templates/", "static/", "tests/", "bench/", "node/")
INDEX_HINT = " It needs pip to reach PyPI or the configured index: check the network."


def run(command: list[str], what: str, cwd: Path, hint: str = "") -> str:
    done = subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=300, check=False
    )
    if done.returncode != 0:
        pytest.fail(
            f"{what} failed (exit {done.returncode}).{hint}\n$ {' '.join(command)}\n"
            f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}",
            pytrace=False,
        )
    return done.stdout


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sdist and the wheel built from it, in a folder of their own (nothing in the repo)."""
    if importlib.util.find_spec("build") is None:
        pytest.fail("`build` is missing: pip install -r requirements-dev.txt", pytrace=False)
    out = tmp_path_factory.mktemp("dist")
    run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(REPO)],
        "Building the sdist and wheel (python -m build, which installs hatchling)",
        cwd=out,
        hint=INDEX_HINT,
    )
    return out


@pytest.fixture(scope="module")
def wheel(dist: Path) -> Path:
    (found,) = dist.glob("*.whl")
    return found


@pytest.fixture(scope="module")
def venv_python(tmp_path_factory: pytest.TempPathFactory, wheel: Path) -> Path:
    """A fresh venv with the wheel installed, its dependencies from the index."""
    venv = tmp_path_factory.mktemp("venv")
    run([sys.executable, "-m", "venv", str(venv)], "Creating a venv", cwd=venv)
    python = venv / "bin" / "python"
    pip = [str(python), "-m", "pip", "install", "--no-input", "--retries", "1", "--timeout", "20"]
    run([*pip, str(wheel)], "Installing the wheel and its dependencies", cwd=venv, hint=INDEX_HINT)
    return python


def library_files() -> set[str]:
    """Every file of the package in the checkout, as the wheel names it."""
    return {
        path.relative_to(REPO).as_posix()
        for path in (REPO / "sessions_core").rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }


def test_wheel_holds_the_package_its_lua_scripts_and_py_typed_and_nothing_else(
    wheel: Path,
) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    package = {n for n in names if n.startswith("sessions_core/")}
    metadata = {n for n in names if n.startswith("redis_sessions_py-0.1.0.dist-info/")}

    assert names == package | metadata
    assert package == library_files()
    assert "sessions_core/__init__.py" in package
    assert "sessions_core/py.typed" in package
    assert "sessions_core/lua/touch.lua" in package
    assert {n for n in package if n.endswith(".lua")} == {
        f"sessions_core/lua/{p.name}" for p in (REPO / "sessions_core" / "lua").glob("*.lua")
    }
    assert not [n for n in names if n.startswith(NOT_THE_LIBRARY)]


def test_sdist_holds_the_package_and_the_build_files_only(dist: Path) -> None:
    (sdist,) = dist.glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    package = {n for n in names if n.startswith("sessions_core/")}

    assert package == library_files()
    assert names - package == {"pyproject.toml", "README.md", "PKG-INFO", ".gitignore"}


def test_metadata_names_the_runtime_dependencies_and_admits_the_pinned_versions(
    wheel: Path,
) -> None:
    with zipfile.ZipFile(wheel) as archive:
        text = archive.read("redis_sessions_py-0.1.0.dist-info/METADATA").decode()
    metadata = Parser().parsestr(text)
    requirements = [Requirement(r) for r in metadata.get_all("Requires-Dist", [])]
    runtime = {r.name: r for r in requirements if r.marker is None}
    pins = dict(
        line.split("==", 1)
        for line in (REPO / "requirements.txt").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    )

    assert metadata["Name"] == "redis-sessions-py"
    assert metadata["Requires-Python"] == ">=3.11"
    assert "Typing :: Typed" in metadata.get_all("Classifier", [])
    assert sorted(runtime) == ["cachetools", "redis"]
    for name, requirement in runtime.items():
        assert requirement.specifier.contains(pins[name]), (requirement, pins[name])
    # hiredis is an extra: redis-py falls back to its pure-Python parser without it.
    assert metadata.get_all("Provides-Extra") == ["hiredis"]
    (extra,) = [r for r in requirements if r.marker is not None]
    assert extra.name == "redis"
    assert extra.extras == {"hiredis"}
    assert extra.specifier.contains(pins["redis"])
    assert extra.marker is not None and extra.marker.evaluate({"extra": "hiredis"})


# -- the README's example, run from the installed wheel ------------------------------------


def readme_example() -> str:
    readme = (REPO / "README.md").read_text()
    section = re.search(r"^## Using the library\n(.*?)^## ", readme, re.M | re.S)
    assert section, "README.md has no '## Using the library' section"
    code = re.search(r"^```python\n(.*?)^```", section.group(1), re.M | re.S)
    assert code, "the 'Using the library' section has no python code block"
    return code.group(1)


def shown_statements(tree: ast.Module) -> list[ast.Expr]:
    """The example's bare expressions, whose values its comments document."""
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and not isinstance(node.value, ast.Constant)
    ]


def label(node: ast.Expr) -> str:
    """`get` for `rs.get(...)`; the source of anything else."""
    call = node.value
    if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute):
        return call.func.attr
    return ast.unparse(call)


class ShowResults(ast.NodeTransformer):
    """Turn each bare expression `x` into `_show(<line>, x)`, which prints it."""

    def visit_Expr(self, node: ast.Expr) -> ast.Expr:
        if isinstance(node.value, ast.Constant):
            return node
        show = ast.Call(
            func=ast.Name(id="_show", ctx=ast.Load()),
            args=[ast.Constant(node.lineno), node.value],
            keywords=[],
        )
        return ast.copy_location(ast.Expr(value=show), node)


RUNNER_PRELUDE = """\
import importlib.resources, json, redis.utils, sessions_core
print(json.dumps({"module": sessions_core.__file__, "hiredis": redis.utils.HIREDIS_AVAILABLE,
    "touch_lua": importlib.resources.files("sessions_core").joinpath("lua/touch.lua").is_file()}))
def _show(line, value):
    print(json.dumps({"line": line, "value": repr(value)}))
"""


def leading_literal(text: str) -> tuple[bool, object]:
    """The Python literal a comment starts with, if it spells one out in full.

    `{'activity': 1}: ids active ...` gives {'activity': 1}; `{'kill': n}` (a name) and
    `{'sessions': [...]}` (elided) give nothing, and neither does prose such as `None deletes`.
    """
    if not text.startswith(("{", "[", "(", "'", '"')):
        return False, None
    for end in range(len(text), 0, -1):
        try:
            expression = ast.parse(text[:end], mode="eval")
        except SyntaxError:
            continue
        if any(isinstance(n, ast.Constant) and n.value is Ellipsis for n in ast.walk(expression)):
            return False, None
        try:
            return True, ast.literal_eval(expression)
        except ValueError:
            return False, None
    return False, None


def documented_results(source: str, tree: ast.Module) -> dict[int, object]:
    """Line of each bare expression -> the result its comment shows: the comment on its
    last line, else the comment lines right below it."""
    comments = {
        token.start[0]: token.string.lstrip("#").strip()
        for token in tokenize.generate_tokens(io.StringIO(source).readline)
        if token.type == tokenize.COMMENT
    }
    lines = source.splitlines()
    documented = {}
    for node in shown_statements(tree):
        end = node.end_lineno or node.lineno
        below = []
        line = end + 1
        while line <= len(lines) and lines[line - 1].lstrip().startswith("#"):
            below.append(comments[line])
            line += 1
        for text in (comments.get(end, ""), " ".join(below)):
            found, value = leading_literal(text)
            if found:
                documented[node.lineno] = value
                break
    return documented


def test_readme_example_runs_from_the_installed_wheel_and_prints_what_the_readme_says(
    venv_python: Path, redis_url: str, tmp_path: Path
) -> None:
    source = readme_example()
    assert source.count(README_URL) == 1
    tree = ast.parse(source.replace(README_URL, redis_url))
    labels = {node.lineno: label(node) for node in shown_statements(tree)}
    assert len(set(labels.values())) == len(labels)
    runner = ast.fix_missing_locations(ShowResults().visit(tree))
    script = tmp_path / "readme_example.py"
    script.write_text(RUNNER_PRELUDE + ast.unparse(runner) + "\n")

    # -I: no PYTHONPATH, no user site, no script folder; run from tmp_path, away from the repo.
    output = run([str(venv_python), "-I", str(script)], "The README's example", cwd=tmp_path)

    header, *shown = [json.loads(line) for line in output.splitlines()]
    venv = venv_python.parent.parent
    assert Path(header["module"]).is_relative_to(venv), header["module"]
    assert header["touch_lua"] is True
    assert header["hiredis"] is False  # a plain install works without the extra
    # _show reports each expression by its line in the example (unparse renumbers the script).
    results = {labels[r["line"]]: ast.literal_eval(r["value"]) for r in shown}
    documented = {labels[line]: value for line, value in documented_results(source, tree).items()}
    # Guards the comment reader: these results are spelled out in full today.
    assert set(documented) >= {"get", "set", "activity", "kill", "ping", "(error.name, str(error))"}
    for name, value in documented.items():
        assert results[name] == value, name
    session = dict(results["set"])
    assert results["soapp"] == {"sessions": [session]}
    assert results["soid"] == {"sessions": [session]}
    assert results["killsoid"] == {"kill": 0}
    assert results["killall"] == {"kill": 0}
