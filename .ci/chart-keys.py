#!/usr/bin/env python3
"""Derive the values keys each pinned upstream chart has, as facts for deploygen's catalog.

Usage: .ci/chart-keys.py write|check [CHARTS_DIR]   (default: ../shared/upstream/charts)

For every chart a catalog file pins (`catalog/<component>/<version>.yaml`, releases[].chart),
the key set is the union of
  - every mapping path of the chart's values.yaml (lists and scalars are leaves),
  - every property path of its values.schema.json (where it has one),
  - every `.Values.a.b` path its templates read (`$.Values...` too),
written sorted into the release's `values_keys:` in `catalog/<component>/<version>.yaml`.
`deploygen` rejects an `overrides:` key whose path is not in the set (or below a path that
is a leaf: a map or list the chart takes whole, like nodeSelector).
`check` derives every set again and fails when a catalog entry's lacks a key the chart
declares. An entry may hold more: keys a render proved (`deploygen catalog import` renders
with each candidate key changed; `write` adds the keys the entry's images are set at, which
.ci/catalog-import-check proves the same way).
No chart code is copied: only key names.
"""
import json, pathlib, re, sys
import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
VALUES_RE = re.compile(r"\$?\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)")


def walk(node, prefix, out):
    if isinstance(node, dict):
        for k, v in node.items():
            path = f"{prefix}.{k}" if prefix else str(k)
            if any(c in str(k) for c in "\n\r"):
                continue
            out.add(path)
            walk(v, path, out)


def schema_walk(node, prefix, out):
    if not isinstance(node, dict):
        return
    for k, v in (node.get("properties") or {}).items():
        path = f"{prefix}.{k}" if prefix else k
        out.add(path)
        schema_walk(v, path, out)
    for key in ("allOf", "anyOf", "oneOf"):
        for sub in node.get(key) or []:
            schema_walk(sub, prefix, out)


def chart_keys(chart: pathlib.Path):
    keys = set()
    values = chart / "values.yaml"
    if values.exists():
        walk(yaml.safe_load(values.read_text()) or {}, "", keys)
    schema = chart / "values.schema.json"
    if schema.exists():
        doc = json.loads(schema.read_text())
        schema_walk(doc, "", keys)
        for d in (doc.get("$defs") or doc.get("definitions") or {}).values():
            schema_walk(d, "", keys)
    for t in sorted((chart / "templates").rglob("*")):
        if t.is_file():
            for m in VALUES_RE.finditer(t.read_text(errors="replace")):
                parts = m.group(1).strip(".").split(".")
                for i in range(1, len(parts) + 1):
                    keys.add(".".join(parts[:i]))
    return sorted(keys)


KEY_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_./-]*$")
BLOCK_NOTE = ("    # Every values key of the chart (values.yaml, values.schema.json, the templates' .Values\n"
              "    # paths), written by .ci/chart-keys.py: the keys deploygen names must be among them.\n")


def scalar(k):
    return k if KEY_RE.match(k) and not k.lower() in ("true", "false", "null", "yes", "no", "on", "off") else json.dumps(k)


def with_keys(text, release, keys):
    """The catalog file's text with release `release`'s values_keys block set to `keys`."""
    lines = text.split("\n")
    start = next(i for i, l in enumerate(lines) if l == f"  - name: {release}")
    end = start + 1
    while end < len(lines) and not lines[end].startswith("  - ") and not (lines[end] and not lines[end].startswith(" ") and not lines[end].startswith("#")):
        end += 1
    item = lines[start:end]
    # Drop an existing block (its note, the key and its list).
    out, skip = [], False
    for l in item:
        if l.startswith("    # Every values key of the chart") or l.startswith("    # paths), written by .ci/chart-keys.py") or l.startswith("    # as `deploygen catalog import` read them"):
            continue
        if l.startswith("    values_keys:"):
            skip = True
            continue
        if skip and l.startswith("      "):
            continue
        skip = False
        out.append(l)
    # The block goes after the item's last line of content (comments for the next item stay).
    last = max(i for i, l in enumerate(out) if l.startswith("    ") and l.strip())
    block = BLOCK_NOTE.rstrip("\n").split("\n") + ["    values_keys:"] + [f"      - {scalar(k)}" for k in keys]
    out = out[: last + 1] + block + out[last + 1 :]
    return "\n".join(lines[:start] + out + lines[end:])


def image_keys(release):
    """Values keys the entry's images are set at (proven by .ci/catalog-import-check)."""
    out = set()
    for img in release.get("images") or []:
        for at in img.get("set") or []:
            keys = at.get("values") or at.get("hub") or {}
            for k in keys.values():
                parts = k.split(".")
                out.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
    return out


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else "check"
    charts = pathlib.Path(sys.argv[2]) if len(sys.argv) > 2 else ROOT.parent / "shared/upstream/charts"
    bad = count = 0
    for f in sorted((ROOT / "catalog").glob("*/*.yaml")):
        text = f.read_text()
        doc = yaml.safe_load(text)
        new = text
        for r in doc.get("releases") or []:
            c = r.get("chart")
            if not c:
                continue
            src = charts / f"{c['name']}-{c['version']}"
            if not src.is_dir():
                sys.exit(f"{f}: chart {c['name']} {c['version']} not found at {src}")
            count += 1
            declared = set(chart_keys(src))
            have = set(r.get("values_keys") or [])
            missing = declared - have
            if not missing:
                continue
            if mode == "write":
                # Keep what is there (keys a render proved: `deploygen catalog import` finds
                # them, and .ci/catalog-import-check proves every image key the entry names).
                new = with_keys(new, r["name"], sorted(declared | have | image_keys(r)))
            else:
                print(f"FAIL {f.relative_to(ROOT)}: release {r['name']}: values_keys lack {len(missing)} key(s) chart {c['name']} {c['version']} declares, e.g. {sorted(missing)[:3]} (run .ci/chart-keys.py write)")
                bad += 1
        if new != text:
            for r in yaml.safe_load(new)["releases"]:
                if r.get("chart"):
                    src = charts / f"{r['chart']['name']}-{r['chart']['version']}"
                    assert set(chart_keys(src)) <= set(r.get("values_keys") or []), r["name"]
            f.write_text(new)
            print(f"wrote {f.relative_to(ROOT)}")
    print(f"{count} chart key sets, {bad} problems")
    sys.exit(1 if bad else 0)


main()
