"""The pinned kubernetes-validate, the Kubernetes API data CI reads (the OpenAPI schemas of every
minor it ships), installed with pip when missing: CI runs on a fresh machine. One pin for
.ci/validate-schemas.py and .ci/served-apis.py."""

import importlib
import subprocess
import sys

KUBERNETES_VALIDATE = "1.37.0"  # ships the OpenAPI schemas of Kubernetes 1.25 .. 1.37 (x.y.0)


def ensure(also=None):
    """Import the pinned kubernetes-validate and the modules `also` maps to their pip names,
    installing what is missing. Returns None, or why it could not."""
    also = also or {}

    def have():
        try:
            for module in also:
                importlib.import_module(module)
            from kubernetes_validate.version import __version__
            return __version__ == KUBERNETES_VALIDATE
        except ImportError:
            return False
    if have():
        return None
    r = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                        f"kubernetes-validate=={KUBERNETES_VALIDATE}", *also.values()],
                       capture_output=True, text=True)
    importlib.invalidate_caches()
    if r.returncode != 0 or not have():
        return f"cannot install kubernetes-validate=={KUBERNETES_VALIDATE}: {r.stderr.strip()[-600:]}"
    return None
