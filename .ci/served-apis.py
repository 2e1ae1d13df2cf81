#!/usr/bin/env python3
"""Generate src/audit/served-apis.txt, the table of the API kinds each Kubernetes minor serves,
from upstream's own API data; with --check, fail when the committed table differs.

Usage (from anywhere):
  .ci/served-apis.py            write src/audit/served-apis.txt
  .ci/served-apis.py --check    regenerate in memory, diff against the committed file (exit 1)

Source: the PyPI package kubernetes-validate at the version .ci/_kubernetes_validate.py pins
(the one .ci/validate-schemas.py uses; installed with pip when missing). For every Kubernetes minor
it ships (`kubernetes-json-schema/v1.N.0-local`), it carries `_definitions.json`, the
definitions of the API server's OpenAPI document (kubernetes/kubernetes
api/openapi-spec/swagger.json of that release, converted to JSON Schema). A definition that is
an API kind carries `x-kubernetes-group-version-kind`:

- a definition with exactly one group-version-kind is a kind the API server serves at that
  group/version (Deployment at apps/v1, FlowSchema at flowcontrol.apiserver.k8s.io/v1beta2, and
  the List and subresource kinds such as DeploymentList and Scale). Kubernetes generates the
  document with every API enabled, so alpha versions are in it: the audit treats them as off
  unless a cluster enables them;
- meta/v1 DeleteOptions (and WatchEvent) carry one group-version-kind for every group/version
  the API machinery registers, served or not (apps/v1beta1 and extensions/v1beta1 stay
  registered long after their removal): those groups, with the groups of the served kinds, are
  the groups that are built into Kubernetes in that minor. Any other group is served only where
  something installs it (a CRD, an aggregated API server).

Beta versions off by default (KEP-3136, kubernetes/enhancements
keps/sig-architecture/3136-beta-apis-off-by-default: "From the Kubernetes release where this
change is introduced [1.24], and onwards, beta APIs will not be enabled in clusters by default.
Existing beta APIs and new versions of existing beta APIs, will continue to be enabled by
default"). The API server's list of them (kubernetes/kubernetes pkg/controlplane/instance.go,
`betaAPIGroupVersionsDisabledByDefault`, with `legacyBetaEnabledByDefaultResources` for the old
betas it keeps on) is not in the OpenAPI data, so the rule is applied to it: a kind served at a
beta version is on by default where its group served it at a beta version in the first minor of
the data (1.25: HorizontalPodAutoscaler at autoscaling/v2beta2, FlowSchema and
PriorityLevelConfiguration at flowcontrol.apiserver.k8s.io/v1beta1 and v1beta2, and so their
v1beta3 of 1.26 to 1.31; CSIStorageCapacity at storage.k8s.io/v1beta1; all beta before 1.24),
and off by default everywhere else: ValidatingAdmissionPolicy at
admissionregistration.k8s.io/v1beta1 (1.28), SelfSubjectReview at authentication.k8s.io/v1beta1
(1.27), IPAddress and ServiceCIDR at networking.k8s.io/v1beta1 (1.31), VolumeAttributesClass at
storage.k8s.io/v1beta1 (1.31), resource.k8s.io/v1beta1 (1.32; kubernetes.io dynamic resource
allocation: enable it with --runtime-config=resource.k8s.io/v1beta1=true) and the rest that came
after 1.24. Such a line is `off APIVERSION KIND MINORS`.

The table holds facts only (group, version and kind names and the minors), never the schemas.
Every minor the package ships is listed: from 1.25 (older than any Kubernetes the catalog's
releases support together; the oldest single range starts at 1.24, cert-manager v1.14, and the
Knative Serving releases need 1.28 or newer) to the newest it has.
"""
import argparse
import json
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# One pin for both scripts (.ci/_kubernetes_validate.py): the version validate-schemas.py uses.
sys.path.insert(0, str(REPO / ".ci"))
from _kubernetes_validate import KUBERNETES_VALIDATE, ensure  # noqa: E402
OUT = REPO / "src" / "audit" / "served-apis.txt"


class Setup(Exception):
    pass


def ensure_package():
    why = ensure()
    if why:
        raise Setup(why)


def minors():
    """(minor number, definitions) for every Kubernetes 1.N the package ships, oldest first."""
    import importlib.resources as res
    root = res.files("kubernetes_validate") / "kubernetes-json-schema"
    out = []
    for p in root.iterdir():
        m = re.fullmatch(r"v1\.(\d+)\.0-local", p.name)
        if m:
            defs = json.loads((p / "_definitions.json").read_text())
            out.append((int(m.group(1)), defs.get("$defs") or defs.get("definitions") or {}))
    if not out:
        raise Setup(f"kubernetes-validate {KUBERNETES_VALIDATE} ships no v1.N.0-local schema set")
    return sorted(out, key=lambda x: x[0])


def api_version(group, version):
    return f"{group}/{version}" if group else version


def spans(ms):
    """Sorted minors as ranges: [25, 26, 27, 29] -> "25-27,29"."""
    out, start, prev = [], None, None
    for m in sorted(ms):
        if start is None:
            start = prev = m
        elif m == prev + 1:
            prev = m
        else:
            out.append((start, prev))
            start = prev = m
    if start is not None:
        out.append((start, prev))
    return ",".join(f"{a}" if a == b else f"{a}-{b}" for a, b in out)


def beta_off(served, first):
    """{(apiVersion, kind): minors} of the beta versions served but off by default (KEP-3136):
    every beta kind but those whose group served them at a beta version in minor `first`."""
    def split(av):
        group, _, version = av.rpartition("/")
        return group, version
    beta = lambda v: re.fullmatch(r"v\d+beta\d+", v) is not None  # noqa: E731
    legacy = {(split(av)[0], kind) for (av, kind), ms in served.items()
              if beta(split(av)[1]) and first in ms}
    return {(av, kind): ms for (av, kind), ms in served.items()
            if beta(split(av)[1]) and (split(av)[0], kind) not in legacy}


def generate():
    data = minors()
    served, groups = {}, {}
    for minor, defs in data:
        for name, d in sorted(defs.items()):
            gvks = d.get("x-kubernetes-group-version-kind") or []
            for g in gvks:
                groups.setdefault(g.get("group", ""), set()).add(minor)
            if len(gvks) == 1:
                g = gvks[0]
                key = (api_version(g.get("group", ""), g["version"]), g["kind"])
                served.setdefault(key, set()).add(minor)
    first, last = data[0][0], data[-1][0]
    lines = [
        f"# Generated by .ci/served-apis.py from kubernetes-validate {KUBERNETES_VALIDATE}; do not edit by hand:",
        "# run .ci/served-apis.py (CI runs it with --check). Facts from the OpenAPI definitions of",
        f"# Kubernetes 1.{first} to 1.{last} (their x-kubernetes-group-version-kind), read by src/audit/apis.rs.",
        "#",
        "# minors FIRST LAST: the Kubernetes minors (1.N) the table covers.",
        "# group NAME MINORS: a group built into Kubernetes in those minors (\"\" is the core group).",
        "# served APIVERSION KIND MINORS: the API server of those minors serves KIND at APIVERSION",
        "#   (alpha versions included: Kubernetes serves them only where a cluster enables them).",
        "# off APIVERSION KIND MINORS: a beta version those minors serve only where a cluster enables",
        "#   it (--runtime-config, and the feature's gate): new beta APIs are off by default since",
        "#   1.24 (KEP-3136); the betas of 1.25 and their later beta versions stay on.",
        f"minors {first} {last}",
    ]
    for g in sorted(groups):
        name = g or '""'
        lines.append(f"group {name} {spans(groups[g])}")
    for (av, kind) in sorted(served):
        lines.append(f"served {av} {kind} {spans(served[(av, kind)])}")
    for (av, kind), ms in sorted(beta_off(served, first).items()):
        lines.append(f"off {av} {kind} {spans(ms)}")
    return "\n".join(lines) + "\n"


def main(argv):
    ap = argparse.ArgumentParser(prog="served-apis.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="fail when the committed table differs")
    a = ap.parse_args(argv)
    try:
        ensure_package()
        text = generate()
    except (Setup, OSError, ValueError) as e:
        print(f"served-apis: {e}", file=sys.stderr)
        return 2
    rel = OUT.relative_to(REPO)
    if a.check:
        have = OUT.read_text() if OUT.exists() else ""
        if have != text:
            import difflib
            sys.stdout.writelines(difflib.unified_diff(have.splitlines(True), text.splitlines(True),
                                                       f"{rel} (committed)", f"{rel} (generated)"))
            print(f"served-apis: {rel} is not what kubernetes-validate {KUBERNETES_VALIDATE} gives: run .ci/served-apis.py",
                  file=sys.stderr)
            return 1
        print(f"served-apis: {rel} is current ({text.count(chr(10) + 'served ')} served kinds)")
        return 0
    OUT.write_text(text)
    print(f"served-apis: wrote {rel}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
