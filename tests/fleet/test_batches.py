"""The pieces of batch progress and the tuned transport, without hosts: how many batches
Ansible makes, the words, the status-page rule, forks."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from ansible.inventory.manager import InventoryManager
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template
from ansible.utils.helpers import pct_to_int
from ansible.vars.manager import VariableManager

from maintbook import expressions as x
from maintbook.lifecycle import batch_progress
from maintbook.model import Step
from maintbook.plugins.notice import with_batch
from maintbook.runner import batch_forks
from maintbook.statuspage.model import Change, transition
from maintbook.tasks import needs_facts


def _render(expression: str, hosts: int, tmp_path: Path, **variables: object) -> str:
    """`expression` as Ansible's own templar renders it in a play over h0..h{hosts-1}."""
    source = tmp_path / "inventory.ini"
    source.write_text("[web]\n" + "".join(f"h{i}\n" for i in range(hosts)))
    loader = DataLoader()
    inventory = InventoryManager(loader=loader, sources=[str(source)])
    known = VariableManager(loader=loader, inventory=inventory).get_vars()
    known.update(ansible_play_hosts_all=[f"h{i}" for i in range(hosts)], **variables)
    return str(Templar(loader=loader, variables=known).template(trust_as_template(expression)))


@pytest.mark.parametrize("serial", [1, 3, 5, 10, 25, "10%", "25%", "30%", "50%", "1%", "100%"])
@pytest.mark.parametrize("hosts", [1, 2, 7, 20, 50])
def test_batch_total_is_the_number_of_batches_ansible_makes(serial, hosts, tmp_path):
    size = pct_to_int(serial, hosts)
    expected = math.ceil(hosts / size)
    assert int(_render(x.batch_total(serial), hosts, tmp_path)) == expected


@pytest.mark.parametrize(("serial", "limit", "expected"), [
    (5, "h1", 1), (5, "h1,h12", 2), (5, "h1:h2:h3:h4:h5", 2), (5, "h19", 1),
    ("25%", "h0,h5,h10,h15", 4), ("50%", "h3:h4", 1), (1, "h3:h4:h9", 3),
])
def test_with_a_limit_only_batches_holding_a_limited_host_count(serial, limit, expected,
                                                                 tmp_path):
    """`--limit` skips the batches without a limited host: the page says "of 2", not "of 4"."""
    assert int(_render(x.batch_total(serial), 20, tmp_path, maintbook_limit=limit)) == expected


def test_batch_words():
    assert batch_progress({"number": 2, "total": 4}) == "batch 2 of 4"
    assert batch_progress(None) == ""
    assert with_batch({"number": 2, "total": 4}, "Step 1 of 2 done: Install") == \
        "Batch 2 of 4: Step 1 of 2 done: Install"
    assert with_batch(None, "Step 1 of 2 done") == "Step 1 of 2 done"


def _change(status: str, body: str) -> Change:
    return Change(status, body, scheduled_for="2026-12-06T02:00:00Z",
                  scheduled_until="2026-12-06T04:00:00Z")


def test_an_active_entry_takes_new_words_once_and_a_repeat_adds_nothing():
    entry = transition(None, "M", _change("in_progress", "Maintenance is in progress."), "t1")
    batch = _change("in_progress", "Maintenance is in progress: batch 2 of 4.")
    after = transition(entry, "M", batch, "t2")
    assert [u["body"] for u in after["updates"]] == [
        "Maintenance is in progress.", "Maintenance is in progress: batch 2 of 4."]
    assert transition(after, "M", batch, "t3") == after
    closed = transition(after, "M", _change("completed", "Done."), "t4")
    assert transition(closed, "M", _change("completed", "Other words."), "t5") == closed


@pytest.mark.parametrize(("serial", "forks"), [(None, None), (1, 5), (10, 10), (200, 50),
                                               ("25%", 50), ("100%", 50)])
def test_forks_cover_a_whole_batch(serial, forks):
    assert batch_forks(serial) == forks


def test_a_play_gathers_facts_only_when_a_step_reads_them():
    plain = Step("Patch", "command", "apt-get -y upgrade", 1)
    assert not needs_facts(plain)
    assert needs_facts(Step("Patch", "command", "true", 1, when="ansible_os_family == 'Debian'"))
    assert needs_facts(Step("Role", "role", "x", 1, vars={"v": "{{ ansible_facts.hostname }}"}))
    undo = Step("Undo", "shell", "echo {{ ansible_date_time.iso8601 }}", 2)
    assert needs_facts(Step("Patch", "command", "true", 1, rollback=(undo,)))
    assert not needs_facts(Step("Probe", "http", {"url": "http://{{ ansible_host }}/"}, 1))
