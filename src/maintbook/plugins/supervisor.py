"""Callback plugin `maintbook_supervisor`: stop the playbook when its supervisor is gone.

Loaded in the ansible-playbook process itself, before any worker is forked, it also loads
the lifecycle plugins' code and compiles the status page's templates once: every worker then
inherits them, instead of importing the package and compiling the templates again for each
task (a fork per task and host is how Ansible runs them). For the same reason it loads
Ansible's own filter and test plugins before the first fork.
"""

from __future__ import annotations

import importlib
import os
import signal
import threading
import time
from typing import Any

from ansible.plugins.callback import CallbackBase
from ansible.template import Templar, trust_as_template

from maintbook.process import alive, kill_tree, start_time
from maintbook.site.render import compile_templates

SUPERVISOR_ENV = "MAINTBOOK_SUPERVISOR_PID"
POLL = 0.5
PRELOAD = ("maintbook.plugins.window", "maintbook.plugins.page", "maintbook.plugins.notice",
           "maintbook.plugins.silence", "maintbook.plugins.lookup",
           "maintbook.notify.channels", "icalendar")


def load_jinja_plugins() -> None:
    """Load Ansible's filter and test plugins into this process. A worker forked before any
    template used a filter loads every filter and test plugin file again at its first one:
    about 30 ms for each task whose condition or arguments use a filter (the compiled
    playbook's checks before every step do)."""
    Templar().template(trust_as_template("{{ [] | length == 0 and none is none }}"))


def watch(pid: int, started: str | None) -> None:
    """Kill this process group as soon as `pid` (started at `started`) is gone."""
    while alive(pid, started):
        time.sleep(POLL)
    kill_tree(os.getpid(), include_root=False)
    os.killpg(os.getpgid(0), signal.SIGKILL)


class CallbackModule(CallbackBase):  # type: ignore[misc]
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "maintbook_supervisor"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in PRELOAD:
            importlib.import_module(name)
        compile_templates()
        load_jinja_plugins()
        value = os.environ.get(SUPERVISOR_ENV, "")
        if value.isdigit():
            pid = int(value)
            thread = threading.Thread(target=watch, args=(pid, start_time(pid)), daemon=True,
                                      name="maintbook-supervisor")
            thread.start()
