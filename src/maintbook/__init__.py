"""maintbook: declarative maintenance runbooks, validated, compiled to Ansible, and run."""

__version__ = "0.1.0"
