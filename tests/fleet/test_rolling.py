"""Rolling runbooks on 20 real web hosts (SPEC §12): serial batches, max_fail_percentage,
what each batch ends as, drained hosts answering 503, and the batch progress on the status
page and in the progress notices."""

from __future__ import annotations

import pytest

from tests.fleet.conftest import reset, rolling_runbook, run_rolling
from tests.support import fleet

pytestmark = pytest.mark.integration


def _version(host: fleet.FleetHost) -> str:
    return (host.home / "version").read_text().strip()


def _phases(record: dict, host: fleet.FleetHost) -> set[str]:
    return {s["phase"] for s in record["steps"] if s["host"] == host.name}


def test_a_failure_in_batch_two_of_four_rolls_that_batch_back_and_stops_the_rest(
        hosts: fleet.Fleet, tmp_path):
    reset(hosts)
    batches = [hosts.hosts[i:i + 5] for i in range(0, 20, 5)]
    failing = batches[1][1]
    (failing.home / "faulty").write_text("")
    run = run_rolling(hosts, tmp_path, rolling_runbook(201, 5, 0))
    output = run.done.stdout[-4000:] + run.done.stderr[-3000:]
    print(f"\n20 hosts, serial 5, batch 2 fails: {run.seconds:.1f} s")
    assert run.done.returncode == 3, output
    record = run.record
    assert record["outcome"] == "rollback_failed"

    # Batch 1 finished and verified: it stays updated and serving.
    for host in batches[0]:
        assert record["hosts"][host.name] == "succeeded"
        assert _version(host) == "v2"
        assert hosts.status(host) == 200
    # Batch 2 rolls back: every host's change undone; the failed host stays drained (503).
    for host in batches[1]:
        assert _version(host) == "v1", host.name
        if host is failing:
            continue
        assert record["hosts"][host.name] == "rolled_back"
        assert hosts.status(host) == 200
        assert not host.flag.exists()
    assert record["hosts"][failing.name] == "rollback_failed"
    assert record["drained"] == [failing.name]
    status, page = fleet.http_get(failing.public_url)
    assert status == 503 and "Scheduled maintenance" in page  # the role's maintenance page
    assert failing.flag.exists()
    # Batches 3 and 4 never start: nothing ran on them beyond the read-only precheck.
    for host in [*batches[2], *batches[3]]:
        assert record["hosts"][host.name] == "not_started"
        assert _phases(record, host) == {"precheck"}
        assert _version(host) == "v1"
        assert not (host.home / "snippets" / "maintenance_mode.conf").exists()
        assert hosts.status(host) == 200
    assert sorted(record["hosts"]) == sorted(h.name for h in hosts.hosts)

    # The status page and the progress notices say which batch ran, and no later one.
    bodies = [u["body"] for u in run.page()["updates"]]
    assert "Maintenance is in progress: batch 1 of 4." in bodies
    assert "Maintenance is in progress: batch 2 of 4." in bodies
    assert not any("batch 3" in body for body in bodies)
    progress = [n["body"] for n in run.outbox() if n["notice"] == "progress"]
    assert any("Batch 2 of 4" in body for body in progress), progress
    assert not any("Batch 3 of 4" in body for body in progress)


def test_a_percentage_batch_with_max_fail_percentage_lets_one_failure_pass(
        hosts: fleet.Fleet, tmp_path):
    """Ten hosts, serial 50% (two batches of 5), max_fail_percentage 20: one failed host of
    five is allowed; its batch goes on, and only that host rolls back (and stays drained)."""
    reset(hosts)
    ten = hosts.hosts[:10]
    failing = ten[7]
    (failing.home / "faulty").write_text("")
    run = run_rolling(hosts, tmp_path, rolling_runbook(202, "50%", 20), count=10,
                      variant="flag")
    output = run.done.stdout[-4000:] + run.done.stderr[-3000:]
    print(f"\n10 hosts, serial 50%, one failure allowed: {run.seconds:.1f} s")
    assert run.done.returncode == 3, output
    assert run.record["hosts"] == {h.name: "rollback_failed" if h is failing else "succeeded"
                                   for h in ten}
    for host in ten:
        assert _version(host) == ("v1" if host is failing else "v2")
        assert hosts.status(host) == (503 if host is failing else 200)
    bodies = [u["body"] for u in run.page()["updates"]]
    assert "Maintenance is in progress: batch 2 of 2." in bodies


def test_with_a_limit_the_batch_count_is_of_the_batches_that_run(hosts: fleet.Fleet, tmp_path):
    """20 hosts, serial 5, `--limit` to one host of batch 1 and one of batch 3: two batches
    run, and customers read "batch 1 of 2" and "batch 2 of 2", never "of 4"."""
    reset(hosts)
    chosen = [hosts.hosts[1], hosts.hosts[12]]
    run = run_rolling(hosts, tmp_path, rolling_runbook(203, 5, 0),
                      extra=("--limit", ",".join(h.name for h in chosen)))
    output = run.done.stdout[-4000:] + run.done.stderr[-3000:]
    assert run.done.returncode == 0, output
    for host in hosts.hosts:
        assert _version(host) == ("v2" if host in chosen else "v1"), host.name
    bodies = [u["body"] for u in run.page()["updates"]]
    assert "Maintenance is in progress: batch 1 of 2." in bodies, bodies
    assert "Maintenance is in progress: batch 2 of 2." in bodies, bodies
    assert not any("of 4" in body for body in bodies), bodies
    progress = [n["body"] for n in run.outbox() if n["notice"] == "progress"]
    assert progress and not any("of 4" in body for body in progress), progress
