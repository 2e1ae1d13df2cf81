#!/usr/bin/env python3
"""Validate every object an environment renders, strictly, against the API it will meet.

Usage (from the repository root):
  [STACK=DIR] .ci/validate-schemas.py ENV|all [--skip-schema-validation] [--shared DIR]
  [STACK=DIR] .ci/validate-schemas.py --env ENV --kube-version V [--knative-operator V] FILE|-

STACK names the stack whose tree (matrix.yaml, helmfile.yaml, applications/) is validated,
relative to the repository root (default: the root itself; e.g. stacks/2026). shared/ is
always the one beside the repository.

The first form renders each environment of matrix.yaml (or the one named) with
shared/tools/helmfile-template (`-e ENV --include-crds --keep-going`, the cluster's
`environments.<env>.cluster.kubernetes` as --kube-version); the second reads manifests
already rendered from FILE or standard input.

Why: `helm template` and `helm lint` never look at what a rendered object *means*. A typo'd
field in a NetworkPolicy, a PodMonitor or a KnativeServing is accepted by Helm and then either
rejected by the API server at `helmfile sync` time or — worse — silently pruned, so the policy,
monitor or setting the matrix asked for never takes effect. This check rejects both before a
cluster is involved:

- Kubernetes kinds: the cluster minor's OpenAPI schema as shipped by the PyPI package
  kubernetes-validate (pinned below), from its `-local-strict` schema set, in which every
  object definition carries `additionalProperties: false` (what `kubernetes-validate --strict`
  / `validate(..., strict=True)` uses). All errors are reported, not only the first.
- Custom resources: the `openAPIV3Schema` of the CRD's served version, CRDs taken from (first
  wins) the render itself (charts that install CRDs), the Knative Operator's kodata for the
  Serving version a rendered KnativeServing asks for, and shared/upstream/crds/. The structural
  schema is turned into JSON Schema 2020-12: objects without
  `x-kubernetes-preserve-unknown-fields` are closed (the API server prunes unknown fields),
  `x-kubernetes-int-or-string` becomes integer|string, `nullable` and null pruning are honoured,
  `format: int32/int64` ranges are checked, the root `metadata` is Kubernetes' ObjectMeta.
  CEL rules (`x-kubernetes-validations`) are not evaluated.
- A kind with neither a Kubernetes schema nor a CRD anywhere is an error; so is an object
  rendered twice (two releases would fight over it).

Findings read `ENV: Kind/namespace/name: field.path: message [source template]` ("-" for no
namespace); a summary per environment follows. Exit 0 when there is no finding, 1 otherwise,
2 on a usage or setup problem.
"""
import argparse
import json
import re
import subprocess
import sys
from pathlib import Path


from _stack import REPO, SHARED, TREE, in_tree  # noqa: E402  (.ci/ is on sys.path)
from _kubernetes_validate import KUBERNETES_VALIDATE, ensure  # noqa: E402


class Setup(Exception):
    """A usage or setup problem (exit 2), as opposed to a finding."""


# ------------------------------------------------------------------------ dependencies

def ensure_packages():
    """Import PyYAML, jsonschema and the pinned kubernetes-validate, installing them with pip
    if missing: CI runs on a fresh machine and the project's files must install what they use."""
    why = ensure({"yaml": "pyyaml", "jsonschema": "jsonschema"})
    if why:
        raise Setup(why)


def yaml_loader():
    """libyaml's loader when present: it accepts tabs as separation space (as YAML 1.2 and Go's
    yaml do), which the Knative Operator chart's CRDs contain and pure-Python PyYAML refuses."""
    import yaml
    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


# ------------------------------------------------------------------------ manifests

class Obj:
    """One rendered object and where it came from."""

    def __init__(self, doc, source):
        self.doc = doc
        self.source = source
        meta = doc.get("metadata") if isinstance(doc.get("metadata"), dict) else {}
        self.kind = str(doc.get("kind", "?"))
        self.api_version = str(doc.get("apiVersion", "?"))
        self.name = str(meta.get("name", "?"))
        self.namespace = str(meta.get("namespace") or "-")

    @property
    def group_version(self):
        g, _, v = self.api_version.rpartition("/")
        return g, v

    def ref(self):
        return f"{self.kind}/{self.namespace}/{self.name}"


def parse_manifests(text, where):
    """Split helm's output into objects, keeping each one's `# Source:` line for messages."""
    import yaml
    objs, findings = [], []
    parts = [p for p in re.split(r"(?m)^---[ \t]*$\n?", text) if p.strip()]
    for i, part in enumerate(parts):
        m = re.search(r"(?m)^# Source: (.+)$", part)
        source = m.group(1).strip() if m else f"{where} document {i + 1}"
        try:
            doc = yaml.load(part, Loader=yaml_loader())
        except yaml.YAMLError as e:
            findings.append(f"{source}: not YAML: {' '.join(str(e).split())}")
            continue
        if doc is None:
            continue
        if not isinstance(doc, dict):
            findings.append(f"{source}: a document that is not a mapping")
            continue
        if doc.get("kind", "").endswith("List") and isinstance(doc.get("items"), list):
            objs.extend(Obj(d, source) for d in doc["items"] if isinstance(d, dict))
        else:
            objs.append(Obj(doc, source))
    return objs, findings


def render_environment(env, kube_version, skip_schema_validation):
    """helmfile -e ENV template, emulated offline. A release that fails to render is a finding
    (the others are still rendered and validated, --keep-going)."""
    tool = SHARED / "tools" / "helmfile-template"
    if not tool.exists():
        raise Setup(f"{tool} not found (shared/ must sit beside the repository)")
    cmd = [sys.executable, str(tool), "-e", env, "--charts", str(SHARED / "upstream" / "charts"),
           "--kube-version", kube_version, "--include-crds", "--keep-going"]
    if skip_schema_validation:
        cmd.append("--skip-schema-validation")
    r = subprocess.run(cmd, cwd=TREE, capture_output=True, text=True)
    findings = []
    if r.returncode != 0:
        if not r.stdout.strip():
            raise Setup(f"helmfile-template -e {env} failed: {' '.join(r.stderr.split())[-1500:]}")
        # one `helmfile-template: release "ns/name" ...: <helm's message, maybe several lines>`
        # per failed release, then a count line
        for block in re.split(r"(?m)^helmfile-template: ", r.stderr):
            text = " ".join(block.split())
            m = re.match(r'release "([^"]+)" (.*)', text)
            if m:
                findings.append(f"release {m.group(1)}: render failed: {m.group(2)}")
        if not findings:
            findings.append(f"render failed: {' '.join(r.stderr.split())}")
    return r.stdout, findings


# ------------------------------------------------------------------------ Kubernetes schemas

class KubeSchemas:
    """kubernetes-validate's strict schemas of one Kubernetes minor, looked up by
    group/version/kind (checked against each schema's x-kubernetes-group-version-kind, so a
    custom group that shares a first label with a built-in one never matches by file name)."""

    def __init__(self, kube_version):
        import importlib.resources as res
        m = re.fullmatch(r"v?(\d+)\.(\d+)(?:\.\d+)?(?:[-+].*)?", kube_version)
        if not m:
            raise Setup(f"cannot read Kubernetes version {kube_version!r}")
        self.minor = f"{m.group(1)}.{m.group(2)}"
        root = res.files("kubernetes_validate") / "kubernetes-json-schema"
        self.dir = root / f"v{self.minor}.0-local-strict"
        if not self.dir.is_dir():
            shipped = sorted(p.name for p in root.iterdir() if p.name.endswith("-local-strict"))
            raise Setup(f"kubernetes-validate {KUBERNETES_VALIDATE} has no strict schemas for Kubernetes "
                        f"{self.minor} (it ships {', '.join(shipped)})")
        self.definitions = json.loads((self.dir / "_definitions.json").read_text())
        self.cache = {}
        from referencing import Registry, Resource
        self.registry = Resource.from_contents(self.definitions) @ Registry()
        self.defs_id = self.definitions["$id"]

    def validator(self, group, version, kind):
        """The Draft 2020-12 validator of a built-in kind, or None when Kubernetes has none."""
        key = (group, version, kind)
        if key not in self.cache:
            self.cache[key] = None
            short = group.split(".")[0]
            name = f"{kind.lower()}-{short + '-' if short else ''}{version}.json"
            f = self.dir / name
            if f.is_file():
                schema = json.loads(f.read_text())
                gvks = schema.get("x-kubernetes-group-version-kind") or []
                if any(g.get("group", "") == group and g.get("version") == version and g.get("kind") == kind
                       for g in gvks):
                    self.cache[key] = make_validator(schema, self.registry)
        return self.cache[key]

    def object_meta_ref(self):
        return {"$ref": f"{self.defs_id}#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}


def make_validator(schema, registry):
    import jsonschema
    from referencing import Resource
    if "$id" in schema:
        registry = Resource.from_contents(schema) @ registry
    return jsonschema.Draft202012Validator(schema, registry=registry, format_checker=int_format_checker())


def int_format_checker():
    """Only the integer formats: Kubernetes stores int32/int64 fields in fixed-width integers, so
    a value out of range is a real defect; string formats differ between Go and Python, so they
    are left to the API server."""
    import jsonschema
    fc = jsonschema.FormatChecker(formats=())

    @fc.checks("int32")
    def int32(v):
        return not isinstance(v, int) or isinstance(v, bool) or -2**31 <= v < 2**31

    @fc.checks("int64")
    def int64(v):
        return not isinstance(v, int) or isinstance(v, bool) or -2**63 <= v < 2**63
    return fc


# ------------------------------------------------------------------------ CRDs

class CRDs:
    """CustomResourceDefinitions by (group, kind); the first source to define one wins."""

    def __init__(self, kube):
        self.kube = kube
        self.by_kind = {}
        self.cache = {}

    def add(self, doc, source):
        if not (isinstance(doc, dict) and doc.get("kind") == "CustomResourceDefinition"):
            return
        spec = doc.get("spec") or {}
        key = (spec.get("group"), (spec.get("names") or {}).get("kind"))
        if None not in key and key not in self.by_kind:
            self.by_kind[key] = (doc, source)

    def add_files(self, paths):
        import yaml
        for p in paths:
            for d in yaml.load_all(p.read_text(), Loader=yaml_loader()):
                self.add(d, str(p))

    def lookup(self, group, version, kind):
        """(validator, crd source, scope) for a served version, or raise LookupError(why)."""
        key = (group, kind)
        if key not in self.by_kind:
            raise LookupError(None)
        crd, source = self.by_kind[key]
        spec = crd["spec"]
        versions = {v.get("name"): v for v in spec.get("versions") or []}
        if version not in versions:
            raise LookupError(f"CRD {crd['metadata']['name']} ({source}) defines no version {version} "
                              f"(it has {', '.join(sorted(map(str, versions)))})")
        v = versions[version]
        if not v.get("served", False):
            raise LookupError(f"version {version} of CRD {crd['metadata']['name']} ({source}) is not served")
        if (group, version, kind) not in self.cache:
            raw = ((v.get("schema") or {}).get("openAPIV3Schema")
                   or (spec.get("validation") or {}).get("openAPIV3Schema")
                   or {"type": "object", "x-kubernetes-preserve-unknown-fields": True})  # no schema: kept
            schema = crd_to_jsonschema(raw, self.kube.object_meta_ref())
            self.cache[(group, version, kind)] = make_validator(schema, self.kube.registry)
        return self.cache[(group, version, kind)], source, spec.get("scope", "Namespaced")


def crd_to_jsonschema(openapi, object_meta_ref):
    """A CRD's structural OpenAPI v3 schema as JSON Schema 2020-12, closed the way the API server
    prunes: every object node without x-kubernetes-preserve-unknown-fields accepts only its
    `properties` (or `additionalProperties` when it is a map)."""
    out = convert(openapi, closed=True)
    out["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    props = out.setdefault("properties", {})
    props["apiVersion"] = {"type": "string"}
    props["kind"] = {"type": "string"}
    props["metadata"] = object_meta_ref
    return out


def convert(s, closed):
    """One OpenAPI v3 (Kubernetes structural) schema node to JSON Schema 2020-12.
    `closed` is False inside allOf/anyOf/oneOf/not: there the schema only adds value checks
    to the structure defined beside it, so it must not forbid fields of its own."""
    if not isinstance(s, dict):
        return s
    out = {}
    preserve = bool(s.get("x-kubernetes-preserve-unknown-fields"))
    for k, v in s.items():
        if k == "properties":
            out[k] = {name: convert(sub, closed) for name, sub in v.items()}
        elif k in ("items", "additionalProperties", "not"):
            out[k] = convert(v, closed and k != "not") if isinstance(v, dict) else v
            if k == "items" and isinstance(v, list):  # OpenAPI tuple form
                out["prefixItems"] = [convert(x, closed) for x in v]
                del out["items"]
        elif k in ("allOf", "anyOf", "oneOf"):
            out[k] = [convert(x, False) for x in v]
        elif k in ("exclusiveMinimum", "exclusiveMaximum"):
            bound = "minimum" if k == "exclusiveMinimum" else "maximum"
            if v is True and bound in s:
                out[k] = s[bound]
        elif k in ("minimum", "maximum"):
            if s.get("exclusive" + k.capitalize()) is not True:
                out[k] = v
        elif k in ("type", "nullable", "description", "default", "example", "externalDocs", "title") \
                or k.startswith("x-kubernetes-") or k in ("$schema", "id", "definitions", "$ref"):
            continue  # handled below, or annotations the API server does not validate with
        else:
            out[k] = v  # enum, pattern, format, min/max*, required, uniqueItems, multipleOf...
    if s.get("x-kubernetes-int-or-string"):
        out["type"] = ["integer", "string", "null"] if s.get("nullable") else ["integer", "string"]
    elif "type" in s:
        out["type"] = [s["type"], "null"] if s.get("nullable") else s["type"]
    is_object = s.get("type") == "object" or "properties" in s
    if closed and is_object and not preserve and "additionalProperties" not in s:
        if s.get("x-kubernetes-embedded-resource"):
            out.setdefault("properties", {})
            for f in ("apiVersion", "kind", "metadata"):
                out["properties"].setdefault(f, {})
        out["additionalProperties"] = False
    return out


def prune_nulls(value):
    """The API server drops null fields of custom resources before validating (a `nullable`
    field keeps it, and null is then valid there): a null here can never be a finding."""
    if isinstance(value, dict):
        return {k: prune_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [prune_nulls(v) for v in value]
    return value


def kodata_crds(kodata_root, operator_version, serving_versions):
    """The CRD files the Knative Operator applies for each requested Serving version."""
    files, problems = [], []
    base = kodata_root / operator_version
    if not base.is_dir():
        return files, [f"no Knative Operator kodata for {operator_version} under {kodata_root}"]
    for sv in sorted(serving_versions):
        d = base / "knative-serving" / sv.lstrip("v")
        if not d.is_dir():
            problems.append(f"Knative Operator {operator_version} does not bundle Serving {sv}")
            continue
        files += sorted(d.glob("*.yaml"))
        mm = ".".join(sv.lstrip("v").split(".")[:2])
        files += sorted((base / "ingress" / mm).glob("*/*.yaml"))
    return files, problems


def knative_operator_version():
    """The operator the tree installs: the knative-operator wrapper chart's dependency version
    (what helmfile renders), else matrix.yaml's versions.knative-operator."""
    import yaml
    chart = TREE / "applications" / "knative-operator" / "Chart.yaml"
    if chart.exists():
        deps = (yaml.safe_load(chart.read_text()) or {}).get("dependencies") or []
        if deps and deps[0].get("version"):
            return str(deps[0]["version"])
    return str((load_matrix().get("versions") or {}).get("knative-operator", "")) or None


# ------------------------------------------------------------------------ validation

def path_text(parts):
    """A JSON path as field.path with [i] for list items and quoted keys that hold dots."""
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        elif re.fullmatch(r"[A-Za-z0-9_$-]+", str(p)):
            out += ("." if out else "") + str(p)
        else:
            out += f"[{json.dumps(p)}]"
    return out or "(root)"


def short(value, limit=120):
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= limit else text[:limit] + "..."


def explain(err):
    """Turn one jsonschema error into (path, message) pairs, naming each unknown field on its
    own path and descending into the closest branch of a failed oneOf/anyOf."""
    import jsonschema
    if err.validator == "additionalProperties" and isinstance(err.instance, dict):
        known = set((err.schema.get("properties") or {}))
        pats = [re.compile(p) for p in (err.schema.get("patternProperties") or {})]
        extra = [k for k in err.instance if k not in known and not any(p.search(k) for p in pats)]
        if extra:
            return [(path_text(list(err.absolute_path) + [k]), "unknown field") for k in extra]
    if err.validator in ("oneOf", "anyOf") and err.context:
        if all(c.validator == "type" for c in err.context):  # e.g. IntOrString, Quantity
            types = sorted({t for c in err.context for t in (c.validator_value if isinstance(c.validator_value, list)
                                                              else [c.validator_value]) if t != "null"})
            return [(path_text(err.absolute_path), f"{short(err.instance)} is not of type {' or '.join(types)}")]
        best = jsonschema.exceptions.best_match(err.context)
        if best is not None:
            return explain(best)
    if err.validator == "type":
        types = err.validator_value if isinstance(err.validator_value, list) else [err.validator_value]
        msg = f"{short(err.instance)} is not of type {' or '.join(t for t in types if t != 'null')}"
    elif err.validator == "enum":
        msg = f"{short(err.instance)} is not one of {short(err.validator_value, 300)}"
    elif err.validator == "required":
        msg = err.message
    elif err.validator == "format":
        msg = f"{short(err.instance)} is out of range for format {err.validator_value}"
    else:
        msg = err.message if len(err.message) < 300 else f"fails {err.validator}: {short(err.validator_value)}"
    return [(path_text(err.absolute_path), msg)]


def validate(env, objs, kube, crds, kinds_seen):
    """Every object against its schema; returns finding lines (without the env prefix)."""
    findings, seen = [], {}
    for o in objs:
        group, version = o.group_version
        where = f"[{o.source}]"
        ident = (o.api_version.split("/")[0] if "/" in o.api_version else "", o.kind, o.namespace, o.name)
        if ident in seen:
            findings.append(f"{o.ref()}: (object): rendered twice, also by {seen[ident]} {where}")
        seen[ident] = o.source
        validator = kube.validator(group, version, o.kind)
        instance = o.doc
        if validator is not None:
            kinds_seen["kubernetes"] += 1
        else:
            try:
                validator, _, _ = crds.lookup(group, version, o.kind)
            except LookupError as e:
                why = e.args[0] or (f"no schema: {o.api_version} {o.kind} is neither a Kubernetes {kube.minor} "
                                    f"API nor defined by any CRD (render, Knative Operator kodata, shared/upstream/crds)")
                findings.append(f"{o.ref()}: (object): {why} {where}")
                continue
            kinds_seen["custom"] += 1
            instance = prune_nulls(o.doc)
        errors = sorted(validator.iter_errors(instance), key=lambda e: list(map(str, e.absolute_path)))
        for err in errors:
            for path, msg in explain(err):
                findings.append(f"{o.ref()}: {path}: {msg} {where}")
    return findings


CANARY = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: canary, namespace: canary}
spec: {podSelector: {}, policyTypes: [Ingress], ingress: [{ports: [{port: 1, protocl: TCP}]}]}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: canaries.deploygen.invalid}
spec:
  group: deploygen.invalid
  names: {kind: Canary, plural: canaries}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
                port: {x-kubernetes-int-or-string: true}
                size: {type: integer, format: int32}
                open: {type: object, x-kubernetes-preserve-unknown-fields: true}
---
apiVersion: deploygen.invalid/v1
kind: Canary
metadata: {name: canary, namespace: canary, labelz: {}}
spec: {port: http, size: 4294967296, open: {anything: 1}, sise: 1}
"""
CANARY_EXPECTED = {"NetworkPolicy/canary/canary: spec.ingress[0].ports[0].protocl: unknown field",
                   "Canary/canary/canary: metadata.labelz: unknown field",
                   "Canary/canary/canary: spec.sise: unknown field",
                   "Canary/canary/canary: spec.size: 4294967296 is out of range for format int32"}


def canary(kube_version):
    """Refuse to pass anything unless strictness demonstrably holds: a known-bad NetworkPolicy and
    custom resource must yield exactly the expected findings (a package update, a schema set
    without additionalProperties: false or a conversion bug would otherwise pass silently)."""
    objs, _ = parse_manifests(CANARY, "canary")
    kube = KubeSchemas(kube_version)
    crds = CRDs(kube)
    for o in objs:
        crds.add(o.doc, o.source)
    got = {f.rsplit(" [", 1)[0] for f in validate("canary", objs, kube, crds, {"kubernetes": 0, "custom": 0})}
    if got != CANARY_EXPECTED:
        raise Setup(f"strictness self-check failed for Kubernetes {kube.minor}: expected {sorted(CANARY_EXPECTED)}, "
                    f"got {sorted(got)}")


def check(env, text, kube_version, operator_version, render_findings=()):
    """Parse, gather CRDs, validate; print findings and a summary; return the finding count."""
    canary(kube_version)
    objs, parse_findings = parse_manifests(text, env)
    kube = KubeSchemas(kube_version)
    crds = CRDs(kube)
    for o in objs:
        crds.add(o.doc, o.source)
    serving = {str((o.doc.get("spec") or {}).get("version")) for o in objs
               if o.kind == "KnativeServing" and (o.doc.get("spec") or {}).get("version")}
    extra = []
    if serving:
        if not operator_version:
            extra.append("KnativeServing rendered but no Knative Operator version is known (--knative-operator)")
        else:
            files, problems = kodata_crds(SHARED / "upstream" / "knative-operator-kodata", operator_version, serving)
            crds.add_files(files)
            extra += problems
    crds.add_files(sorted((SHARED / "upstream" / "crds").glob("*/*.yaml")))
    kinds = {"kubernetes": 0, "custom": 0}
    findings = list(render_findings) + parse_findings + extra + validate(env, objs, kube, crds, kinds)
    for f in findings:
        print(f"{env}: {f}")
    print(f"{env}: {len(objs)} objects ({kinds['kubernetes']} Kubernetes {kube.minor} strict, "
          f"{kinds['custom']} custom resources against {len(crds.by_kind)} CRDs): {len(findings)} finding(s)")
    return len(findings)


# ------------------------------------------------------------------------ main

def load_matrix():
    import yaml
    try:
        return yaml.safe_load((TREE / "matrix.yaml").read_text()) or {}
    except (OSError, yaml.YAMLError) as e:
        raise Setup(f"{in_tree('matrix.yaml')}: {e}")


def main(argv):
    ap = argparse.ArgumentParser(prog="validate-schemas.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("target", nargs="?", help="an environment of matrix.yaml, `all`, or with --env a manifest FILE (- = stdin)")
    ap.add_argument("--env", help="validate manifests from FILE as this environment")
    ap.add_argument("--kube-version", help="with --env: the cluster's Kubernetes version")
    ap.add_argument("--knative-operator", help="with --env: the Knative Operator version (default: the tree's)")
    ap.add_argument("--skip-schema-validation", action="store_true",
                    help="render without values.schema.json checks (passed to helmfile-template)")
    ap.add_argument("--shared", help="the shared/ folder (default: beside the repository)")
    a = ap.parse_args(argv)
    global SHARED
    if a.shared:
        SHARED = Path(a.shared).resolve()
    try:
        ensure_packages()
        if a.env:
            if not a.kube_version or not a.target:
                raise Setup("--env needs --kube-version and a FILE (or -)")
            text = sys.stdin.read() if a.target == "-" else Path(a.target).read_text()
            n = check(a.env, text, a.kube_version, a.knative_operator or knative_operator_version())
            return 1 if n else 0
        if not a.target:
            raise Setup("name an environment or `all` (see --help)")
        envs = load_matrix().get("environments") or {}
        names = sorted(envs) if a.target == "all" else [a.target]
        total = 0
        for env in names:
            if env not in envs:
                raise Setup(f"{in_tree('matrix.yaml')} has no environment {env!r} (it has {', '.join(sorted(envs))})")
            kv = str(((envs[env] or {}).get("cluster") or {}).get("kubernetes") or "")
            if not kv:
                raise Setup(f"{in_tree('matrix.yaml')}: environments.{env}.cluster.kubernetes is not set")
            text, render_findings = render_environment(env, kv, a.skip_schema_validation)
            total += check(env, text, kv, knative_operator_version(), render_findings)
        print(f"validate-schemas: {total} finding(s) in {len(names)} environment(s)")
        return 1 if total else 0
    except Setup as e:
        print(f"validate-schemas: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"validate-schemas: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
