"""Checks of the Kubernetes manifests (deploy/k8s) without a cluster: each
kustomization rendered by kubectl, every object validated against the API
models, and the pods held against the daemons' real flags and each other.

  manifests_check.py --kubectl=KUBECTL --coordinator=BIN --worker=BIN \
      --simclrctl=BIN --k8s=DEPLOY_K8S_DIR --rules=SIMCLR_ALERTS.yml \
      --prometheus-k8s=PROMETHEUS_K8S.yml --dashboards=DIR_OR_JSON...

One test case per check, so that a failure names what broke: rendering, the
API schema (tests/k8s/api_schema.py), flags (each one listed by its binary's
--help, and the whole command line accepted by the binary's own parser),
ports, NetworkPolicies, volumes and flag paths, security contexts, the
overlays' devices, images, the monitoring objects (generated files up to
date, monitors mirroring prometheus-k8s.yml), and the example pipeline
(accepted by a real coordinator through the real simclrctl).
"""
import argparse
import glob
import importlib.util
import json
import os
import re
import shutil
import sys
import tempfile
import unittest

import yaml

import api_schema
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import junit_runner  # noqa: E402  (tests/junit_runner.py)
import rendered
from binaries import Binaries
from rendered import find, one, pod, pods, port_of, container_port, selects

OVERLAYS = ["overlays/cpu", "overlays/gpu", "overlays/single-node"]
GPU_OVERLAYS = ["overlays/gpu", "overlays/single-node"]
MONITORING = "monitoring"
EXAMPLE = "examples/submit-pipeline"
KUSTOMIZATIONS = OVERLAYS + [MONITORING, EXAMPLE]

# The images the project builds (deploy/images/*/Dockerfile), by name (the
# image.title label) -> the binary its entrypoint runs; read in main().
IMAGES = {}
ENTRYPOINT_KINDS = {"simclr-coordinator": "coordinator", "simclr-worker": "worker",
                    "simclrctl": "simclrctl"}


def read_images(directory):
    """{image name: binary kind} from the Dockerfiles under `directory`."""
    images = {}
    for name in sorted(os.listdir(directory)):
        path = os.path.join(directory, name, "Dockerfile")
        if not os.path.exists(path):
            continue
        with open(path) as f:
            text = f.read()
        title = re.search(r'org\.opencontainers\.image\.title="([^"]+)"', text)
        entrypoint = re.search(r'^ENTRYPOINT \["/opt/simclr/bin/([^"]+)"\]', text, re.M)
        if not title or not entrypoint or entrypoint.group(1) not in ENTRYPOINT_KINDS:
            raise SystemExit("%s: expected an image.title label and an /opt/simclr/bin entrypoint"
                             % path)
        images[title.group(1)] = ENTRYPOINT_KINDS[entrypoint.group(1)]
    return images

# The Secrets the manifests mount and the keys the docs tell users to create.
SECRET_KEYS = {
    "simclr-coordinator-auth": {"tokens"},
    "simclr-tls": {"tls.crt", "tls.key", "ca.crt"},
    "simclr-worker-token": {"token"},
    "simclr-user-token": {"token"},
}

# Flags naming directories the daemon writes, and those it only reads.
WRITTEN_DIRS = {"coordinator": ["state_dir", "artifact_dir"], "worker": ["work_dir", "artifact_dir"]}
READ_ONLY_DIRS = {"coordinator": ["data_roots"], "worker": ["data_roots"]}

SECURITY = {"runAsNonRoot": True, "runAsUser": 10001, "runAsGroup": 10001, "fsGroup": 10001,
            "seccompProfile": {"type": "RuntimeDefault"}}
CONTAINER_SECURITY = {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                      "capabilities": {"drop": ["ALL"]}}

ARGS = None
BINARIES = None  # Binaries
RENDERED = {}   # kustomization -> [object]
FAILED = {}     # kustomization -> kubectl's message
TMP = None


def setUpModule():
    """Renders every kustomization once, from a copy of deploy/k8s: Bazel's
    runfiles are symlinks out of the tree, which kustomize's load restriction
    (files under the kustomization only) refuses."""
    global TMP
    TMP = tempfile.mkdtemp(prefix="k8s-manifests-", dir=os.environ.get("TEST_TMPDIR"))
    shutil.copytree(ARGS.k8s, os.path.join(TMP, "k8s"))
    for name in KUSTOMIZATIONS:
        try:
            RENDERED[name] = rendered.render(ARGS.kubectl, os.path.join(TMP, "k8s", name))
        except RuntimeError as e:
            FAILED[name] = str(e)


def tearDownModule():
    shutil.rmtree(TMP, ignore_errors=True)


def binary_kind(container):
    return IMAGES.get(rendered.image_name(container["image"]))


def objects(name):
    if name in FAILED:
        raise unittest.SkipTest("%s did not render (test_every_kustomization_renders)" % name)
    return RENDERED[name]


class RenderTest(unittest.TestCase):
    def test_every_kustomization_renders(self):
        self.assertEqual({}, FAILED)
        for name in KUSTOMIZATIONS:
            self.assertTrue(RENDERED[name], name + " rendered no object")

    def test_objects_validate_against_api_models(self):
        errors = []
        for name in KUSTOMIZATIONS:
            for obj in objects(name):
                errors += ["%s: %s" % (name, e) for e in api_schema.validate(obj)]
        self.assertEqual([], errors)

    def test_validator_rejects_misspelled_field_and_wrong_type(self):
        base = yaml.safe_load("""
            apiVersion: apps/v1
            kind: StatefulSet
            metadata: {name: bad}
            spec:
              serviceName: bad
              selector: {matchLabels: {a: b}}
              template:
                metadata: {labels: {a: b}}
                spec:
                  containers:
                    - name: c
                      image: simclr-worker
                      ports: [{name: metrics, containerPort: 9090}]
                      readinessProbe: {grpc: {port: 8081}}
        """)
        self.assertEqual([], api_schema.validate(base), "the valid object must pass")
        bad = json.loads(json.dumps(base))
        bad["spec"]["replica"] = 1
        container = bad["spec"]["template"]["spec"]["containers"][0]
        container["ports"][0]["containerPort"] = "9090"
        container["readinessProbe"]["grpc"]["prot"] = 8081
        errors = "\n".join(api_schema.validate(bad))
        self.assertIn("spec.replica: unknown field of V1StatefulSetSpec", errors)
        self.assertIn("containers[0].ports[0].containerPort: got a string '9090', expected int",
                      errors)
        self.assertIn("readinessProbe.grpc.prot: unknown field", errors)
        nameless = json.loads(json.dumps(base))
        del nameless["spec"]["template"]["spec"]["containers"][0]["name"]
        self.assertIn("required field", "\n".join(api_schema.validate(nameless)))
        unknown = dict(base, apiVersion="apps/v1beta1")
        self.assertIn("not a kind these checks know", "\n".join(api_schema.validate(unknown)))


class FlagsTest(unittest.TestCase):
    def daemon_pods(self, name):
        return [p for p in pods(objects(name)) if binary_kind(p.container()) in WRITTEN_DIRS]

    def test_every_flag_exists_in_its_binary(self):
        missing = []
        for name in OVERLAYS:
            for p in self.daemon_pods(name):
                kind = binary_kind(p.container())
                known = BINARIES.absl_flags(kind)
                missing += ["%s %s: %s" % (name, p.name, f) for f in p.flags() if f.name not in known]
        job = pod(objects(EXAMPLE), "client")
        _, _, unknown = BINARIES.ctl_args(job.container()["args"])
        missing += ["%s: simclrctl has no %s" % (EXAMPLE, o) for o in unknown]
        self.assertEqual([], missing)

    def test_binaries_accept_every_command_line(self):
        """The daemon's own parser (absl) on the pod's command line, flag
        files and $(VAR)s resolved: names and values (durations, ints)."""
        seen = set()
        for name in OVERLAYS:
            for p in self.daemon_pods(name):
                kind = binary_kind(p.container())
                argv = self.command_line(p, name)
                if (kind, tuple(argv)) in seen:
                    continue
                seen.add((kind, tuple(argv)))
                errors = BINARIES.parse_errors(kind, argv)
                self.assertEqual("", errors, "%s %s: %s" % (name, p.name, " ".join(argv)))

    def command_line(self, p, name):
        """The container's args with each flag file copied out of its ConfigMap."""
        container = p.container()
        argv = []
        for arg in container["args"]:
            if arg.startswith("--flagfile="):
                text, _ = p.file_text(container, arg[len("--flagfile="):])
                path = os.path.join(TMP, "%s-%s.flags" % (name.replace("/", "-"), p.component))
                with open(path, "w") as f:
                    f.write(text)
                arg = "--flagfile=" + path
            argv.append(p.expand(container, arg))
        return argv

    def test_every_env_reference_is_defined(self):
        undefined = []
        for name in OVERLAYS + [EXAMPLE]:
            for p in pods(objects(name)):
                for c in p.containers():
                    for arg in c.get("args", []):
                        try:
                            p.expand(c, arg)
                        except KeyError as e:
                            undefined.append("%s %s: %s uses $(%s)" % (name, p.name, arg, e.args[0]))
        self.assertEqual([], undefined)


class PortsTest(unittest.TestCase):
    # {component: {flag: containerPort name}}
    LISTEN = {
        "coordinator": {"listen": "grpc", "health_listen": "health", "metrics_listen": "metrics"},
        "worker": {"health_listen": "health", "metrics_listen": "metrics",
                   "collective_address": "collective"},
    }

    def test_flags_containers_probes_and_annotations_agree(self):
        for name in OVERLAYS:
            for component, ports in self.LISTEN.items():
                p = pod(objects(name), component)
                c = p.container()
                for flag, port_name in ports.items():
                    where = "%s %s: --%s vs containerPort %s" % (name, p.name, flag, port_name)
                    self.assertEqual(port_of(p.flag(flag)), container_port(c, port_name), where)
                health = container_port(c, "health")
                for probe in ("readinessProbe", "livenessProbe"):
                    self.assertEqual(c[probe]["grpc"]["port"], health,
                                     "%s %s %s" % (name, p.name, probe))
                annotations = p.template["metadata"]["annotations"]
                self.assertEqual(annotations["prometheus.io/scrape"], "true")
                self.assertEqual(int(annotations["prometheus.io/port"]), container_port(c, "metrics"))

    def test_services_target_ports_of_the_pods_they_select(self):
        for name in OVERLAYS:
            objs = objects(name)
            for service in find(objs, "Service"):
                selected = [p for p in pods(objs) if selects(service["spec"]["selector"], p.labels)]
                self.assertEqual(1, len(selected), "%s Service %s" % (name, service["metadata"]["name"]))
                for port in service["spec"].get("ports", []):
                    self.assertEqual(container_port(selected[0].container(), port["targetPort"]),
                                     port["port"], "%s Service %s port %s" % (
                                         name, service["metadata"]["name"], port["name"]))
            api = one(objs, "Service", "simclr-coordinator")["spec"]["ports"]
            self.assertEqual([("grpc", 50051)], [(x["name"], x["port"]) for x in api])
            metrics = one(objs, "Service", "simclr-coordinator-metrics")["spec"]["ports"]
            self.assertEqual([("metrics", 9090)], [(x["name"], x["port"]) for x in metrics])

    def test_workers_dial_the_coordinator_service(self):
        for name in OVERLAYS:
            objs = objects(name)
            host, port = pod(objs, "worker").flag("coordinator").rsplit(":", 1)
            service = one(objs, "Service", host)
            target = [x["targetPort"] for x in service["spec"]["ports"] if x["port"] == int(port)]
            coordinator = pod(objs, "coordinator")
            self.assertTrue(selects(service["spec"]["selector"], coordinator.labels), name)
            self.assertEqual([port_of(coordinator.flag("listen"))],
                             [container_port(coordinator.container(), t) for t in target], name)

    def ingress(self, objs, p):
        """[(sources, ports)] that the NetworkPolicies selecting pod `p` admit:
        sources "any", "pods:<component>" or "namespace:<name>"; ports [int] or None (all)."""
        rules = []
        for policy in find(objs, "NetworkPolicy"):
            if not selects(policy["spec"]["podSelector"], p.labels):
                continue
            for rule in policy["spec"].get("ingress", []):
                sources = []
                for peer in rule.get("from", []) or []:
                    if "namespaceSelector" in peer:
                        sources.append("namespace:" + ",".join(
                            peer["namespaceSelector"]["matchLabels"].values()))
                    else:
                        sources.append("pods:" + peer["podSelector"]["matchLabels"].get(
                            "app.kubernetes.io/component", "?"))
                ports = [x["port"] for x in rule["ports"]] if "ports" in rule else None
                rules.append((sources or ["any"], ports))
        return rules

    def test_network_policies_admit_exactly_the_intended_traffic(self):
        for name in OVERLAYS:
            objs = objects(name)
            deny = one(objs, "NetworkPolicy", "simclr-default-deny-ingress")["spec"]
            self.assertEqual(["Ingress"], deny["policyTypes"])
            for p in pods(objs):
                self.assertTrue(selects(deny["podSelector"], p.labels), "%s %s" % (name, p.name))
            coordinator, worker = pod(objs, "coordinator"), pod(objs, "worker")
            port = lambda p, n: container_port(p.container(), n)  # noqa: E731
            self.assertEqual(sorted([
                (["any"], [port(coordinator, "grpc")]),
                (["any"], [port(coordinator, "health")]),
                (["namespace:monitoring"], [port(coordinator, "metrics")]),
            ], key=str), sorted(self.ingress(objs, coordinator), key=str), name)
            self.assertEqual(sorted([
                (["pods:worker"], None),
                (["any"], [port(worker, "health")]),
                (["namespace:monitoring"], [port(worker, "metrics")]),
            ], key=str), sorted(self.ingress(objs, worker), key=str), name)


class VolumesTest(unittest.TestCase):
    def test_every_mount_names_a_volume_and_every_volume_is_mounted(self):
        for name in OVERLAYS + [EXAMPLE]:
            for p in pods(objects(name)):
                volumes = set(p.volumes())
                mounted = {m["name"] for c in p.containers() for m in c.get("volumeMounts", [])}
                where = "%s %s" % (name, p.name)
                self.assertEqual(set(), mounted - volumes, where + ": mounts without a volume")
                self.assertEqual(set(), volumes - mounted, where + ": volumes never mounted")

    def paths(self, name, p):
        """[(flag, absolute path)] in the container's flags (simclrctl's too)."""
        c = p.container()
        if binary_kind(c) == "simclrctl":
            options, _, _ = BINARIES.ctl_args(c["args"])
            values = [(k, v) for k, v in options.items() if v]
        else:
            values = [(f.name, f.value) for f in p.flags() if f.value and f.name != "flagfile"]
        return [(k, path) for k, v in values for path in v.split(",") if path.startswith("/")]

    def test_every_flag_path_lies_in_a_mounted_volume(self):
        problems = []
        for name in OVERLAYS + [EXAMPLE]:
            for p in pods(objects(name)):
                for flag, path in self.paths(name, p):
                    problem = self.path_problem(p, path)
                    if problem:
                        problems.append("%s %s: --%s=%s %s" % (name, p.name, flag, path, problem))
        self.assertEqual([], problems)

    def path_problem(self, p, path):
        mount, rel = p.mount_for(p.container(), path)
        if mount is None:
            return "is under no volumeMount (the root filesystem is read-only)"
        if mount["name"] not in p.volumes():
            return "is on volumeMount %s, which names no volume" % mount["name"]
        volume = p.volumes()[mount["name"]]
        if "secret" in volume:
            secret = volume["secret"]
            keys = {i["path"]: i["key"] for i in secret.get("items", [])} or \
                {k: k for k in SECRET_KEYS.get(secret["secretName"], ())}
            if rel not in keys:
                return "is not a key of Secret %s (%s)" % (secret["secretName"], sorted(keys))
        if "configMap" in volume:
            p.file_text(p.container(), path)
        return None

    def test_written_directories_are_writable_and_data_read_only(self):
        for name in OVERLAYS:
            for kind in WRITTEN_DIRS:
                p = pod(objects(name), kind)
                for flag in WRITTEN_DIRS[kind]:
                    mount, volume = p.volume_at(p.container(), p.flag(flag))
                    self.assertFalse(mount.get("readOnly", False), "%s %s --%s" % (name, p.name, flag))
                    claim = volume.get("persistentVolumeClaim")
                    writable = "emptyDir" in volume or (claim and not claim.get("readOnly"))
                    self.assertTrue(writable, "%s %s --%s" % (name, p.name, flag))
                for flag in READ_ONLY_DIRS[kind]:
                    for path in p.flag(flag).split(","):
                        mount, _ = p.volume_at(p.container(), path)
                        self.assertTrue(mount.get("readOnly"), "%s %s --%s" % (name, p.name, flag))

    def test_coordinator_and_workers_share_artifacts_and_data(self):
        for name in OVERLAYS:
            objs = objects(name)
            coordinator, worker = pod(objs, "coordinator"), pod(objs, "worker")
            for flag in ("artifact_dir", "data_roots"):
                self.assertEqual(coordinator.flag(flag), worker.flag(flag), "%s --%s" % (name, flag))
                claims = []
                for p in (coordinator, worker):
                    _, volume = p.volume_at(p.container(), p.flag(flag).split(",")[0])
                    claims.append(volume.get("persistentVolumeClaim", {}).get("claimName"))
                self.assertEqual(claims[0], claims[1], "%s --%s" % (name, flag))
                one(objs, "PersistentVolumeClaim", claims[0])
            artifacts = one(objs, "PersistentVolumeClaim", "simclr-artifacts")["spec"]["accessModes"]
            self.assertEqual(["ReadWriteOnce" if name == "overlays/single-node" else "ReadWriteMany"],
                             artifacts, name)

    def test_secrets_are_the_documented_ones(self):
        used = set()
        for name in OVERLAYS + [EXAMPLE]:
            self.assertEqual([], find(objects(name), "Secret"),
                             "%s: no secret values in the repo" % name)
            for p in pods(objects(name)):
                used |= {v["secret"]["secretName"] for v in p.volumes().values() if "secret" in v}
        self.assertEqual(set(SECRET_KEYS), used)


class PodsTest(unittest.TestCase):
    def test_pods_run_unprivileged_without_api_access(self):
        for name in OVERLAYS + [EXAMPLE]:
            objs = objects(name)
            for kind in ("Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding"):
                self.assertEqual([], find(objs, kind), name)
            for p in pods(objs):
                where = "%s %s" % (name, p.name)
                security = p.spec["securityContext"]
                self.assertEqual(SECURITY, {k: security.get(k) for k in SECURITY}, where)
                self.assertEqual("simclr", p.spec["serviceAccountName"], where)
                self.assertFalse(p.spec.get("hostNetwork") or p.spec.get("hostPID"), where)
                self.assertEqual([], [v for v in p.spec.get("volumes", []) if "hostPath" in v], where)
                for c in p.containers():
                    self.assertEqual(CONTAINER_SECURITY, c["securityContext"], where)
                    for what in ("requests", "limits"):
                        self.assertLessEqual({"cpu", "memory"}, set(c["resources"][what]), where)
        account = one(objects(OVERLAYS[0]), "ServiceAccount", "simclr")
        self.assertIs(False, account["automountServiceAccountToken"])

    def test_images_are_the_projects(self):
        for name in KUSTOMIZATIONS:
            for p in pods(objects(name)):
                for c in p.containers():
                    self.assertIn(rendered.image_name(c["image"]), IMAGES, "%s %s" % (name, p.name))

    def test_coordinator_is_a_single_writer_without_a_disruption_budget(self):
        for name in OVERLAYS:
            objs = objects(name)
            p = pod(objs, "coordinator")
            self.assertEqual(("StatefulSet", 1), (p.owner["kind"], p.owner["spec"]["replicas"]), name)
            governing = one(objs, "Service", p.owner["spec"]["serviceName"])
            self.assertEqual("None", governing["spec"]["clusterIP"], name)
            _, volume = p.volume_at(p.container(), p.flag("state_dir"))
            self.assertIn("template", volume, "%s: --state_dir is not on a volumeClaimTemplate" % name)
            self.assertEqual(["ReadWriteOnce"], volume["template"]["accessModes"], name)
            for budget in find(objs, "PodDisruptionBudget"):
                self.assertFalse(selects(budget["spec"]["selector"], p.labels), name)

    def test_workers_are_named_pods_that_drain_gracefully(self):
        for name in OVERLAYS:
            objs = objects(name)
            p = pod(objs, "worker")
            spec = p.owner["spec"]
            self.assertEqual("Parallel", spec["podManagementPolicy"], name)
            self.assertEqual("simclr-worker-0", p.flag("name"), name)
            budget = one(objs, "PodDisruptionBudget", "simclr-worker")["spec"]
            self.assertEqual(1, budget["maxUnavailable"])
            self.assertTrue(selects(budget["selector"], p.labels))
            grace = self.seconds(p.flag("trainer_grace_period") or "30s")
            self.assertGreater(p.spec["terminationGracePeriodSeconds"], grace,
                               "%s: the pod is killed before the trainer's checkpoint" % name)

    @staticmethod
    def seconds(duration):
        units = {"h": 3600, "m": 60, "s": 1, "ms": 0.001}
        return sum(float(n) * units[u] for n, u in re.findall(r"([\d.]+)(ms|h|m|s)", duration))

    def test_worker_threads_match_the_cpu_limit(self):
        for name in OVERLAYS:
            p = pod(objects(name), "worker")
            limits = p.container()["resources"]["limits"]
            self.assertEqual(str(limits["cpu"]), p.flag("threads"), name)


class OverlaysTest(unittest.TestCase):
    def test_gpu_overlays_request_a_gpu(self):
        for name in GPU_OVERLAYS:
            p = pod(objects(name), "worker")
            c = p.container()
            self.assertEqual("simclr-worker-cuda", rendered.image_name(c["image"]), name)
            self.assertEqual("cuda:0", p.flag("device"), name)
            self.assertEqual("1", c["resources"]["limits"].get("nvidia.com/gpu"), name)
            self.assertIn({"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"},
                          p.spec.get("tolerations", []), name)
            mount, volume = p.volume_at(c, "/dev/shm")
            self.assertEqual("/dev/shm", mount["mountPath"], name)
            self.assertEqual("Memory", volume.get("emptyDir", {}).get("medium"), name)
            coordinator = pod(objects(name), "coordinator").container()
            self.assertEqual("simclr-coordinator", rendered.image_name(coordinator["image"]))

    def test_cpu_overlay_mentions_no_gpu(self):
        p = pod(objects("overlays/cpu"), "worker")
        self.assertEqual("cpu", p.flag("device"))
        self.assertEqual("simclr-worker", rendered.image_name(p.container()["image"]))
        text = yaml.safe_dump_all(objects("overlays/cpu"))
        self.assertEqual([], re.findall(r".*(?:nvidia|gpu|cuda).*", text, re.I))

    def test_single_node_overlay_runs_one_worker_on_the_hosts_datasets(self):
        objs = objects("overlays/single-node")
        self.assertEqual(1, pod(objs, "worker").owner["spec"]["replicas"])
        volume = one(objs, "PersistentVolume", "simclr-datasets")["spec"]
        self.assertEqual({"path": "/usr/share/datasets", "type": "Directory"}, volume["hostPath"])
        self.assertEqual(["ReadOnlyMany"], volume["accessModes"])
        self.assertEqual({"namespace": "simclr", "name": "simclr-datasets"}, volume["claimRef"])
        claim = one(objs, "PersistentVolumeClaim", "simclr-datasets")["spec"]
        self.assertEqual(("", ["ReadOnlyMany"]), (claim["storageClassName"], claim["accessModes"]))


def load_generator():
    spec = importlib.util.spec_from_file_location(
        "generate", os.path.join(TMP, "k8s", "monitoring", "generate.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class MonitoringTest(unittest.TestCase):
    def test_generated_files_are_up_to_date(self):
        generate = load_generator()
        for file_name, text in generate.outputs(ARGS.rules, ARGS.dashboards).items():
            with open(os.path.join(TMP, "k8s", "monitoring", file_name)) as f:
                self.assertTrue(f.read() == text,
                                "deploy/k8s/monitoring/%s is not what its sources generate: run %s"
                                % (file_name, generate.COMMAND))

    def monitors(self):
        """{job name: (monitor, endpoint)}, the job set by each endpoint's relabeling."""
        found = {}
        for m in find(objects(MONITORING), "ServiceMonitor") + find(objects(MONITORING), "PodMonitor"):
            for e in m["spec"].get("endpoints", []) + m["spec"].get("podMetricsEndpoints", []):
                for job in [r["replacement"] for r in e.get("relabelings", [])
                            if r.get("targetLabel") == "job"]:
                    found[job] = (m, e)
        return found

    def test_monitors_mirror_the_plain_scrape_config(self):
        """Each job of prometheus-k8s.yml has a monitor with its name,
        component, namespaces, interval, honor_labels and target labels."""
        with open(ARGS.prometheus_k8s) as f:
            config = yaml.safe_load(f)
        monitors = self.monitors()
        self.assertEqual({s["job_name"] for s in config["scrape_configs"]}, set(monitors))
        for scrape in config["scrape_configs"]:
            name = scrape["job_name"]
            monitor, endpoint = monitors[name]
            relabel = scrape["relabel_configs"]
            component = [r["regex"] for r in relabel if r.get("source_labels") ==
                         ["__meta_kubernetes_pod_label_app_kubernetes_io_component"]]
            self.assertEqual(component, [monitor["spec"]["selector"]["matchLabels"][
                "app.kubernetes.io/component"]], name)
            self.assertEqual(scrape["kubernetes_sd_configs"][0]["namespaces"]["names"],
                             monitor["spec"]["namespaceSelector"]["matchNames"], name)
            self.assertEqual(scrape.get("honor_labels", False), endpoint.get("honorLabels", False),
                             name)
            self.assertEqual(config["global"]["scrape_interval"], endpoint["interval"], name)
            wanted = {r["target_label"] for r in relabel
                      if not r.get("target_label", "__").startswith("__")}
            given = {"namespace", "pod"} | {r["targetLabel"] for r in endpoint["relabelings"]}
            self.assertLessEqual(wanted, given, name)
        with open(ARGS.rules) as f:
            self.assertLessEqual(set(re.findall(r'job="([^"]+)"', f.read())), set(monitors))

    def test_monitors_find_the_metrics_ports(self):
        objs = objects(OVERLAYS[0])
        for m, endpoint in self.monitors().values():
            selector = m["spec"]["selector"]
            if m["kind"] == "ServiceMonitor":
                services = [s["metadata"]["name"] for s in find(objs, "Service")
                            if selects(selector, s["metadata"]["labels"]) and
                            any(x.get("name") == endpoint["port"] for x in s["spec"].get("ports", []))]
                self.assertEqual(["simclr-coordinator-metrics"], services)
            else:
                selected = [p for p in pods(objs) if selects(selector, p.labels)]
                self.assertEqual(["worker"], [p.component for p in selected])
                self.assertEqual(container_port(selected[0].container(), "metrics"),
                                 container_port(selected[0].container(), endpoint["port"]))

    def test_prometheus_rule_holds_the_rule_files_groups(self):
        rule = one(objects(MONITORING), "PrometheusRule", "simclr-alerts")
        with open(ARGS.rules) as f:
            self.assertEqual(yaml.safe_load(f)["groups"], rule["spec"]["groups"])

    def test_dashboards_and_their_datasource(self):
        monitoring = objects(MONITORING)
        maps = [m for m in find(monitoring, "ConfigMap")
                if m["metadata"]["labels"].get("grafana_dashboard") == "1"]
        shipped = {k: json.loads(v) for m in maps for k, v in m["data"].items()}
        self.assertEqual(sorted(os.path.basename(p) for p in ARGS.dashboards), sorted(shipped))
        datasource = one(monitoring, "ConfigMap", "simclr-grafana-datasource")
        self.assertEqual("1", datasource["metadata"]["labels"]["grafana_datasource"])
        sources = [d for v in datasource["data"].values() for d in yaml.safe_load(v)["datasources"]]
        uids = {d["uid"] for d in sources}
        with open(ARGS.prometheus_k8s) as f:
            interval = yaml.safe_load(f)["global"]["scrape_interval"]
        self.assertEqual([interval], [d["jsonData"]["timeInterval"] for d in sources])
        used = set(re.findall(r'"uid": "([^"]+)"', json.dumps(
            [p for d in shipped.values() for p in d.get("panels", [])])))
        self.assertTrue(used and used <= uids, "dashboards use %s, datasource has %s" % (used, uids))


class ExamplePipelineTest(unittest.TestCase):
    """The example Job's pipeline, submitted by the real simclrctl with the
    Job's own arguments to a real coordinator on loopback, with the cluster
    coordinator's --data_roots (TLS and tokens, which tests/security_test.py
    covers, are left out: the address is loopback)."""

    def test_pipeline_is_accepted_by_a_real_coordinator(self):
        job = pod(objects(EXAMPLE), "client")
        c = job.container()
        options, words, _ = BINARIES.ctl_args(c["args"])
        self.assertEqual(["submit"], words)
        self.assertEqual("simclr-coordinator:50051", options["--coordinator"])
        spec_path = os.path.join(TMP, "pipeline.yaml")
        with open(spec_path, "w") as f:
            f.write(job.file_text(c, options["-f"])[0])
        cluster = objects("overlays/gpu")
        coordinator = pod(cluster, "coordinator")
        submitted, jobs = BINARIES.submit(spec_path, coordinator.flag("data_roots"), TMP)
        self.assertEqual(0, submitted.returncode, submitted.stdout + submitted.stderr)
        by_name = {j["spec"]["name"]: j for j in jobs}
        self.assertEqual({
            "fmnist-cluster-pretrain": ("pretrain", 2, ""),
            "fmnist-cluster-finetune-1pct": ("finetune", 1, "fmnist-cluster-pretrain"),
            "fmnist-cluster-finetune-10pct": ("finetune", 1, "fmnist-cluster-pretrain"),
            "fmnist-cluster-distill": ("distill", 1, "fmnist-cluster-finetune-10pct"),
        }, {n: (j["spec"]["kind"], j["spec"]["world_size"],
                j["spec"].get("parent") or j["spec"].get("teacher", ""))
            for n, j in by_name.items()})
        worker = pod(cluster, "worker")
        for n, j in by_name.items():
            self.assertEqual(worker.flag("device").split(":")[0], j["spec"]["device"], n)
            path = j["spec"]["data"]["path"]
            roots = worker.flag("data_roots").split(",")
            self.assertTrue(any(path.startswith(r + "/") for r in roots), path)

def main(argv):
    global ARGS
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kubectl", default="kubectl")
    parser.add_argument("--coordinator", required=True)
    parser.add_argument("--worker", required=True)
    parser.add_argument("--simclrctl", required=True)
    parser.add_argument("--k8s", required=True, help="the deploy/k8s directory")
    parser.add_argument("--images", required=True, help="the deploy/images directory")
    parser.add_argument("--rules", required=True, help="deploy/prometheus/rules/simclr-alerts.yml")
    parser.add_argument("--prometheus-k8s", required=True, help="deploy/prometheus/prometheus-k8s.yml")
    parser.add_argument("--dashboards", required=True, nargs="+",
                        help="deploy/grafana/dashboards or its *.json")
    global BINARIES
    ARGS, rest = parser.parse_known_args(argv[1:])
    BINARIES = Binaries(ARGS.coordinator, ARGS.worker, ARGS.simclrctl)
    IMAGES.update(read_images(ARGS.images))
    ARGS.dashboards = sorted(p for d in ARGS.dashboards for p in (
        glob.glob(os.path.join(d, "*.json")) if os.path.isdir(d) else [d]))
    return 0 if junit_runner.run(sys.modules[__name__], "k8s_manifests") else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
