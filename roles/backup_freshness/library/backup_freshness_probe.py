#!/usr/bin/python
# -*- coding: utf-8 -*-
"""Check that the newest backup in each folder is recent enough and not empty."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: backup_freshness_probe
short_description: Check that the newest backup of each set is younger than a threshold
description:
  - A backup set is a folder and a glob pattern; its newest backup is the matching regular
    file with the latest modification time.
  - A set fails when its folder is missing, when nothing matches, when its newest backup is
    older than C(max_age_hours), or when that backup is smaller than C(min_bytes) (a job
    that failed half-way often leaves an empty file behind).
  - Every set is checked, then the module fails once with one message per failing set that
    names the measured value and the threshold.
  - Never changes anything; supports check mode.
options:
  sets:
    description:
      - Backup sets; each has C(path) (the folder), optional C(pattern) (glob relative to the
        folder, C(**) crosses subfolders, default C(*)), C(max_age_hours) and C(min_bytes)
        (default the module's options).
    type: list
    elements: dict
    required: true
  max_age_hours:
    description: Oldest the newest backup of a set may be, in hours.
    type: float
    default: 25
  min_bytes:
    description: Smallest size the newest backup of a set may have.
    type: int
    default: 1
author: maintbook
"""

EXAMPLES = r"""
- name: Check that last night's database dumps exist
  backup_freshness_probe:
    sets:
      - {path: /var/backups/postgresql, pattern: "app-*.dump"}
      - {path: /srv/backups/uploads, pattern: "*.tar.gz", max_age_hours: 170}
"""

RETURN = r"""
backups:
  description: >-
    One entry per set: C(path), C(pattern), C(newest) (the file, or null), C(age_hours),
    C(bytes), C(max_age_hours), C(min_bytes), C(ok) and C(message).
  returned: always
  type: list
  elements: dict
failures:
  description: The message of every failing set.
  returned: always
  type: list
  elements: str
"""

import glob
import os
import stat
import time

from ansible.module_utils.basic import AnsibleModule


def newest_backup(folder, pattern):
    """Return (path, stat) of the newest regular file matching pattern, or (None, None)."""
    newest = (None, None)
    for path in glob.glob(os.path.join(glob.escape(folder), pattern), recursive=True):
        info = os.stat(path)
        if stat.S_ISREG(info.st_mode) and (newest[1] is None or info.st_mtime > newest[1].st_mtime):
            newest = (path, info)
    return newest


def check_set(spec, defaults, now):
    folder, pattern = spec["path"], spec.get("pattern") or "*"
    limit = float(spec.get("max_age_hours", defaults["max_age_hours"]))
    min_bytes = int(spec.get("min_bytes", defaults["min_bytes"]))
    result = dict(path=folder, pattern=pattern, newest=None, age_hours=None, bytes=None,
                  max_age_hours=limit, min_bytes=min_bytes)
    if not os.path.isdir(folder):
        return _done(result, "backup folder %s does not exist" % folder)
    path, info = newest_backup(folder, pattern)
    if path is None:
        return _done(result, "no backup matching %s in %s" % (pattern, folder))
    age = round((now - info.st_mtime) / 3600.0, 1)
    result.update(newest=path, age_hours=age, bytes=info.st_size)
    if age > limit:
        return _done(result, "newest backup %s (%d bytes) is %.1f h old, over the %g h threshold" % (
            path, info.st_size, age, limit))
    if info.st_size < min_bytes:
        return _done(result, "newest backup %s is %d bytes, under the %d-byte minimum" % (path, info.st_size, min_bytes))
    return _done(result, None)


def _done(result, failure):
    result.update(ok=failure is None, message=failure or "ok")
    return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            sets=dict(type="list", elements="dict", required=True),
            max_age_hours=dict(type="float", default=25),
            min_bytes=dict(type="int", default=1),
        ),
        supports_check_mode=True,
    )
    for spec in module.params["sets"]:
        if not spec.get("path"):
            module.fail_json(msg="every backup set needs a path, got %r" % (spec,))
    now = time.time()
    backups = [check_set(spec, module.params, now) for spec in module.params["sets"]]
    failures = [b["message"] for b in backups if not b["ok"]]
    outcome = dict(changed=False, backups=backups, failures=failures)
    if failures:
        module.fail_json(msg="; ".join(failures), **outcome)
    module.exit_json(**outcome)


if __name__ == "__main__":
    main()
