"""service_health fails with a message naming the check, what was expected and what was measured."""

from __future__ import annotations

import http.server
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROLES = Path(__file__).resolve().parents[2] / "roles"

PLAYBOOK = """\
- name: Run service_health and keep its failure message
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Run the role
      block:
        - name: Include service_health
          ansible.builtin.include_role:
            name: service_health
      rescue:
        - name: Keep the failure message
          ansible.builtin.copy:
            content: "{{ ansible_failed_result.msg }}"
            dest: "{{ message_file }}"
            mode: "0644"
"""


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802
        if self.path == "/slow":
            time.sleep(0.4)
        status = 500 if self.path == "/fail" else 200
        body = b"ok\n"
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_role(tmp_path: Path, role_vars: dict[str, object]) -> tuple[int, str | None]:
    """Run the role on localhost; return the exit code and the failure message, if any."""
    playbook = tmp_path / "playbook.yml"
    playbook.write_text(PLAYBOOK)
    message_file = tmp_path / "message.txt"
    extra = {
        "message_file": str(message_file),
        "ansible_python_interpreter": sys.executable,
        **role_vars,
    }
    env = dict(os.environ, ANSIBLE_ROLES_PATH=str(ROLES), ANSIBLE_NOCOLOR="1")
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    done = subprocess.run(
        [
            str(Path(sys.executable).parent / "ansible-playbook"),
            "-i",
            "localhost,",
            "-e",
            json.dumps(extra),
            str(playbook),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.returncode, message_file.read_text() if message_file.exists() else None


def test_wrong_status_names_the_url_the_status_and_the_expectation(
    tmp_path: Path, base_url: str
) -> None:
    _, message = run_role(
        tmp_path, {"service_health_http": [{"url": f"{base_url}/fail", "status": 200}]}
    )
    assert message == f"{base_url}/fail answered 500, expected 200"


def test_too_slow_names_the_latency_and_the_limit(tmp_path: Path, base_url: str) -> None:
    _, message = run_role(
        tmp_path, {"service_health_http": [{"url": f"{base_url}/slow", "max_latency_ms": 100}]}
    )
    assert message is not None
    assert re.fullmatch(
        rf"{re.escape(base_url)}/slow took (4\d\d|[5-9]\d\d) ms, limit 100 ms", message
    ), message


def test_every_failing_check_is_reported_at_once(tmp_path: Path, base_url: str) -> None:
    port = _closed_port()
    _, message = run_role(
        tmp_path,
        {
            "service_health_http": [
                {"url": f"{base_url}/ok", "contains": "healthy"},
                {"url": f"{base_url}/ok"},
            ],
            "service_health_tcp": [{"host": "127.0.0.1", "port": port, "timeout": 1}],
        },
    )
    assert message == (
        f"{base_url}/ok answered without 'healthy' in its body; "
        f"tcp://127.0.0.1:{port} did not accept a connection within 1 s: Connection refused"
    )


def test_compare_fails_when_latency_regresses_beyond_the_factor(
    tmp_path: Path, base_url: str
) -> None:
    baseline = tmp_path / "baseline.json"
    baseline.write_text(json.dumps({f"{base_url}/slow": 10}))
    _, message = run_role(
        tmp_path,
        {
            "service_health_mode": "compare",
            "service_health_baseline_path": str(baseline),
            "service_health_max_regression": 2,
            "service_health_regression_slack_ms": 5,
            "service_health_http": [{"url": f"{base_url}/slow"}],
        },
    )
    assert message is not None
    assert re.fullmatch(
        rf"{re.escape(base_url)}/slow took \d+ ms, "
        r"baseline 10 ms allows at most 25 ms \(x2 \+ 5 ms\)",
        message,
    ), message


def test_healthy_checks_pass_and_baseline_records_them(tmp_path: Path, base_url: str) -> None:
    baseline = tmp_path / "state" / "baseline.json"
    _, message = run_role(
        tmp_path,
        {
            "service_health_mode": "baseline",
            "service_health_baseline_path": str(baseline),
            "service_health_http": [
                {"url": f"{base_url}/ok", "contains": "ok", "max_latency_ms": 2000}
            ],
        },
    )
    assert message is None
    recorded = json.loads(baseline.read_text())
    assert list(recorded) == [f"{base_url}/ok"]
    assert 0 < recorded[f"{base_url}/ok"] < 2000


def test_compare_without_a_baseline_says_how_to_make_one(tmp_path: Path, base_url: str) -> None:
    missing = tmp_path / "none.json"
    _, message = run_role(
        tmp_path,
        {
            "service_health_mode": "compare",
            "service_health_baseline_path": str(missing),
            "service_health_http": [{"url": f"{base_url}/ok"}],
        },
    )
    assert (
        message
        == f"no latency baseline at {missing}: run the role with service_health_mode=baseline first"
    )
