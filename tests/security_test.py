"""Authentication and roles through the real daemons: a coordinator with
--auth_tokens, workers with their own token files, simclrctl with a user's.
Each role reaches its own API only, tokens rotate by rewriting the file, and
an open API is refused on a non-loopback address. docs/security.md.
"""
import os
import subprocess
import tempfile
import unittest
import urllib.request

from cluster import Cluster, free_port, runfile, tiny_pretrain, wait_until

ALICE = "alice-token-0123456789abcdef"
ALICE_NEW = "alice-token-rotated-0123456789"
BOB = "bob-token-0123456789abcdef00"
POOL = "pool-token-0123456789abcdef0"

def spec(name, steps):
    return tiny_pretrain(name, steps, train_examples=512)


def write(path, text):
    """Replaces `path` at once, as an operator rotating a Secret would."""
    with open(path + ".new", "w") as f:
        f.write(text)
    os.replace(path + ".new", path)


class SecurityTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="simclr-security-", dir=os.environ.get("TEST_TMPDIR"))
        cls.tokens = os.path.join(cls.dir, "tokens")
        write(cls.tokens, "%s alice user\n%s bob user\n%s pool worker\n" % (ALICE, BOB, POOL))
        cls.alice_file = os.path.join(cls.dir, "alice.token")
        write(cls.alice_file, ALICE + "\n")
        cls.pool_file = os.path.join(cls.dir, "pool.token")
        write(cls.pool_file, POOL + "\n")
        cls.cluster = Cluster(workers=2, coordinator_args=["--auth_tokens=" + cls.tokens],
                              worker_args=["--token_file=" + cls.pool_file],
                              ctl_args=["--token-file=" + cls.alice_file])

    @classmethod
    def tearDownClass(cls):
        cls.cluster.close()

    def ctl_as(self, token, *args, stdin=None):
        """simclrctl with `token` ("" for none) instead of alice's."""
        ctl = [runfile("client/simclrctl"), "--coordinator=" + self.cluster.address]
        if token:
            path = os.path.join(self.dir, "other.token")
            write(path, token + "\n")
            ctl.append("--token-file=" + path)
        return subprocess.run(ctl + list(args), input=stdin, capture_output=True, text=True,
                              timeout=60)

    def test_1_a_job_runs_with_tokens_everywhere_and_records_its_submitter(self):
        c = self.cluster
        c.submit(spec("secured", 3))
        watched = c.watch("secured", timeout=300)
        self.assertEqual(watched.returncode, 0, watched.stdout + watched.stderr + c.logs())
        job = c.job("secured")
        self.assertEqual(job["state"], "SUCCEEDED")
        self.assertEqual(job["submitted_by"], "alice")

    def test_2_each_role_reaches_its_own_api_only(self):
        none = self.ctl_as("", "get", "jobs")
        self.assertEqual(none.returncode, 2, none.stderr)
        self.assertIn("did not accept your credentials (no credentials", none.stderr)
        wrong = self.ctl_as("not-a-known-token-0123456789", "get", "jobs")
        self.assertEqual(wrong.returncode, 2, wrong.stderr)
        self.assertIn("unknown or revoked token", wrong.stderr)
        worker = self.ctl_as(POOL, "submit", "-f", "-", stdin=spec("w", 1))
        self.assertEqual(worker.returncode, 2, worker.stderr)
        self.assertIn("principal \"pool\" may not use the job API", worker.stderr)
        self.assertNotIn(ALICE, none.stderr + wrong.stderr + worker.stderr)
        # The refusals are counted, and no token shows up in the metrics.
        with urllib.request.urlopen(
                "http://127.0.0.1:%d/metrics" % self.cluster.metrics_port) as response:
            metrics = response.read().decode()
        refused = [line for line in metrics.splitlines()
                   if line.startswith("simclr_coordinator_unauthenticated_requests_total")]
        self.assertGreaterEqual(float(refused[0].split()[-1]), 3, refused)
        for token in (ALICE, BOB, POOL):
            self.assertNotIn(token, metrics)

    def test_3_a_user_cancels_only_its_own_jobs(self):
        c = self.cluster
        c.submit(spec("alices", 100000))
        bob = self.ctl_as(BOB, "cancel", "alices")
        self.assertEqual(bob.returncode, 2, bob.stderr)
        self.assertIn("submitted by \"alice\"", bob.stderr)
        c.ctl("cancel", "alices")
        job = c.job("alices")
        self.assertEqual(job["state"], "CANCELLED")
        self.assertEqual(job["reason"], "cancelled by alice")
        wait_until(lambda: all(w["state"] == "IDLE" for w in c.get("workers")), 60, "idle workers")

    def test_4_a_rotated_token_takes_effect_without_a_restart(self):
        write(self.tokens, "%s alice user\n%s bob user\n%s pool worker\n" % (ALICE_NEW, BOB, POOL))
        old = self.ctl_as(ALICE, "get", "jobs")
        self.assertEqual(old.returncode, 2, old.stderr)
        self.assertIn("unknown or revoked token", old.stderr)
        write(self.alice_file, ALICE_NEW + "\n")
        self.assertEqual(self.cluster.ctl("get", "jobs").returncode, 0)
        # The workers' token did not change: they are still registered.
        self.assertTrue(all(w["state"] == "IDLE" for w in self.cluster.get("workers")))

    def test_6_a_config_context_carries_the_address_and_credentials(self):
        config = os.path.join(self.dir, "config.yaml")
        write(config, "current-context: lab\ncontexts:\n  - name: lab\n    coordinator: %s\n"
                      "    token-file: %s\n" % (self.cluster.address,
                                              os.path.basename(self.alice_file)))
        env = dict(os.environ, SIMCLR_CONFIG=config)
        env.pop("SIMCLR_COORDINATOR", None)
        env.pop("SIMCLR_TOKEN_FILE", None)
        result = subprocess.run([runfile("client/simclrctl"), "get", "jobs", "-o", "json"],
                                capture_output=True, text=True, timeout=60, env=env)
        self.assertEqual(result.returncode, 0, result.stderr)
        missing = subprocess.run([runfile("client/simclrctl"), "--context=prod", "get", "jobs"],
                                 capture_output=True, text=True, timeout=60, env=env)
        self.assertEqual(missing.returncode, 2, missing.stderr)
        self.assertIn("no context \"prod\"; it has lab", missing.stderr)

    def test_5_an_open_api_is_refused_off_loopback(self):
        with tempfile.TemporaryDirectory(dir=os.environ.get("TEST_TMPDIR")) as state:
            result = subprocess.run(
                [runfile("coordinator/simclr-coordinator"), "--listen=0.0.0.0:%d" % free_port(),
                 "--metrics_listen=", "--state_dir=" + state],
                capture_output=True, text=True, timeout=60)
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertIn("is not a loopback address: give --auth_tokens", result.stderr)


def make_certificates(directory):
    """A CA, a server certificate for 127.0.0.1, and client certificates whose
    CN is the principal and O its role, made with openssl at test time."""
    def run(*args):
        subprocess.run(["openssl"] + list(args), check=True, capture_output=True, cwd=directory)
    key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run("req", "-x509", *key, "-keyout", "ca.key", "-out", "ca.pem", "-days", "1",
        "-subj", "/CN=simclr-test-ca")
    with open(os.path.join(directory, "server.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    for name, subject, ext in (("server", "/CN=localhost", ["-extfile", "server.ext"]),
                               ("alice", "/O=user/CN=alice", []),
                               ("pool", "/O=worker/CN=pool", [])):
        run("req", *key, "-keyout", name + ".key", "-out", name + ".csr", "-subj", subject)
        run("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", name + ".pem", "-days", "1", *ext)
    return lambda name: os.path.join(directory, name)


class MutualTlsTest(unittest.TestCase):
    """The API port with TLS and required client certificates: the
    certificate's CN is the principal, its O the role."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="simclr-tls-", dir=os.environ.get("TEST_TMPDIR"))
        f = make_certificates(cls.dir)
        cls.file = staticmethod(f)
        cls.cluster = Cluster(
            workers=2,
            coordinator_args=["--tls_cert=" + f("server.pem"), "--tls_key=" + f("server.key"),
                              "--tls_client_ca=" + f("ca.pem")],
            worker_args=["--tls_ca=" + f("ca.pem"), "--tls_cert=" + f("pool.pem"),
                         "--tls_key=" + f("pool.key")],
            ctl_args=["--ca=" + f("ca.pem"), "--cert=" + f("alice.pem"),
                      "--key=" + f("alice.key")])

    @classmethod
    def tearDownClass(cls):
        cls.cluster.close()

    def ctl(self, *args):
        return subprocess.run([runfile("client/simclrctl"), "--coordinator=" + self.cluster.address]
                              + list(args), capture_output=True, text=True, timeout=60)

    def test_a_job_runs_over_mutual_tls_as_the_certificates_principal(self):
        c = self.cluster
        c.submit(spec("tls", 3))
        watched = c.watch("tls", timeout=300)
        self.assertEqual(watched.returncode, 0, watched.stdout + watched.stderr + c.logs())
        self.assertEqual(c.job("tls")["submitted_by"], "alice")

    def test_without_a_client_certificate_there_is_no_connection(self):
        f = self.file
        no_cert = self.ctl("--ca=" + f("ca.pem"), "get", "jobs")
        self.assertEqual(no_cert.returncode, 3, no_cert.stderr)
        plaintext = self.ctl("get", "jobs")
        self.assertEqual(plaintext.returncode, 3, plaintext.stderr)

    def test_a_worker_certificate_cannot_use_the_job_api(self):
        f = self.file
        as_worker = self.ctl("--ca=" + f("ca.pem"), "--cert=" + f("pool.pem"),
                             "--key=" + f("pool.key"), "get", "jobs")
        self.assertEqual(as_worker.returncode, 2, as_worker.stderr)
        self.assertIn("principal \"pool\" may not use the job API", as_worker.stderr)


if __name__ == "__main__":
    import cluster
    cluster.main()
