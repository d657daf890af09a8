"""Fixtures of the policy and calendar tests."""

from __future__ import annotations

import pytest

from maintbook.config import Policy, default_config


@pytest.fixture
def policy() -> Policy:
    return default_config().policy
