"""Where a CI script finds the tree it checks: the repository root, or the stack that STACK
names (relative to the root, e.g. `stacks/2026`), and shared/ beside the repository."""

import os
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"  # CI clones the repo with shared/ beside it
# The stack's tree: its matrix.yaml, helmfile.yaml, wrapper charts and values. Chart and values
# paths in the helmfile are relative to the helmfile's folder, as helmfile reads them.
TREE = (REPO / os.environ.get("STACK", ".")).resolve()


def in_tree(name):
    """A file of the stack as messages name it: `matrix.yaml` at the root, `stacks/2026/matrix.yaml`."""
    try:
        return str((TREE / name).relative_to(REPO))
    except ValueError:
        return str(TREE / name)
