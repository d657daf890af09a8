"""The hostile corpus: runbooks and configurations built to break a validator.

Each case is a file and, where it defines one, the diagnostic it must get: (line, code).
`RUNBOOK_CASES` are runbook files checked against the golden configuration;
`CONFIG_CASES` are maintbook.yml files used with a valid runbook.
"""

from __future__ import annotations

from dataclasses import dataclass

BASE = """\
runbook: 1
id: MNT-2027-0001
title: Rotate the logs
owner: sre-team
type: zero-downtime
systems: [hostile]
window: {start: 2027-01-10T02:00:00Z, duration: 1h}
approvals: [{role: team-lead, by: carol, at: 2026-10-20T10:00:00Z}]
targets: {hosts: localhost, serial: 1}
steps:
  - name: Rotate the logs
    role: log_maintenance
    vars: {actions: [rotate]}
"""
RECURRING = BASE.replace(
    "window: {start: 2027-01-10T02:00:00Z, duration: 1h}\n",
    "window: {duration: 1h}\nrecurrence: {rrule: 'FREQ=WEEKLY;BYDAY=SU', start: '02:00'}\n",
)


@dataclass(frozen=True)
class Case:
    name: str
    content: bytes
    expect: tuple[int, str] | None  # (line, code) of the one diagnostic it must get


def _replace(old: str, new: str, base: str = BASE) -> bytes:
    assert old in base, old
    return base.replace(old, new, 1).encode("utf-8")


BOMB = "".join(
    f"      {name}: &{name} [{', '.join([f'*{prev}'] * 10)}]\n"
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True)
)

RUNBOOK_CASES = [
    Case("window-2739000d", _replace("duration: 1h}", "duration: 2739000d}"), (7, "duration")),
    Case("window-overflow", _replace("duration: 1h}", "duration: 99999999999d}"), (7, "duration")),
    Case("start-year-9999", _replace("2027-01-10T02:00:00Z", "9999-12-31T23:00:00Z"),
         (7, "window-start")),
    Case("start-year-10000", _replace("2027-01-10T02:00:00Z", "10000-01-01T00:00:00Z"),
         (7, "window-start")),
    Case("start-year-1", _replace("2027-01-10T02:00:00Z", "0001-01-01T00:00:00+01:00"),
         (7, "window-start")),
    Case("integer-5000-digits", _replace("serial: 1}", "serial: " + "9" * 5000 + "}"),
         (9, "yaml-value")),
    Case("binary-in-vars", _replace("vars: {actions: [rotate]}", "vars: {blob: !!binary aGk=}"),
         (13, "yaml-value")),
    Case("recurrence-secondly", RECURRING.replace("FREQ=WEEKLY;BYDAY=SU", "FREQ=SECONDLY")
         .encode(), (8, "recurrence-rrule")),
    Case("recurrence-minutely", RECURRING.replace("FREQ=WEEKLY;BYDAY=SU", "FREQ=MINUTELY")
         .encode(), (8, "recurrence-rrule")),
    Case("recurrence-bad-zone", RECURRING.replace("start: '02:00'}", "start: '02:00', "
         "tz: Mars/Olympus}").encode(), (8, "recurrence-tz")),
    Case("id-trailing-newline", _replace("id: MNT-2027-0001", 'id: "MNT-2027-0001\\n"'),
         (2, "id-pattern")),
    Case("id-arabic-indic-digits", _replace("id: MNT-2027-0001", "id: MNT-٢٠٢٧-0001"),
         (2, "id-pattern")),
    Case("id-full-width-digits", _replace("id: MNT-2027-0001", "id: MNT-２０２７-0001"),
         (2, "id-pattern")),
    Case("approval-bare-date", _replace("at: 2026-10-20T10:00:00Z", "at: 2026-10-20"),
         (8, "approval-at")),
    Case("approval-impossible-time", _replace("at: 2026-10-20T10:00:00Z",
         "at: 9999-99-99T99:99:99Z"), (8, "approval-at")),
    Case("serial-150-percent", _replace("serial: 1}", 'serial: "150%"}'), (9, "schema-oneOf")),
    Case("serial-percent-newline", _replace("serial: 1}", 'serial: "50%\\n"}'),
         (9, "schema-oneOf")),
    Case("control-character", _replace("title: Rotate the logs", "title: Rotate\x01 the logs"),
         (3, "yaml-encoding")),
    Case("unterminated-quote", _replace("title: Rotate the logs", 'title: "Rotate the logs'),
         (3, "yaml-syntax")),
    Case("alias-bomb-in-vars", _replace("    vars: {actions: [rotate]}\n",
         "    vars:\n      a: &a [x, x, x, x, x, x, x, x, x, x]\n" + BOMB), (18, "yaml-too-large")),
    Case("recursive-alias", _replace("vars: {actions: [rotate]}", "vars: {loop: &r [*r]}"),
         (13, "yaml-alias")),
    Case("dashes-only", b"---\n", (1, "yaml-empty")),
    Case("nesting-100k", ("a: " + "[" * 100_000 + "]" * 100_000 + "\n").encode(),
         (1, "yaml-too-deep")),
    Case("nul-byte", _replace("owner: sre-team", "owner: sre\x00team"), (4, "yaml-encoding")),
    Case("over-1-mib", BASE.encode() + b"#" * (1024 * 1024), (1, "file-too-large")),
    Case("latin-1", _replace("Rotate the logs", "Rotate the café logs").replace(
        "café".encode(), b"caf\xe9"), (3, "yaml-encoding")),
    Case("huge-string", _replace("title: Rotate the logs", "title: " + "x" * 900_000),
         (3, "schema-maxLength")),
    Case("list-of-100k-steps", (BASE + "".join(
        f"  - {{name: s{i}, wait: 1}}\n" for i in range(36_000))).encode(),
         (10, "yaml-too-large")),
    Case("valid", BASE.encode(), None),
    Case("valid-recurring", RECURRING.encode(), None),
]

GOOD_CONFIG = "channels:\n  outbox: {type: outbox, path: .maintbook/outbox}\n"

CONFIG_CASES = [
    Case("config-unknown-zone", (GOOD_CONFIG + "policy:\n  windows:\n    primary: {rrule: "
         "'FREQ=WEEKLY;BYDAY=SU', start: '02:00', duration: 4h, tz: Mars/Olympus}\n").encode(),
         (5, "config-tz")),
    Case("config-huge-notice", (GOOD_CONFIG + "policy:\n  types:\n    zero-downtime: "
         "{notice: 99999999999d}\n").encode(), (5, "config-duration")),
    Case("config-secondly-window", (GOOD_CONFIG + "policy:\n  windows:\n    primary: {rrule: "
         "'FREQ=SECONDLY', start: '02:00', duration: 4h}\n").encode(), (5, "config-rrule")),
    Case("config-minutely-blackout", (GOOD_CONFIG + "policy:\n  blackouts:\n    - {name: b, "
         "rrule: 'FREQ=MINUTELY', duration: 1h}\n").encode(), (5, "config-rrule")),
    Case("config-dev-zero", (GOOD_CONFIG + "calendars:\n  - {name: z, ics: /dev/zero}\n")
         .encode(), (4, "config-calendar")),
    Case("config-unknown-country", (GOOD_CONFIG + "policy:\n  blackouts:\n    - {name: h, "
         "holidays: XX}\n").encode(), (5, "config-holidays")),
    Case("config-unknown-subdivision", (GOOD_CONFIG + "policy:\n  blackouts:\n    - {name: h, "
         "holidays: US, subdivision: ZZ}\n").encode(), (5, "config-holidays")),
    Case("config-bad-rrule", (GOOD_CONFIG + "policy:\n  windows:\n    primary: {rrule: "
         "'FREQ=FORTNIGHTLY', start: '02:00', duration: 4h}\n").encode(), (5, "config-rrule")),
    Case("config-window-2739000d", (GOOD_CONFIG + "policy:\n  windows:\n    primary: {rrule: "
         "'FREQ=WEEKLY;BYDAY=SU', start: '02:00', duration: 2739000d}\n").encode(),
         (5, "config-duration")),
    Case("config-blackout-year-9999", (GOOD_CONFIG + "policy:\n  blackouts:\n    - {name: b, "
         "from: '9999-01-01T00:00:00Z', to: '9999-12-31T00:00:00Z'}\n").encode(),
         (5, "config-blackout")),
    Case("config-blackout-mixed", (GOOD_CONFIG + "policy:\n  blackouts:\n    - {name: b, "
         "from: '12-15', to: '2027-01-02T00:00:00Z'}\n").encode(), (5, "config-blackout")),
    Case("config-undefined-window", (GOOD_CONFIG + "policy:\n  types:\n    planned-outage: "
         "{windows: [primry]}\n").encode(), (5, "config-window-name")),
]
