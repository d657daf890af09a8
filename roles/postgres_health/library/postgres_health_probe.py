#!/usr/bin/python
# -*- coding: utf-8 -*-
"""Measure the health of a PostgreSQL server against thresholds, with psql only."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: postgres_health_probe
short_description: Check replication lag, connections, slow queries, lock waits and unused indexes
description:
  - Reads the server's statistics views with one C(psql) call, compares what it measures with
    the thresholds, collects every failure, then fails once with a message per failing check
    that names the measured value and the threshold.
  - On a primary, replication is measured per standby from C(pg_stat_replication) (C(replay_lag)
    and the bytes of WAL not yet replayed). On a replica (C(pg_is_in_recovery())), it is the age
    of the last replayed transaction while received WAL waits to be replayed, and zero when
    nothing waits.
  - Connections count client backends other than the probe's own, in percent of C(max_connections).
  - Slow queries and lock waits look at active client backends; unused indexes are the
    non-unique indexes of the connected database that were never scanned since the
    statistics were last reset.
  - Never changes anything; supports check mode.
options:
  checks:
    description: The checks to run.
    type: list
    elements: str
    choices: [replication, connections, slow_queries, lock_waits, unused_indexes]
    default: [replication, connections, slow_queries, lock_waits, unused_indexes]
  psql:
    description: The psql command; a bare name is looked up on PATH.
    type: str
    default: psql
  host:
    description: Host name, address or unix socket directory; empty uses libpq's default.
    type: str
    default: ""
  port:
    description: Server port.
    type: int
    default: 5432
  user:
    description: Database role to connect as.
    type: str
    default: postgres
  password:
    description: Password, passed as C(PGPASSWORD).
    type: str
    default: ""
  database:
    description: Database to connect to; unused indexes are looked for in it.
    type: str
    default: postgres
  server_name:
    description: How messages name this server (for example its address).
    type: str
    required: true
  max_replication_lag_seconds:
    description: Most seconds a standby (or this replica) may lag behind in replay.
    type: float
    default: 30
  min_standbys:
    description: Fewest standbys a primary must have streaming from it (0 for no such check).
    type: int
    default: 0
  max_connections_percent:
    description: Most client connections, in percent of C(max_connections).
    type: float
    default: 80
  max_query_seconds:
    description: Longest an active query may run.
    type: float
    default: 1
  max_lock_waits:
    description: Most queries that may be waiting on a lock at once.
    type: int
    default: 0
  max_unused_indexes:
    description: Most never-scanned indexes allowed; unset, they are only reported.
    type: int
author: maintbook
"""

EXAMPLES = r"""
- name: Check the primary and its standbys
  postgres_health_probe:
    server_name: 10.0.0.5
    host: /var/run/postgresql
    database: app
    min_standbys: 1
    max_replication_lag_seconds: 30
"""

RETURN = r"""
role:
  description: C(primary) or C(replica) (the server is in recovery).
  returned: success or a failed check
  type: str
measured:
  description: >-
    What was measured: C(connections), C(max_connections), C(connections_percent),
    C(standbys) (C(name), C(address), C(state), C(lag_seconds), C(behind_bytes)),
    C(replica) (C(pause_state), C(behind_bytes), C(lag_seconds)) on a replica, C(queries)
    (active client queries: C(pid), C(database), C(user), C(seconds), C(waiting_on_lock),
    C(lock_wait_seconds), C(blocked_by), C(query)) and C(unused_indexes) (C(index),
    C(table), C(bytes)).
  returned: success or a failed check
  type: dict
failures:
  description: The message of every failing check.
  returned: always
  type: list
  elements: str
"""

import json

from ansible.module_utils.basic import AnsibleModule

CHECKS = ["replication", "connections", "slow_queries", "lock_waits", "unused_indexes"]
LISTED = 5  # queries named in one message; the rest are counted

# One JSON document; the functions only a primary (or only a replica) answers are reached
# only there: pg_stat_replication has no rows on a replica, and the replica part is a CASE.
SQL = r"""
SELECT json_build_object(
  'in_recovery', pg_is_in_recovery(),
  'max_connections', current_setting('max_connections')::int,
  'connections', (SELECT count(*) FROM pg_stat_activity
                  WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()),
  'standbys', (SELECT coalesce(json_agg(json_build_object(
      'name', application_name, 'address', coalesce(host(client_addr), 'local socket'), 'state', state,
      'lag_seconds', coalesce(extract(epoch FROM replay_lag), 0),
      'behind_bytes', pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)) ORDER BY client_addr, pid), '[]')
    FROM pg_stat_replication),
  'replica', CASE WHEN pg_is_in_recovery() THEN json_build_object(
      'pause_state', pg_get_wal_replay_pause_state(),
      'behind_bytes', coalesce(pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()), 0),
      'last_replay_age', extract(epoch FROM now() - pg_last_xact_replay_timestamp())) END,
  'queries', (SELECT coalesce(json_agg(json_build_object(
      'pid', a.pid, 'database', a.datname, 'user', a.usename,
      'seconds', round(extract(epoch FROM now() - a.query_start)::numeric, 1),
      'waiting_on_lock', a.wait_event_type = 'Lock',
      'lock_wait_seconds', (SELECT round(extract(epoch FROM now() - min(l.waitstart))::numeric, 1)
                            FROM pg_locks l WHERE l.pid = a.pid AND NOT l.granted),
      'blocked_by', pg_blocking_pids(a.pid),
      'query', left(regexp_replace(a.query, '\s+', ' ', 'g'), 120)) ORDER BY a.query_start, a.pid), '[]')
    FROM pg_stat_activity a
    WHERE a.backend_type = 'client backend' AND a.state = 'active' AND a.pid <> pg_backend_pid()),
  'unused_indexes', (SELECT coalesce(json_agg(json_build_object(
      'index', format('%I.%I', s.schemaname, s.indexrelname), 'table', format('%I.%I', s.schemaname, s.relname),
      'bytes', pg_relation_size(s.indexrelid)) ORDER BY s.schemaname, s.indexrelname), '[]')
    FROM pg_stat_user_indexes s JOIN pg_index i ON i.indexrelid = s.indexrelid
    WHERE s.idx_scan = 0 AND NOT i.indisunique))
"""


def _seconds(value):
    return "%.1fs" % value


def _threshold(value):
    return "%gs" % value


def derive(measured):
    """Add the figures the checks compare: connections in percent, the replica's own lag."""
    measured["connections_percent"] = round(100.0 * measured["connections"] / measured["max_connections"], 1)
    replica = measured["replica"]
    if replica is not None:
        waiting = replica["behind_bytes"] > 0
        age = replica.pop("last_replay_age")
        replica["lag_seconds"] = (round(age, 1) if age is not None else None) if waiting else 0.0
    return measured


def check_replication(measured, params, server):
    limit = params["max_replication_lag_seconds"]
    if measured["in_recovery"]:
        return _check_replica(measured["replica"], limit, server)
    failures = []
    standbys = measured["standbys"]
    streaming = [s for s in standbys if s["state"] == "streaming"]
    if len(streaming) < params["min_standbys"]:
        failures.append("primary %s has %d streaming standby%s, expected at least %d" % (
            server, len(streaming), "" if len(streaming) == 1 else "s", params["min_standbys"]))
    for standby in standbys:
        if standby["lag_seconds"] > limit:
            failures.append("replication lag %s on standby %s (%s, %s, %d bytes behind) exceeds the %s threshold" % (
                _seconds(standby["lag_seconds"]), standby["address"], standby["name"], standby["state"],
                standby["behind_bytes"] or 0, _threshold(limit)))
    return failures


def _check_replica(replica, limit, server):
    paused = "" if replica["pause_state"] == "not paused" else ", replay %s" % replica["pause_state"]
    if replica["lag_seconds"] is None:
        return ["replication lag on replica %s cannot be timed: %d bytes of WAL wait to be replayed%s "
                "and no transaction was replayed since the server started" % (server, replica["behind_bytes"], paused)]
    if replica["lag_seconds"] <= limit:
        return []
    return ["replication lag %s on replica %s exceeds the %s threshold (%d bytes of WAL wait to be replayed%s)" % (
        _seconds(replica["lag_seconds"]), server, _threshold(limit), replica["behind_bytes"], paused)]


def check_connections(measured, params, server):
    percent = measured["connections_percent"]
    if percent <= params["max_connections_percent"]:
        return []
    return ["connections at %.1f%% of max_connections (%d of %d) on %s exceed the %g%% threshold" % (
        percent, measured["connections"], measured["max_connections"], server, params["max_connections_percent"])]


def _query(query):
    return '%s as %s on %s: "%s"' % (query["pid"], query["user"], query["database"], query["query"])


def _listed(items, describe):
    text = ", ".join(describe(item) for item in items[:LISTED])
    if len(items) > LISTED:
        text += " and %d more" % (len(items) - LISTED)
    return text


def _count(number, singular, plural):
    return "%d %s" % (number, singular if number == 1 else plural)


def check_slow_queries(measured, params, server):
    limit = params["max_query_seconds"]
    slow = sorted((q for q in measured["queries"] if float(q["seconds"]) > limit), key=lambda q: -float(q["seconds"]))
    if not slow:
        return []
    return ["%s on %s ran longer than the %s threshold: %s" % (
        _count(len(slow), "query", "queries"), server, _threshold(limit),
        _listed(slow, lambda q: "%s for pid %s" % (_seconds(float(q["seconds"])), _query(q))))]


def check_lock_waits(measured, params, server):
    waiting = [q for q in measured["queries"] if q["waiting_on_lock"]]
    if len(waiting) <= params["max_lock_waits"]:
        return []

    def describe(query):
        blockers = ", ".join(str(pid) for pid in query["blocked_by"]) or "an unknown session"
        wait = query["lock_wait_seconds"] if query["lock_wait_seconds"] is not None else query["seconds"]
        return "pid %s waited %s for pid %s" % (_query(query), _seconds(float(wait)), blockers)

    return ["%s on %s waiting on a lock, over the threshold of %d: %s" % (
        _count(len(waiting), "query", "queries"), server, params["max_lock_waits"], _listed(waiting, describe))]


def check_unused_indexes(measured, params, server):
    unused, limit = measured["unused_indexes"], params["max_unused_indexes"]
    if limit is None or len(unused) <= limit:
        return []
    return ["%s in database %s on %s never scanned, over the threshold of %d: %s" % (
        _count(len(unused), "index", "indexes"), params["database"], server, limit,
        _listed(unused, lambda i: "%s on %s (%d bytes)" % (i["index"], i["table"], i["bytes"])))]


CHECK_FUNCTIONS = {
    "replication": check_replication,
    "connections": check_connections,
    "slow_queries": check_slow_queries,
    "lock_waits": check_lock_waits,
    "unused_indexes": check_unused_indexes,
}


def measure(module):
    params = module.params
    psql = params["psql"] if "/" in params["psql"] else module.get_bin_path(params["psql"], required=True)
    environment = {"PGHOST": params["host"], "PGPORT": str(params["port"]), "PGUSER": params["user"],
                   "PGPASSWORD": params["password"], "PGAPPNAME": "maintbook-postgres_health"}
    environment = dict((k, v) for k, v in environment.items() if v != "")
    rc, out, err = module.run_command([psql, "-X", "-At", "-v", "ON_ERROR_STOP=1", "-d", params["database"], "-c", SQL],
                                      environ_update=environment)
    if rc != 0:
        where = "%s port %s" % (params["host"] or "the default socket", params["port"])
        module.fail_json(msg="could not read the statistics of %s (%s): %s" % (params["server_name"], where, err.strip()),
                         failures=[])
    return json.loads(out)


def run_checks(measured, params):
    failures = []
    for name in CHECKS:
        if name in params["checks"]:
            failures += CHECK_FUNCTIONS[name](measured, params, params["server_name"])
    return failures


def main():
    module = AnsibleModule(
        argument_spec=dict(
            checks=dict(type="list", elements="str", choices=CHECKS, default=list(CHECKS)),
            psql=dict(type="str", default="psql"),
            host=dict(type="str", default=""),
            port=dict(type="int", default=5432),
            user=dict(type="str", default="postgres"),
            password=dict(type="str", default="", no_log=True),
            database=dict(type="str", default="postgres"),
            server_name=dict(type="str", required=True),
            max_replication_lag_seconds=dict(type="float", default=30),
            min_standbys=dict(type="int", default=0),
            max_connections_percent=dict(type="float", default=80),
            max_query_seconds=dict(type="float", default=1),
            max_lock_waits=dict(type="int", default=0),
            max_unused_indexes=dict(type="int"),
        ),
        supports_check_mode=True,
    )
    measured = derive(measure(module))
    failures = run_checks(measured, module.params)
    outcome = dict(changed=False, role="replica" if measured["in_recovery"] else "primary",
                   measured=measured, failures=failures)
    if failures:
        module.fail_json(msg="; ".join(failures), **outcome)
    module.exit_json(**outcome)


if __name__ == "__main__":
    main()
