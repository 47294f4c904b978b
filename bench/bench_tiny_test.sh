#!/bin/bash
# scripts/bench --tiny from the runfiles: every section runs and reports.
set -euo pipefail
fail() { echo "FAIL: $*" >&2; exit 1; }
root=$PWD  # the runfiles tree, laid out like bazel-bin
out=$TEST_TMPDIR/latest.json
SIMCLR_BIN_DIR=$root /usr/bin/python3 scripts/bench --tiny --out "$out" || fail "scripts/bench --tiny"
/usr/bin/python3 - "$out" <<'PY' || fail "report: $(cat "$out")"
import json, sys
r = json.load(open(sys.argv[1]))
plane = r["control_plane"][0]
assert plane["workers"] == 20, plane
assert plane["rpcs"]["Heartbeat"]["count"] > 0 and plane["rpcs"]["Heartbeat"]["errors"] == 0, plane
for method in ("RegisterWorker", "SubmitJobs"):
    assert plane["rpcs"][method]["count"] > 0, (method, plane)
assert plane["scrape_bytes"] > 0 and plane["coordinator_resident_bytes"] > 0, plane
assert plane["registration_s"] > 0, plane  # the load generator said when all had registered
# Every caller connected before its first timed call, and the set-up was timed apart.
connect = plane["connections"]["Connect"]
assert connect["count"] > 0 and connect["errors"] == 0, plane
# The baselines ran: empty health checks answered, the disk synced.
health = plane["health_check_baseline"]["rpcs"]["HealthCheck"]
assert health["count"] > 0 and health["errors"] == 0, plane
assert "Heartbeat" not in plane["health_check_baseline"]["rpcs"], plane
sync = plane["disk_fdatasync"]
assert sync["syncs"] > 0 and 0 <= sync["p50_ms"] <= sync["p99_ms"], plane
assert r["step"], r
# Both sides of the step race took the same step (the same first loss).
assert all(c["same_step"] for c in r["step"]), r["step"]
# End to end: the service and each PyTorch variant trained and were timed.
e2e = r["e2e"]
assert set(e2e["runs"]) == {"service", "pytorch_global_bn", "pytorch_local_bn",
                            "pytorch_local_bn_channels_last"}, e2e
assert all(run[0]["views_per_s"] > 0 for run in e2e["runs"].values()), e2e
assert 0 <= e2e["runs"]["service"][0]["data_wait_fraction"] < 1, e2e
# The service's traced step names its phases.
assert e2e["runs"]["service"][0]["profiled_step"]["forward"] > 0, e2e
# The loader made views; the gang ran at both world sizes.
assert r["data"]["views_per_s_1_thread"] > 0 and r["data"]["trainer_views_per_s"] > 0, r["data"]
assert all(r["gang"]["median_views_per_s"][k] > 0 for k in ("world_size_1", "world_size_2")), r
assert r["gang"]["world_size_2_phase_shares"]["global_batch_norm"] > 0, r["gang"]
assert r["machine"]["cores"] >= 1, r
PY
echo PASS
