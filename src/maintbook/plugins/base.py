"""What every lifecycle action plugin shares: argument checking, the context, the store,
and one error boundary that turns expected failures into a failed task with a clear message."""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from datetime import datetime
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from maintbook.context import Context
from maintbook.errors import MaintbookError
from maintbook.http import ConnectionFailed
from maintbook.lifecycle import TransitionError
from maintbook.notify.render import NoticeError
from maintbook.silence import SilenceError
from maintbook.statuspage.model import PageError
from maintbook.store import Store
from maintbook.timeparse import utc_now

EXPECTED = (MaintbookError, PageError, SilenceError, NoticeError, TransitionError,
            ConnectionFailed, OSError, ValueError)


@cache
def _module(path: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"maintbook_doc_{Path(path).stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class LifecycleAction(ActionBase):  # type: ignore[misc]
    """Validates the task's arguments against its module's spec, then calls `work`."""

    TRANSFERS_FILES = False
    _requires_connection = False

    def spec(self) -> ModuleType:
        """The module file of the same name in library/ (documentation and argument spec)."""
        found = self._shared_loader_obj.module_loader.find_plugin_with_context(
            self._task.action, collection_list=self._task.collections)
        if not found.resolved or not found.plugin_resolved_path:
            raise AnsibleActionFail(f"the module {self._task.action} (its documentation and "
                                    "argument spec) is not on the module path")
        return _module(found.plugin_resolved_path)

    def run(self, tmp: Any = None, task_vars: Mapping[str, Any] | None = None
            ) -> dict[str, Any]:
        result: dict[str, Any] = super().run(tmp, task_vars)
        module = self.spec()
        _, args = self.validate_argument_spec(
            argument_spec=module.ARGUMENT_SPEC,
            required_if=getattr(module, "REQUIRED_IF", None),
            mutually_exclusive=getattr(module, "MUTUALLY_EXCLUSIVE", None),
        )
        try:
            result.update(self.work(args, bool(self._task.check_mode), utc_now()))
        except EXPECTED as exc:
            result.update(failed=True, msg=str(exc))
        return result

    def work(self, args: dict[str, Any], check: bool, now: datetime) -> dict[str, Any]:
        raise NotImplementedError

    @staticmethod
    def context(args: Mapping[str, Any]) -> Context:
        return Context.from_dict(_plain(args["context"]), Path(args["root"]).resolve())

    @staticmethod
    def store(ctx: Context) -> Store:
        return Store.open(ctx.state)


def _plain(value: Any) -> Any:
    """Ansible's tagged strings, lists and dicts as plain Python values."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    return value


def plain(value: Any) -> Any:
    return _plain(value)
