"""`maintbook tick` on a simulated clock: each notice of the timeline goes out once, in order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.run.conftest import iso

pytestmark = pytest.mark.integration
START = datetime(2026, 12, 6, 2, 0, tzinfo=UTC)


def test_tick_walks_a_planned_outage_from_eight_days_before_to_completion(
    project, maintbook, tmp_path
):
    canary = tmp_path / "canary"
    title = f"Database {{{{ lookup('pipe', 'touch {canary}') }}}} upgrade"
    project.runbook(
        type="planned-outage",
        title=title,
        window={"start": iso(START), "duration": "2h"},
        approvals=[{"role": "vp-engineering", "by": "bob"}],
    )
    clock = [
        START - timedelta(days=8),
        START - timedelta(days=7) + timedelta(minutes=1),
        START - timedelta(days=5),
        START - timedelta(days=3) + timedelta(minutes=2),
        START - timedelta(days=3) + timedelta(minutes=7),
        START - timedelta(hours=2),
        START + timedelta(minutes=1),
        START + timedelta(hours=2, minutes=1),
        START + timedelta(hours=5),
    ]
    seen = []
    for moment in clock:
        result = maintbook("tick", "--now", iso(moment))
        assert result.exit_code == 0, result.output
        seen.append(result.output.split())
    # No tick ran at -24h: that reminder goes out late, once, at the next tick (-2h).
    assert [n["notice"] for n in project.outbox()] == [
        "announce",
        "reminder",
        "reminder",
        "start",
        "complete",
    ]
    assert all(title in n["subject"] for n in project.outbox())
    assert not canary.exists()
    assert seen[0] == [] and seen[2] == [] and seen[4] == [] and seen[-1] == []
    assert seen[1] == ["MNT-2026-0101", "announce", "->", "outbox:", "sent"]
    assert seen[5] == ["MNT-2026-0101", "reminder", "->", "outbox:", "sent"]
