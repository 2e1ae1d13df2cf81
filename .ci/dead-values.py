#!/usr/bin/env python3
"""Find glue values that no template reads, by rendering with each one removed and changed.

Usage (from the repository root):
  [STACK=DIR] .ci/dead-values.py [--env ENV]... [--upstream] [--subprocess] [--shared DIR] [-v]

STACK names the stack whose tree (matrix.yaml, helmfile.yaml, applications/, environments/) is
probed, relative to the repository root (default: the root itself; e.g. stacks/2026). shared/
is always the one beside the repository.

Why: deploygen writes environments/<env>/<release>.yaml from matrix.yaml. A value the wrapper
chart never reads looks like configuration but does nothing — a setting the matrix promises and
the cluster never gets (or a leftover of a refactor). Nothing in Helm reports it, so this check
finds such values mechanically, without knowing the templates:

For each environment of the stack's helmfile.yaml and each release it installs (a release's
`condition:` is read from the environment's values, `installed: false` is honoured), the
release's values files are rendered once as helmfile passes them (the baseline), then, for every
leaf of the wrapper chart's *own* keys (every top-level key but the upstream dependency's, which
is `dependencies[0].name` of applications/<release>/Chart.yaml; a list counts as one leaf, an
empty map too), twice more: once with the leaf removed and once with it changed to a sentinel
(string -> "deploygen-sentinel", bool -> flipped, number -> +1, list -> [] or a one-element
list, map -> one sentinel key). A leaf for which both probes render byte-identical output to the
baseline is dead: `ENV release key.path: no template reads it`. A probe that fails to render
counts as read (a template or a schema looked at it). Renders use shared/tools/helm-template
(the real Helm engine) with the release's name and namespace from helmfile.yaml, --charts
shared/upstream/charts, the environment's Kubernetes version from matrix.yaml and
--skip-schema-validation (a sentinel must reach the templates, not stop at a schema).

--upstream also probes the leaves under the dependency's key: values the upstream chart silently
ignores (typos, keys of another chart version). Report only: they never fail the run.

helm-template is Python: it is loaded once and its main() called per render in this process
(the Go library is loaded once; about 5x faster than a process per render). --subprocess runs the
tool as a command per render instead (for comparison, or should its internals change).

Exit 0: no dead glue value; 1: dead values (or a baseline that does not render or is not
reproducible); 2: usage or setup problem. The runtime and render count are printed last.
"""
import argparse
import contextlib
import copy
import importlib.machinery
import importlib.util
import io
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _stack import REPO, SHARED, TREE, in_tree  # noqa: E402  (.ci/ is on sys.path)
SENTINEL = "deploygen-sentinel"


class Setup(Exception):
    """A usage or setup problem (exit 2)."""


def ensure_yaml():
    """PyYAML, installed with pip when missing (CI machines start fresh)."""
    try:
        import yaml  # noqa: F401
    except ImportError:
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "pyyaml"], check=False)
        import yaml  # noqa: F401


def load_yaml(path):
    import yaml
    try:
        return yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as e:
        raise Setup(f"{path}: {' '.join(str(e).split())}")


# ------------------------------------------------------------------------ the tree

def merge(a, b):
    """Helm's and helmfile's merge of values layers: maps merge, everything else replaces."""
    out = dict(a)
    for k, v in (b or {}).items():
        out[k] = merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def read_helmfile():
    """(environments: name -> [values files], releases) of the root helmfile.yaml. Only the
    plain forms deploygen writes are understood; anything else is a setup error, not a guess."""
    import yaml
    try:
        text = (TREE / "helmfile.yaml").read_text()
    except OSError as e:
        raise Setup(f"{in_tree('helmfile.yaml')}: {e}")
    envs, releases = {}, []
    for part in re.split(r"(?m)^---[ \t]*$", text):
        doc = yaml.safe_load(part) or {}
        for name, e in (doc.get("environments") or {}).items():
            files = []
            for v in (e or {}).get("values") or []:
                if not isinstance(v, str) or v.endswith(".gotmpl") or "{{" in v:
                    raise Setup(f"{in_tree('helmfile.yaml')}: environment {name}: values entry {v!r} is not a plain file")
                files.append(v)
            envs[name] = files
        releases += doc.get("releases") or []
    return envs, releases


def lookup(values, dotted):
    cur = values
    for k in dotted.split("."):
        if not isinstance(cur, dict) or k not in cur:
            return None
        cur = cur[k]
    return cur


def release_values(release, env):
    files = []
    for v in release.get("values") or []:
        if not isinstance(v, str):
            raise Setup(f"release {release.get('name')}: inline values are not supported here")
        path = re.sub(r"\{\{-?\s*\.Environment\.Name\s*-?\}\}", env, v)
        if "{{" in path:
            raise Setup(f"release {release.get('name')}: values path {v!r} uses a template this script does not render")
        files.append(path)
    return files


def installed(release, env_values):
    """helmfile's `installed` and `condition` (a dotted path to a boolean in the env's values)."""
    if release.get("installed") is False:
        return False
    cond = release.get("condition")
    if cond:
        v = lookup(env_values, cond)
        if not isinstance(v, bool):
            raise Setup(f"release {release['name']}: condition {cond} is not a boolean in the environment values")
        return v
    return True


def dependency_name(chart_dir):
    deps = (load_yaml(chart_dir / "Chart.yaml") or {}).get("dependencies") or []
    return deps[0]["name"] if deps else None


# ------------------------------------------------------------------------ leaves and probes

def leaves(values, prefix=()):
    """Paths of every leaf: scalars, lists (one leaf each) and empty maps."""
    for k, v in values.items():
        p = prefix + (k,)
        if isinstance(v, dict) and v:
            yield from leaves(v, p)
        else:
            yield p


def path_text(path):
    out = ""
    for k in path:
        k = str(k)
        out += ("." if out else "") + k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else f"[{json.dumps(k)}]"
    return out


def get(values, path):
    for k in path:
        values = values[k]
    return values


def removed(values, path):
    out = copy.deepcopy(values)
    del get(out, path[:-1])[path[-1]]
    return out


def sentinel(value):
    """A different value of the same shape, so a template that reads the leaf renders otherwise."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, (int, float)):
        return value + 1
    if isinstance(value, list):
        return [] if value else [SENTINEL]
    if isinstance(value, dict):
        return {SENTINEL: SENTINEL}
    if value == SENTINEL:
        return SENTINEL + "-2"
    return SENTINEL


def changed(values, path):
    out = copy.deepcopy(values)
    get(out, path[:-1])[path[-1]] = sentinel(get(values, path))
    return out


# ------------------------------------------------------------------------ rendering

class Renderer:
    """helm-template, in this process (its main() per render) or as a command."""

    def __init__(self, in_process):
        self.tool = SHARED / "tools" / "helm-template"
        if not self.tool.exists():
            raise Setup(f"{self.tool} not found (shared/ must sit beside the repository)")
        self.module = self._load() if in_process else None
        self.count = 0
        self.seconds = 0.0

    def _load(self):
        sys.dont_write_bytecode = True  # shared/ is read-only in CI; leave no __pycache__
        loader = importlib.machinery.SourceFileLoader("deploygen_helm_template", str(self.tool))
        spec = importlib.util.spec_from_loader(loader.name, loader)
        module = importlib.util.module_from_spec(spec)
        loader.exec_module(module)
        return module

    def render(self, chart, files, name, namespace, kube_version):
        """(ok, output): output is the manifests, or the error text when the render failed."""
        argv = [str(chart)] + [a for f in files for a in ("-f", str(f))] + [
            "--name", name, "--namespace", namespace, "--charts", str(SHARED / "upstream" / "charts"),
            "--kube-version", kube_version, "--skip-schema-validation"]
        start = time.monotonic()
        try:
            if self.module is None:
                r = subprocess.run([sys.executable, str(self.tool)] + argv, capture_output=True, text=True, cwd=TREE)
                rc, out, err = r.returncode, r.stdout, r.stderr
            else:
                out_buf, err_buf, path = io.StringIO(), io.StringIO(), list(sys.path)
                with contextlib.redirect_stdout(out_buf), contextlib.redirect_stderr(err_buf):
                    try:
                        rc = self.module.main(argv)
                    except SystemExit as e:  # the tool's die()
                        rc = e.code if isinstance(e.code, int) else 1
                    finally:
                        sys.path[:] = path  # its engine() prepends the wheel's folder each call
                out, err = out_buf.getvalue(), err_buf.getvalue()
            if rc == 2:
                raise Setup(f"helm-template {' '.join(argv)}: {err.strip()}")
            return rc == 0, out if rc == 0 else err
        finally:
            self.count += 1
            self.seconds += time.monotonic() - start


class Release:
    """One release of one environment, with its values files and a baseline render."""

    def __init__(self, env, kube_version, release, renderer, tmp):
        self.env, self.kube = env, kube_version
        self.name, self.namespace = release["name"], release.get("namespace", "default")
        self.chart = (TREE / release["chart"]).resolve()
        if not (self.chart / "Chart.yaml").exists():
            raise Setup(f"release {self.name}: chart {release['chart']} is not a local chart")
        self.files = [TREE / f for f in release_values(release, env)]
        self.dependency = dependency_name(self.chart)
        self.renderer, self.tmp = renderer, Path(tmp)

    def render(self, files):
        return self.renderer.render(self.chart, files, self.name, self.namespace, self.kube)

    def write(self, values, tag):
        import yaml
        path = self.tmp / f"{self.env}-{self.name}-{tag}.yaml"
        path.write_text(yaml.safe_dump(values, sort_keys=False))
        return path

    def baseline(self):
        """The render as helmfile passes the files; it must work and be reproducible from the
        values as this script rewrites them, or a difference would prove nothing."""
        ok, base = self.render(self.files)
        if not ok:
            return None, f"the baseline does not render: {' '.join(base.split())[:600]}"
        again = [self.write(load_yaml(f) or {}, f"copy{i}") for i, f in enumerate(self.files)]
        ok2, out2 = self.render(again)
        if not ok2 or out2 != base:
            return None, "the render is not reproducible (two renders of the same values differ)"
        return base, None

    def probe(self, base, upstream):
        """Yield (key path, dead?) for each leaf of the own keys (or the dependency's keys)."""
        for i, f in enumerate(self.files):
            values = load_yaml(f) or {}
            if not isinstance(values, dict):
                raise Setup(f"{f}: values are not a map")
            for top, v in values.items():
                if (top == self.dependency) != upstream:
                    continue
                sub = {top: v}
                for path in (leaves(sub) if isinstance(v, dict) and v else [(top,)]):
                    dead = True
                    for tag, variant in (("removed", removed(values, path)), ("changed", changed(values, path))):
                        files = list(self.files)
                        files[i] = self.write(variant, tag)
                        ok, out = self.render(files)
                        if not ok or out != base:
                            dead = False
                            break
                    yield path, dead


# ------------------------------------------------------------------------ main

def main(argv):
    ap = argparse.ArgumentParser(prog="dead-values.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("--env", action="append", help="only this environment (repeatable; default: all)")
    ap.add_argument("--upstream", action="store_true",
                    help="also probe the upstream dependency's keys (report only)")
    ap.add_argument("--subprocess", action="store_true", help="run helm-template as a command per render")
    ap.add_argument("--shared", help="the shared/ folder (default: beside the repository)")
    ap.add_argument("-v", "--verbose", action="store_true", help="also list every leaf that is read")
    a = ap.parse_args(argv)
    global SHARED
    if a.shared:
        SHARED = Path(a.shared).resolve()
    start = time.monotonic()
    try:
        ensure_yaml()
        envs, releases = read_helmfile()
        matrix = (load_yaml(TREE / "matrix.yaml") or {}).get("environments") or {}
        names = a.env or sorted(envs)
        renderer = Renderer(in_process=not a.subprocess)
        dead, errors, upstream_dead, probed = [], [], [], 0
        with tempfile.TemporaryDirectory(prefix="dead-values.") as tmp:
            for env in names:
                if env not in envs:
                    raise Setup(f"{in_tree('helmfile.yaml')} has no environment {env!r} (it has {', '.join(sorted(envs))})")
                kube = str(((matrix.get(env) or {}).get("cluster") or {}).get("kubernetes") or "")
                if not kube:
                    raise Setup(f"{in_tree('matrix.yaml')}: environments.{env}.cluster.kubernetes is not set")
                env_values = {}
                for f in envs[env]:
                    env_values = merge(env_values, load_yaml(TREE / f) or {})
                for rel in releases:
                    if not installed(rel, env_values):
                        print(f"{env} {rel['name']}: not installed in this environment (skipped)")
                        continue
                    r = Release(env, kube, rel, renderer, tmp)
                    base, why = r.baseline()
                    if why:
                        errors.append(f"{env} {r.name}: {why}")
                        print(errors[-1])
                        continue
                    for upstream in ([False, True] if a.upstream else [False]):
                        for path, is_dead in r.probe(base, upstream):
                            probed += 1
                            if not is_dead:
                                if a.verbose:
                                    print(f"{env} {r.name} {path_text(path)}: read")
                                continue
                            if upstream:
                                upstream_dead.append(f"{env} {r.name} {path_text(path)}: the upstream chart ignores it")
                                print(f"{upstream_dead[-1]} (report only)")
                            else:
                                dead.append(f"{env} {r.name} {path_text(path)}: no template reads it")
                                print(dead[-1])
        took = time.monotonic() - start
        print(f"dead-values: {len(dead)} dead glue value(s)"
              + (f", {len(upstream_dead)} upstream value(s) ignored (report only)" if a.upstream else "")
              + f", {len(errors)} error(s); {probed} leaves probed in {len(names)} environment(s); "
              f"{renderer.count} renders in {renderer.seconds:.1f}s "
              f"({'subprocess' if a.subprocess else 'in-process'}), {took:.1f}s in all")
        return 1 if dead or errors else 0
    except Setup as e:
        print(f"dead-values: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
