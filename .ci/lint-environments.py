#!/usr/bin/env python3
"""Copies every wrapper chart once per environment with that environment's values merged
into values.yaml (as helmfile would pass them), so helm-lint renders the glue templates and
checks values.schema.json with the features each environment switches on.

Usage: lint-environments.py OUT_DIR   (run from the repository root)
"""
import pathlib, shutil, sys
import yaml


def merge(into, other):
    for k, v in (other or {}).items():
        if isinstance(v, dict) and isinstance(into.get(k), dict):
            merge(into[k], v)
        else:
            into[k] = v
    return into


out = pathlib.Path(sys.argv[1])
for env in sorted(p for p in pathlib.Path("environments").iterdir() if p.is_dir()):
    for chart in sorted(pathlib.Path("applications").iterdir()):
        values_file = env / f"{chart.name}.yaml"
        if not values_file.exists():
            continue
        dest = out / env.name / chart.name
        shutil.copytree(chart, dest, ignore=shutil.ignore_patterns("charts", "Chart.lock"))
        values = yaml.safe_load((chart / "values.yaml").read_text()) or {}
        merge(values, yaml.safe_load(values_file.read_text()))
        (dest / "values.yaml").write_text(yaml.safe_dump(values, sort_keys=True))
print(f"charts with environment values under {out}")
