#!/usr/bin/env python3
"""Per-file table of a cargo-mutants run, for mutants/REPORT.md.

Usage: mutants/summarize.py OUTDIR...   (each OUTDIR holds mutants.out/outcomes.json; when
several runs cover one file, the last one given wins for that file)
"""
import collections
import json
import pathlib
import sys

KINDS = {
    "CaughtMutant": "caught",
    "MissedMutant": "missed",
    "Unviable": "unviable",
    "Timeout": "timeout",
}

per_file = {}
missed = {}
for out in sys.argv[1:]:
    path = pathlib.Path(out) / "mutants.out" / "outcomes.json"
    data = json.loads(path.read_text())
    counts = collections.defaultdict(collections.Counter)
    names = collections.defaultdict(list)
    for o in data["outcomes"]:
        m = o["scenario"]
        if not isinstance(m, dict) or "Mutant" not in m:
            continue  # the baseline
        f = m["Mutant"]["file"]
        kind = KINDS.get(o["summary"], o["summary"])
        counts[f][kind] += 1
        if kind == "missed":
            names[f].append(m["Mutant"]["name"])
    for f, c in counts.items():
        per_file[f] = c
        missed[f] = names[f]

print("| file | mutants | caught | missed | unviable | timeout |")
print("|---|---:|---:|---:|---:|---:|")
total = collections.Counter()
for f in sorted(per_file):
    c = per_file[f]
    n = sum(c.values())
    total.update(c)
    print(f"| `{f}` | {n} | {c['caught']} | {c['missed']} | {c['unviable']} | {c['timeout']} |")
n = sum(total.values())
print(f"| **total** | {n} | {total['caught']} | {total['missed']} | {total['unviable']} | {total['timeout']} |")
left = [m for f in sorted(missed) for m in missed[f]]
if left:
    print("\nMissed:\n")
    for m in left:
        print(f"- `{m}`")
