"""The documentation cannot drift from the code: every environment variable the service reads is
documented in README.md or docs/*.md, and every variable row of a configuration table is read by the code.

Variables read by the code (found in the syntax tree of every module of ``cds_service/``, not by grep):
- every string constant that is exactly a ``PECOMA_*`` name: ``config.load_config`` hands every
  ``PECOMA_*`` variable of the environment to the modules, which read their own by name
  (``config.get("PECOMA_…")``); a constant such as the prefix ``"PECOMA_"`` or a name inside an error
  message is not a variable name and is not collected;
- every name read from or written to the environment directly: ``os.environ["X"]``,
  ``os.environ.get("X")``, ``os.getenv("X")``, ``"X" in os.environ`` (e.g. ``PROMETHEUS_MULTIPROC_DIR``).
"""
from __future__ import annotations

import ast
import json
import re
from functools import lru_cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CODE = ROOT / "cds_service"
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
DEPLOY = [ROOT / "deploy" / name for name in ("compose.yaml", "Caddyfile", "env.example", "pecoma.env.example")]
VARIABLE = re.compile(r"PECOMA_[A-Z0-9]+(?:_[A-Z0-9]+)*")
TABLE_ROW = re.compile(r"^\|\s*`((?:PECOMA|PROMETHEUS)_[A-Z0-9_]+)`\s*\|", re.MULTILINE)


def _is_environ(node: ast.AST) -> bool:
    """``os.environ`` (or a bare ``environ`` imported from os)."""
    return (isinstance(node, ast.Attribute) and node.attr == "environ") or (isinstance(node, ast.Name) and node.id == "environ")


def _string(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def names_in_source(source: str) -> set[str]:
    """The environment variable names one module reads (see the module docstring)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        text = _string(node)
        if text is not None and VARIABLE.fullmatch(text):
            found.add(text)
        elif isinstance(node, ast.Subscript) and _is_environ(node.value):  # os.environ["X"]
            found.add(_string(node.slice) or "")
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            if isinstance(func, ast.Attribute) and (
                (func.attr in ("get", "setdefault", "pop") and _is_environ(func.value))  # os.environ.get("X")
                or func.attr == "getenv"  # os.getenv("X")
            ):
                found.add(_string(node.args[0]) or "")
        elif isinstance(node, ast.Compare) and any(_is_environ(c) for c in node.comparators):  # "X" in os.environ
            found.add(_string(node.left) or "")
    found.discard("")
    return found


@lru_cache(maxsize=1)
def variables_read_by_code() -> dict[str, list[str]]:
    """Variable name -> the modules of cds_service/ that read it."""
    where: dict[str, list[str]] = {}
    for path in sorted(CODE.rglob("*.py")):
        for name in names_in_source(path.read_text(encoding="utf-8")):
            where.setdefault(name, []).append(str(path.relative_to(ROOT)))
    return where


@lru_cache(maxsize=1)
def documentation() -> str:
    return "\n".join(path.read_text(encoding="utf-8") for path in DOCS)


def documented(name: str, text: str) -> bool:
    """``name`` appears as a whole word (``PECOMA_TRUSTED_CLIENTS`` is not found inside ``…_CLIENTS_JSON``)."""
    return re.search(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", text) is not None


# --- the collector itself --------------------------------------------------------------------------

def test_the_collector_finds_config_keys_and_environment_reads_but_no_prefixes_or_messages():
    source = '''
import os
from os import environ
A = config.get("PECOMA_ONE")
B = _number(config, "PECOMA_TWO_S", 2.0)
C = os.environ.get("OTHER_DIR")
D = os.environ["THIRD"]
os.environ["FOURTH"] = "x"
E = os.getenv("FIFTH", "")
F = "SIXTH" in os.environ
G = environ.get("SEVENTH")
H = {k: v for k, v in env.items() if k.startswith("PECOMA_")}
raise ValueError(f"PECOMA_MODE must be 'demo', not {x!r}")
raise ValueError("PECOMA_SPOOL_MAX_BYTES must be positive")
class Entity: PECOMA_NOS = "pecoma_nos"
'''
    assert names_in_source(source) == {"PECOMA_ONE", "PECOMA_TWO_S", "OTHER_DIR", "THIRD", "FOURTH", "FIFTH", "SIXTH", "SEVENTH"}


def test_the_collector_sees_the_variables_of_every_part_of_the_service():
    found = variables_read_by_code()
    for name in ("PECOMA_MODE", "PECOMA_DATABASE_URL", "PECOMA_DB_POOL_SIZE", "PECOMA_JWT_LEEWAY_SECONDS",
                 "PECOMA_FHIR_BUDGET_S", "PECOMA_SPOOL_DIR", "PECOMA_RETENTION_BATCH", "PECOMA_METRICS_TOKEN",
                 "PECOMA_WORKERS", "PECOMA_FORWARDED_ALLOW_IPS", "PROMETHEUS_MULTIPROC_DIR"):
        assert name in found, name
    # pathway.facts.Entity.PECOMA_NOS & co. are enum members, not variables (and not in cds_service/)
    assert not {"PECOMA_NOS", "PECOMA_BENIGN", "PECOMA_MALIGNANT", "PECOMA_"} & set(found)


def test_an_undocumented_variable_is_caught():
    text = documentation()
    assert documented("PECOMA_SPOOL_DIR", text)
    without_row = "\n".join(line for line in text.splitlines() if "PECOMA_SPOOL_DIR" not in line)
    assert not documented("PECOMA_SPOOL_DIR", without_row)
    assert not documented("PECOMA_TRUSTED_CLIENTS", "only `PECOMA_TRUSTED_CLIENTS_JSON` here")


# --- the documentation ----------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(variables_read_by_code()))
def test_every_variable_the_code_reads_is_documented(name):
    modules = variables_read_by_code()[name]
    assert documented(name, documentation()), (
        f"{name} is read by {', '.join(modules)} but documented in neither README.md (§Configuration) nor docs/*.md: add a row"
    )


def test_every_documented_variable_row_is_read_by_the_code():
    read = variables_read_by_code()
    rows = {name for path in DOCS for name in TABLE_ROW.findall(path.read_text(encoding="utf-8"))}
    assert rows, "no configuration table found"
    stale = sorted(rows - set(read))
    assert stale == [], f"documented but never read by cds_service/ (stale rows?): {stale}"


def test_the_deployment_example_uses_only_variables_and_commands_the_code_has(capsys):
    """deploy/ is correct by reading (no Docker engine in CI): its PECOMA_* names exist, its commands parse."""
    from cds_service.cli import main

    text = "\n".join(path.read_text(encoding="utf-8") for path in DEPLOY)
    unknown = sorted(set(VARIABLE.findall(text)) - set(variables_read_by_code()))
    assert unknown == [], f"deploy/ sets variables the service never reads: {unknown}"
    commands = [json.loads(m) for m in re.findall(r"^\s*command:\s*(\[.*\])", text, re.MULTILINE)]
    ours = [argv for argv in commands if argv[0] == "pecoma-cds"]
    assert ["pecoma-cds", "db", "upgrade"] in ours and ["pecoma-cds", "serve"] in ours, ours
    for argv in ours:
        with pytest.raises(SystemExit) as exited:
            main([*argv[1:], "--help"])
        assert exited.value.code == 0, f"{' '.join(argv)}: {capsys.readouterr().err}"
