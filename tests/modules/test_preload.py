"""What the supervisor callback loads in ansible-playbook's own process, before Ansible forks
a worker for each task: workers inherit it instead of loading it again at every task.

Each test starts a fresh Python, loads the callback as ansible-playbook does, forks, and
checks in the child what a task there would otherwise redo."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

WORKER = """
import os, sys
from maintbook.plugins.supervisor import CallbackModule

{before}
CallbackModule()  # as ansible-playbook loads it, before it forks a worker per task
pid = os.fork()
if pid == 0:
{child}
    os._exit(0)
sys.exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
"""


def _forked(before: str, child: str) -> subprocess.CompletedProcess[str]:
    indented = "\n".join("    " + line for line in child.strip().splitlines())
    script = WORKER.format(before=before.strip(), child=indented)
    return subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, check=False)


def test_a_worker_renders_the_status_page_without_compiling_its_templates() -> None:
    done = _forked(
        """
from jinja2 import Environment

def compiled_again(*args, **kwargs):
    raise SystemExit("a worker compiled a status page template again")
""",
        """
Environment._parse = compiled_again
from maintbook.site import render_site
from tests.site.sample import NOW, TITLE, URL, ZONES, sample
render_site(sample(), title=TITLE, url=URL, zones=ZONES, now=NOW)
""")
    assert done.returncode == 0, done.stderr[-2000:]


def test_a_worker_has_ansibles_filter_and_test_plugins_loaded() -> None:
    done = _forked("", """
loaded = [name for name in sys.modules
          if name.startswith(("ansible.plugins.filter.core", "ansible.plugins.test.core"))]
if len(loaded) != 2:
    raise SystemExit(f"filter and test plugins not loaded before the fork: {loaded}")
""")
    assert done.returncode == 0, done.stderr[-2000:]
