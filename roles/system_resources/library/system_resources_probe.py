#!/usr/bin/python
# -*- coding: utf-8 -*-
"""Measure disk, inode, memory, CPU and load use of a host against thresholds."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: system_resources_probe
short_description: Check disk, inode, memory, CPU and load use against thresholds
description:
  - Measures from the kernel's own figures (C(statvfs), C(/proc/meminfo), C(/proc/stat),
    C(/proc/loadavg)), compares each with its threshold, collects every failure, then fails
    once with one message per failing check naming the measured value and the threshold.
  - Disk use is computed as C(df) does (used blocks over used plus available blocks), so
    space reserved for root counts as full; memory use is the memory not available
    (C(MemTotal - MemAvailable)); CPU use is the busy share of all CPUs over a short sample.
  - Never changes anything; supports check mode.
options:
  checks:
    description: The checks to run.
    type: list
    elements: str
    choices: [disk, inodes, memory, cpu, load]
    default: [disk, inodes, memory, cpu, load]
  filesystems:
    description: Paths whose file systems are checked for disk and inode use.
    type: list
    elements: path
    default: [/]
  max_disk_percent:
    description: Most disk space in use, in percent.
    type: float
    default: 80
  max_inode_percent:
    description: Most inodes in use, in percent (file systems without an inode count are skipped).
    type: float
    default: 80
  max_memory_percent:
    description: Most memory in use, in percent.
    type: float
    default: 85
  max_cpu_percent:
    description: Most CPU in use over the sample, in percent of all CPUs.
    type: float
    default: 90
  cpu_sample_seconds:
    description: How long CPU use is sampled.
    type: float
    default: 1
  max_load_per_cpu:
    description: Most 5-minute load average per CPU; unset, the load is only reported.
    type: float
author: maintbook
"""

EXAMPLES = r"""
- name: Check the root and data file systems, memory and CPU
  system_resources_probe:
    filesystems: [/, /var/lib/postgresql]
    max_disk_percent: 80
    max_memory_percent: 85
"""

RETURN = r"""
measured:
  description:
    - What was measured, by check.
    - C(filesystems), one entry per path, C(path), C(mount), C(disk_percent), C(used_bytes),
      C(available_bytes), C(size_bytes), C(inode_percent), C(inodes_used), C(inodes).
    - C(memory), C(percent), C(used_bytes), C(available_bytes), C(total_bytes).
    - C(cpu), C(percent) over C(sample_seconds), and C(count) (CPUs).
    - C(load), the C(1), C(5) and C(15) minute load averages, C(per_cpu) (the 5-minute one per
      CPU) and C(count).
  returned: success or a failed check
  type: dict
failures:
  description: The message of every failing check.
  returned: success or a failed check
  type: list
  elements: str
"""

import os
import time

from ansible.module_utils.basic import AnsibleModule

CHECKS = ["disk", "inodes", "memory", "cpu", "load"]


def _size(value):
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024:
            return "%.1f %s" % (value, unit)
        value /= 1024.0
    return "%.1f TiB" % value


def _percent(part, whole):
    return round(100.0 * part / whole, 1) if whole else 0.0


def mount_point(path):
    path = os.path.realpath(path)
    while not os.path.ismount(path):
        path = os.path.dirname(path)
    return path


def measure_filesystem(path):
    st = os.statvfs(path)
    used = (st.f_blocks - st.f_bfree) * st.f_frsize
    available = st.f_bavail * st.f_frsize
    inodes_used = st.f_files - st.f_ffree
    return dict(path=path, mount=mount_point(path), disk_percent=_percent(used, used + available),
                used_bytes=used, available_bytes=available, size_bytes=st.f_blocks * st.f_frsize,
                inode_percent=_percent(inodes_used, st.f_files) if st.f_files else None,
                inodes_used=inodes_used, inodes=st.f_files)


def _where(fs):
    return fs["path"] if fs["mount"] == fs["path"] else "%s (file system %s)" % (fs["path"], fs["mount"])


def check_disk(fs, limit):
    if fs["disk_percent"] <= limit:
        return []
    return ["disk usage %.1f%% on %s exceeds the %g%% threshold (%s used, %s available of %s)" % (
        fs["disk_percent"], _where(fs), limit, _size(fs["used_bytes"]), _size(fs["available_bytes"]),
        _size(fs["size_bytes"]))]


def check_inodes(fs, limit):
    if fs["inode_percent"] is None or fs["inode_percent"] <= limit:
        return []
    return ["inode usage %.1f%% on %s exceeds the %g%% threshold (%d of %d inodes used)" % (
        fs["inode_percent"], _where(fs), limit, fs["inodes_used"], fs["inodes"])]


def measure_memory(meminfo="/proc/meminfo"):
    values = {}
    with open(meminfo) as handle:
        for line in handle:
            key, _, rest = line.partition(":")
            values[key] = int(rest.split()[0]) * 1024
    total, available = values["MemTotal"], values["MemAvailable"]
    return dict(percent=_percent(total - available, total), used_bytes=total - available,
                available_bytes=available, total_bytes=total)


def check_memory(memory, limit):
    if memory["percent"] <= limit:
        return []
    return ["memory usage %.1f%% exceeds the %g%% threshold (%s used, %s available of %s)" % (
        memory["percent"], limit, _size(memory["used_bytes"]), _size(memory["available_bytes"]),
        _size(memory["total_bytes"]))]


def _cpu_times():
    with open("/proc/stat") as handle:
        fields = [int(v) for v in handle.readline().split()[1:9]]
    return sum(fields), fields[3] + fields[4]  # all, idle + iowait


def measure_cpu(seconds):
    total_before, idle_before = _cpu_times()
    time.sleep(seconds)
    total_after, idle_after = _cpu_times()
    total = total_after - total_before
    return dict(percent=_percent(total - (idle_after - idle_before), total), sample_seconds=seconds,
                count=os.cpu_count())


def check_cpu(cpu, limit):
    if cpu["percent"] <= limit:
        return []
    return ["CPU usage %.1f%% over %gs exceeds the %g%% threshold (%d CPUs)" % (
        cpu["percent"], cpu["sample_seconds"], limit, cpu["count"])]


def measure_load():
    one, five, fifteen = os.getloadavg()
    return {"1": one, "5": five, "15": fifteen, "per_cpu": round(five / os.cpu_count(), 2), "count": os.cpu_count()}


def check_load(load, limit):
    if limit is None or load["per_cpu"] <= limit:
        return []
    return ["load average %.2f per CPU (%.2f over 5 minutes on %d CPUs) exceeds the %g threshold" % (
        load["per_cpu"], load["5"], load["count"], limit)]


def run(params):
    checks, result, failures = params["checks"], {}, []
    if "disk" in checks or "inodes" in checks:
        result["filesystems"] = [measure_filesystem(path) for path in params["filesystems"]]
        for fs in result["filesystems"]:
            failures += check_disk(fs, params["max_disk_percent"]) if "disk" in checks else []
            failures += check_inodes(fs, params["max_inode_percent"]) if "inodes" in checks else []
    if "memory" in checks:
        result["memory"] = measure_memory()
        failures += check_memory(result["memory"], params["max_memory_percent"])
    if "cpu" in checks:
        result["cpu"] = measure_cpu(params["cpu_sample_seconds"])
        failures += check_cpu(result["cpu"], params["max_cpu_percent"])
    if "load" in checks:
        result["load"] = measure_load()
        failures += check_load(result["load"], params["max_load_per_cpu"])
    return result, failures


def main():
    module = AnsibleModule(
        argument_spec=dict(
            checks=dict(type="list", elements="str", choices=CHECKS, default=list(CHECKS)),
            filesystems=dict(type="list", elements="path", default=["/"]),
            max_disk_percent=dict(type="float", default=80),
            max_inode_percent=dict(type="float", default=80),
            max_memory_percent=dict(type="float", default=85),
            max_cpu_percent=dict(type="float", default=90),
            cpu_sample_seconds=dict(type="float", default=1),
            max_load_per_cpu=dict(type="float"),
        ),
        supports_check_mode=True,
    )
    for path in module.params["filesystems"]:
        if not os.path.exists(path):
            module.fail_json(msg="cannot check the file system of %s: it does not exist" % path)
    measured, failures = run(module.params)
    if failures:
        module.fail_json(msg="; ".join(failures), changed=False, measured=measured, failures=failures)
    module.exit_json(changed=False, measured=measured, failures=failures)


if __name__ == "__main__":
    main()
