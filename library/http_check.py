#!/usr/bin/python
"""Ansible module http_check: request a URL and check status, body and latency."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: http_check
short_description: Check an HTTP endpoint's status, body and latency
description:
  - Requests a URL once and fails with a message naming the URL, what was expected and what
    was measured when the status, the body or the latency is wrong.
  - Read-only; runs in check mode too.
version_added: "0.1.0"
author: maintbook developers
options:
  url:
    description: The URL to request.
    type: str
    required: true
  method:
    description: HTTP method.
    type: str
    default: GET
  status:
    description: Status codes that count as success.
    type: list
    elements: int
    default: [200]
  contains:
    description: Text the response body must contain.
    type: str
  max_latency_ms:
    description: Fail when the complete answer takes longer than this many milliseconds.
    type: int
  timeout:
    description: Socket timeout in seconds.
    type: int
    default: 30
  validate_certs:
    description: Verify TLS certificates.
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: API healthy and fast
  http_check:
    url: http://127.0.0.1:4000/health
    status: [200]
    contains: ok
    max_latency_ms: 500
"""

RETURN = r"""
status:
  description: The HTTP status received (-1 when no answer came).
  returned: always
  type: int
  sample: 200
elapsed_ms:
  description: Time to the complete answer, in milliseconds.
  returned: always
  type: int
  sample: 12
"""

import time

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.urls import fetch_url


def check(module, fetch=fetch_url):
    """Request the URL; return (result, problem message or None)."""
    params = module.params
    started = time.monotonic()
    response, info = fetch(
        module, params["url"], method=params["method"], timeout=params["timeout"]
    )
    body = response.read() if response is not None else info.get("body", b"")
    elapsed = int((time.monotonic() - started) * 1000)
    status = int(info.get("status", -1))
    result = dict(changed=False, status=status, elapsed_ms=elapsed, url=params["url"])
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body or "")
    expected = " or ".join(str(s) for s in params["status"])
    if status not in params["status"]:
        answer = f"answered {status}" if status > 0 else f"did not answer ({info.get('msg')})"
        return result, f"{params['url']} {answer}, expected {expected}"
    if params["contains"] is not None and params["contains"] not in text:
        return result, f"{params['url']} answered without {params['contains']!r} in its body"
    limit = params["max_latency_ms"]
    if limit is not None and elapsed > limit:
        return result, f"{params['url']} took {elapsed} ms, limit {limit} ms"
    return result, None


def main():
    module = AnsibleModule(
        argument_spec=dict(
            url=dict(type="str", required=True),
            method=dict(type="str", default="GET"),
            status=dict(type="list", elements="int", default=[200]),
            contains=dict(type="str"),
            max_latency_ms=dict(type="int"),
            timeout=dict(type="int", default=30),
            validate_certs=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    result, problem = check(module)
    if problem:
        module.fail_json(msg=problem, **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
