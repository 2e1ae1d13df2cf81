#!/usr/bin/env python3
"""Per-file table of a cargo-mutants run, for mutants/REPORT.md.

Usage: mutants/summarize.py OUTDIR...   (each OUTDIR holds mutants.out/outcomes.json; runs are
merged by mutant name, a later run's outcome replacing an earlier one's)
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

# mutant name -> (file, outcome); a later run's outcome for the same mutant wins, so partial
# runs of one file add up and a re-run after new tests replaces the earlier result.
outcome = {}
for out in sys.argv[1:]:
    path = pathlib.Path(out) / "mutants.out" / "outcomes.json"
    data = json.loads(path.read_text())
    for o in data["outcomes"]:
        m = o["scenario"]
        if not isinstance(m, dict) or "Mutant" not in m:
            continue  # the baseline
        name = m["Mutant"]["name"]
        outcome[name] = (m["Mutant"]["file"], KINDS.get(o["summary"], o["summary"]))

per_file = collections.defaultdict(collections.Counter)
missed = collections.defaultdict(list)
for name, (f, kind) in outcome.items():
    per_file[f][kind] += 1
    if kind == "missed":
        missed[f].append(name)

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
