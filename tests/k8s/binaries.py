"""The project's binaries, asked what they accept: the flags each daemon's
--help lists, whether absl's parser takes a whole command line, simclrctl's
options and verbs, and whether a real coordinator takes a job-spec file.
Used by manifests_check.py.

    binaries = Binaries(coordinator=..., worker=..., simclrctl=...)
    binaries.absl_flags("worker")          # {"coordinator", "work_dir", ...}
    binaries.parse_errors("worker", argv)  # "" when absl accepts argv
"""
import json
import os
import re
import socket
import subprocess
import tempfile
import time


class Binaries:
    def __init__(self, coordinator, worker, simclrctl):
        self.paths = {"coordinator": coordinator, "worker": worker, "simclrctl": simclrctl}
        self._help = {}

    def help_text(self, kind):
        if kind not in self._help:
            result = subprocess.run([self.paths[kind], "--help"], capture_output=True, text=True,
                                    timeout=30)
            self._help[kind] = result.stdout + result.stderr
        return self._help[kind]

    def absl_flags(self, kind):
        """The flags a daemon's --help lists (absl prints `    --name (help...)`),
        plus absl's own."""
        listed = set(re.findall(r"^\s+--([a-z0-9_]+) \(", self.help_text(kind), re.M))
        return listed | {"flagfile", "fromenv", "tryfromenv", "undefok"}

    def parse_errors(self, kind, argv, undefok=()):
        """absl's complaints about `argv` (unknown flags, bad values), "" when
        none. The trailing --help makes the daemon exit after parsing, before
        it starts anything."""
        extra = ["--undefok=" + ",".join(sorted(undefok))] if undefok else []
        result = subprocess.run([self.paths[kind]] + argv + extra + ["--help"],
                                capture_output=True, text=True, timeout=30)
        return "\n".join(line for line in result.stderr.splitlines() if "ERROR" in line)

    def ctl_options(self, verb=None):
        """{option: whether it takes a value} from `simclrctl [VERB] --help`,
        whose option lines read `  -f,--filename TEXT REQUIRED   what it does`
        (a flag that takes no value has no type after its names)."""
        key = "simclrctl " + (verb or "")
        if key not in self._help:
            result = subprocess.run([self.paths["simclrctl"]] + ([verb] if verb else []) +
                                    ["--help"], capture_output=True, text=True, timeout=30)
            self._help[key] = result.stdout + result.stderr
        options = {}
        for line in self._help[key].splitlines():
            if not line.startswith("  -"):
                continue
            names, _, rest = re.split(r"\s{2,}", line.strip())[0].partition(" ")
            for name in names.split(","):
                options[name] = bool(rest.strip())
        return options

    def ctl_args(self, args):
        """(options {name: value or None}, positional words, options simclrctl
        does not have) of a simclrctl command line: the global options, then
        the verb's."""
        takes_value = self.ctl_options()
        options, words, unknown, i = {}, [], [], 0
        while i < len(args):
            arg = args[i]
            if arg.startswith("-"):
                name, eq, value = arg.partition("=")
                if name not in takes_value:
                    unknown.append(name)
                if not eq:
                    value = None
                    if takes_value.get(name) and i + 1 < len(args):
                        i += 1
                        value = args[i]
                options[name] = value
            else:
                if not words:  # the verb: its options from here on
                    takes_value = dict(takes_value, **self.ctl_options(arg))
                words.append(arg)
            i += 1
        return options, words, unknown

    def submit(self, spec_path, data_roots, tmp):
        """Submits `spec_path` with simclrctl to a fresh coordinator on loopback
        (with `data_roots`); returns (simclrctl's result, `get jobs` as JSON)."""
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            address = "127.0.0.1:%d" % s.getsockname()[1]
        state = tempfile.mkdtemp(dir=tmp)
        with open(os.path.join(state, "coordinator.log"), "w") as log:
            daemon = subprocess.Popen(
                [self.paths["coordinator"], "--listen=" + address, "--metrics_listen=",
                 "--state_dir=" + os.path.join(state, "state"), "--data_roots=" + data_roots],
                stdout=log, stderr=subprocess.STDOUT)
        try:
            def ctl(*args):
                return subprocess.run([self.paths["simclrctl"], "--coordinator=" + address] +
                                      list(args), capture_output=True, text=True, timeout=60)
            deadline = time.monotonic() + 30
            while ctl("get", "workers").returncode != 0:
                if time.monotonic() > deadline:
                    raise AssertionError("the coordinator did not answer within 30 s")
                time.sleep(0.2)
            submitted = ctl("submit", "-f", spec_path)
            jobs = json.loads(ctl("get", "jobs", "-o", "json").stdout or "{}").get("jobs", [])
            return submitted, jobs
        finally:
            daemon.kill()
            daemon.wait()
