"""Reading rendered Kubernetes manifests the way a kubelet would: which pods
the workloads make, what command line each container gets (its args, with
every --flagfile read from the ConfigMap mounted at that path and every
$(VAR) from its env), what is mounted where, and which pods a selector
picks. Used by manifests_check.py.

    objects = render("/usr/bin/kubectl", "deploy/k8s/overlays/cpu")
    for pod in pods(objects):
        for flag in pod.flags(): ...
"""
import os
import re
import subprocess
from dataclasses import dataclass

import yaml

# Values the downward API would give, for running a binary with a pod's args.
FIELD_SAMPLES = {"metadata.name": None, "status.podIP": "10.1.2.3", "metadata.namespace": "simclr"}


def render(kubectl, directory):
    """The objects `kubectl kustomize DIRECTORY` prints; raises RuntimeError
    with kubectl's message when it fails."""
    result = subprocess.run([kubectl, "kustomize", directory], capture_output=True, text=True,
                            timeout=120)
    if result.returncode != 0:
        raise RuntimeError("kubectl kustomize %s failed (%d):\n%s" % (
            directory, result.returncode, result.stderr))
    return [o for o in yaml.safe_load_all(result.stdout) if o]


def find(objects, kind, name=None):
    """The objects of `kind` (and `name`, when given)."""
    return [o for o in objects
            if o.get("kind") == kind and (name is None or o["metadata"]["name"] == name)]


def one(objects, kind, name):
    found = find(objects, kind, name)
    if len(found) != 1:
        raise AssertionError("expected one %s %s, found %d" % (kind, name, len(found)))
    return found[0]


def selects(selector, labels):
    """Whether a LabelSelector (or a Service's plain map) picks `labels`."""
    if selector is None:
        return False
    if "matchLabels" not in selector and "matchExpressions" not in selector:
        selector = {"matchLabels": selector}
    labels = labels or {}
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for e in selector.get("matchExpressions") or []:
        present, value = e["key"] in labels, labels.get(e["key"])
        ok = {"In": present and value in e.get("values", []),
              "NotIn": not present or value not in e.get("values", []),
              "Exists": present, "DoesNotExist": not present}[e["operator"]]
        if not ok:
            return False
    return True


@dataclass
class Flag:
    name: str      # without dashes
    value: object  # a string, or None for a bare --name
    origin: str    # "args" or "ConfigMap NAME key KEY"

    def __str__(self):
        text = "--" + self.name + ("" if self.value is None else "=" + self.value)
        return "%s (%s)" % (text, self.origin)


def image_name(image):
    """`image` without registry, tag or digest: registry.example.com/x/simclr-worker:1.0
    -> simclr-worker."""
    image = image.split("@", 1)[0]
    last = image.rsplit("/", 1)[-1]
    return last.split(":", 1)[0]


class Pod:
    """One workload's pod template and the objects it refers to."""

    def __init__(self, owner, objects):
        self.owner = owner
        self.objects = objects
        self.template = owner["spec"]["template"]
        self.spec = self.template["spec"]
        self.labels = self.template["metadata"].get("labels", {})
        self.name = "%s %s" % (owner["kind"], owner["metadata"]["name"])

    @property
    def component(self):
        return self.labels.get("app.kubernetes.io/component")

    def containers(self):
        return self.spec.get("containers", [])

    def container(self):
        """The pod's only container (every simclr pod has one)."""
        containers = self.containers()
        if len(containers) != 1:
            raise AssertionError("%s: expected one container, found %d" % (self.name, len(containers)))
        return containers[0]

    def volumes(self):
        """{name: volume}, with the StatefulSet's volumeClaimTemplates as
        {"persistentVolumeClaim": {"claimName": <template>}, "template": spec}."""
        volumes = {v["name"]: v for v in self.spec.get("volumes", [])}
        templates = self.owner["spec"].get("volumeClaimTemplates") or []
        # A malformed list is the API schema check's to report.
        for t in templates if isinstance(templates, list) else []:
            volumes[t["metadata"]["name"]] = {
                "name": t["metadata"]["name"], "template": t["spec"],
                "persistentVolumeClaim": {"claimName": t["metadata"]["name"]}}
        return volumes

    def mount_for(self, container, path):
        """(mount, path relative to it) of the deepest mount holding `path`, or (None, None)."""
        best = None
        for m in container.get("volumeMounts", []):
            root = m["mountPath"].rstrip("/") or "/"
            if path == root or path.startswith(root + "/") or root == "/":
                if best is None or len(root) > len(best[0]["mountPath"].rstrip("/")):
                    best = (m, os.path.relpath(path, root))
        return best or (None, None)

    def volume_at(self, container, path):
        """(mount, volume) holding `path`; AssertionError when nothing is mounted there."""
        mount, _ = self.mount_for(container, path)
        if mount is None:
            raise AssertionError("%s: %s is not under any volumeMount" % (self.name, path))
        volumes = self.volumes()
        if mount["name"] not in volumes:
            raise AssertionError("%s: volumeMount %s names no volume" % (self.name, mount["name"]))
        return mount, volumes[mount["name"]]

    def file_text(self, container, path):
        """The text of `path` when a ConfigMap of this render is mounted there."""
        mount, rel = self.mount_for(container, path)
        if mount is None:
            raise AssertionError("%s: %s is not under any volumeMount" % (self.name, path))
        volume = self.volumes().get(mount["name"], {})
        if "configMap" not in volume:
            raise AssertionError("%s: %s is not in a ConfigMap volume" % (self.name, path))
        source = volume["configMap"]
        key = rel
        for item in source.get("items", []):
            if item["path"] == rel:
                key = item["key"]
        configmap = one(self.objects, "ConfigMap", source["name"])
        if key not in configmap.get("data", {}):
            raise AssertionError("%s: ConfigMap %s has no key %s (for %s)" % (
                self.name, source["name"], key, path))
        return configmap["data"][key], "ConfigMap %s key %s" % (source["name"], key)

    def env_values(self, container):
        """{variable: sample value} of the container's env, downward API
        fields replaced by FIELD_SAMPLES (the pod name by <owner>-0)."""
        values = {}
        for e in container.get("env", []):
            if "value" in e:
                values[e["name"]] = e["value"]
                continue
            field = e.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath")
            if field in FIELD_SAMPLES:
                values[e["name"]] = FIELD_SAMPLES[field] or self.owner["metadata"]["name"] + "-0"
        return values

    def expand(self, container, arg):
        """`arg` with each $(VAR) replaced as the kubelet would; KeyError
        naming the variable when the container's env lacks it."""
        env = self.env_values(container)
        return re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", lambda m: env[m.group(1)], arg)

    def flag_lines(self, container):
        """[(argv entry, origin)]: the container's args, each --flagfile=P
        replaced by the lines of the file mounted at P."""
        lines = []
        for arg in container.get("args", []):
            if arg.startswith("--flagfile="):
                text, origin = self.file_text(container, arg[len("--flagfile="):])
                lines.append((arg, "args"))
                for line in text.splitlines():
                    line = line.strip()
                    if line and not line.startswith("#"):
                        lines.append((line, origin))
            else:
                lines.append((arg, "args"))
        return lines

    def flags(self, container=None):
        """Every absl flag the container's command line sets, flag files
        included, with $(VAR)s expanded."""
        container = container or self.container()
        flags = []
        for line, origin in self.flag_lines(container):
            if not line.startswith("--"):
                raise AssertionError("%s: %r (%s) is not a --flag" % (self.name, line, origin))
            name, eq, value = line[2:].partition("=")
            flags.append(Flag(name, self.expand(container, value) if eq else None, origin))
        return flags

    def flag(self, name, container=None):
        """The value of the last --name (as absl keeps it), or None."""
        values = [f.value for f in self.flags(container) if f.name == name]
        return values[-1] if values else None


def pods(objects):
    """A Pod for every StatefulSet and Job."""
    return [Pod(o, objects) for o in objects if o.get("kind") in ("StatefulSet", "Job")]


def pod(objects, component):
    """The pod of the one workload labelled with `component`."""
    found = [p for p in pods(objects) if p.component == component]
    if len(found) != 1:
        raise AssertionError("expected one %s workload, found %d" % (component, len(found)))
    return found[0]


def port_of(address):
    """The port of host:port, as an int."""
    return int(address.rsplit(":", 1)[1])


def container_port(container, name_or_number):
    """The containerPort that a Service targetPort or a probe port names, or None."""
    for p in container.get("ports", []):
        if name_or_number in (p.get("name"), p["containerPort"]):
            return p["containerPort"]
    return None
