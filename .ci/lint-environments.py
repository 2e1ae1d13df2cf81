#!/usr/bin/env python3
"""Copies every wrapper chart once per environment with that environment's values merged
into values.yaml (as helmfile would pass them), so helm-lint renders the glue templates and
checks values.schema.json with the features each environment switches on.

Usage: [STACK=DIR] lint-environments.py OUT_DIR
STACK: the stack whose applications/ and environments/ are copied, relative to the repository
root (default: the root itself; e.g. stacks/2026).
"""
import os, pathlib, shutil, sys
import yaml

from _stack import REPO, TREE  # noqa: E402  (.ci/ is on sys.path)


def merge(into, other):
    for k, v in (other or {}).items():
        if isinstance(v, dict) and isinstance(into.get(k), dict):
            merge(into[k], v)
        else:
            into[k] = v
    return into


out = pathlib.Path(sys.argv[1])
for folder in ("environments", "applications"):
    if not (TREE / folder).is_dir():
        sys.exit(f"lint-environments: {TREE / folder} is not a folder (STACK={os.environ.get('STACK', '.')})")
for env in sorted(p for p in (TREE / "environments").iterdir() if p.is_dir()):
    for chart in sorted((TREE / "applications").iterdir()):
        values_file = env / f"{chart.name}.yaml"
        if not values_file.exists():
            continue
        dest = out / env.name / chart.name
        shutil.copytree(chart, dest, ignore=shutil.ignore_patterns("charts", "Chart.lock"))
        values = yaml.safe_load((chart / "values.yaml").read_text()) or {}
        merge(values, yaml.safe_load(values_file.read_text()))
        (dest / "values.yaml").write_text(yaml.safe_dump(values, sort_keys=True))
print(f"charts with environment values under {out}")
