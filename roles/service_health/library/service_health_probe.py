#!/usr/bin/python
# -*- coding: utf-8 -*-
"""Probe HTTP, TCP and TLS endpoints and measure their latency."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: service_health_probe
short_description: Probe HTTP, TCP and TLS endpoints, measure latency, compare with a baseline
description:
  - Runs every check, collects every failure, then fails once with a message that names each
    failing check, what was expected and what was measured.
  - Never changes anything; supports check mode.
options:
  http:
    description: HTTP checks; each has C(url), optional C(method) (GET), C(status) (200),
      C(contains), C(max_latency_ms), C(timeout) (seconds, 10), C(validate_certs) (true).
    type: list
    elements: dict
    default: []
  tcp:
    description: TCP checks; each has C(host), C(port), optional C(timeout) (seconds, 5).
    type: list
    elements: dict
    default: []
  tls:
    description: TLS certificate checks; each has C(host), C(port) (443), optional C(min_days) (14),
      C(server_name) (the host), C(timeout) (seconds, 5). The certificate is not verified, only its expiry.
    type: list
    elements: dict
    default: []
  baseline:
    description: Latencies in milliseconds by check id, from a previous C(baseline) run; when given,
      a check fails if its latency exceeds C(max_regression) times the baseline plus C(regression_slack_ms).
    type: dict
  max_regression:
    description: Allowed latency factor over the baseline.
    type: float
    default: 1.5
  regression_slack_ms:
    description: Milliseconds always allowed on top of the factor, so that tiny loopback latencies do not flap.
    type: float
    default: 20
author: maintbook
"""

EXAMPLES = r"""
- name: Check that the API is up, fast and its certificate valid
  service_health_probe:
    http:
      - {url: "http://127.0.0.1:8080/health", status: 200, contains: ok, max_latency_ms: 500}
    tcp:
      - {host: 127.0.0.1, port: 5432}
    tls:
      - {host: api.example.com, port: 443, min_days: 14}
"""

RETURN = r"""
results:
  description: One entry per check with C(id), C(kind), C(ok), C(latency_ms) and C(message).
  returned: always
  type: list
  elements: dict
latencies:
  description: Latency in milliseconds by check id (failed checks excluded).
  returned: always
  type: dict
failures:
  description: The message of every failing check.
  returned: always
  type: list
  elements: str
"""

import datetime
import socket
import ssl
import time
import urllib.error
import urllib.request

from ansible.module_utils.basic import AnsibleModule


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _ms(start):
    return round((time.monotonic() - start) * 1000, 1)


def check_http(spec):
    url = spec["url"]
    method = spec.get("method", "GET").upper()
    expected = int(spec.get("status", 200))
    check_id = url if method == "GET" else "%s %s" % (method, url)
    handlers = [_NoRedirect()]
    if not spec.get("validate_certs", True):
        handlers.append(urllib.request.HTTPSHandler(context=ssl._create_unverified_context()))
    opener = urllib.request.build_opener(*handlers)
    request = urllib.request.Request(url, method=method)
    start = time.monotonic()
    try:
        try:
            response = opener.open(request, timeout=float(spec.get("timeout", 10)))
        except urllib.error.HTTPError as error:
            response = error
        status, body = response.status if hasattr(response, "status") else response.code, response.read()
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        return _result(check_id, "http", None, "%s could not be reached: %s" % (check_id, reason))
    latency = _ms(start)
    text = body.decode("utf-8", "replace")
    if status != expected:
        return _result(check_id, "http", latency, "%s answered %s, expected %s" % (check_id, status, expected))
    contains = spec.get("contains")
    if contains and contains not in text:
        return _result(check_id, "http", latency, "%s answered without %r in its body" % (check_id, contains))
    limit = spec.get("max_latency_ms")
    if limit is not None and latency > float(limit):
        return _result(check_id, "http", latency, "%s took %d ms, limit %d ms" % (check_id, latency, float(limit)))
    return _result(check_id, "http", latency, None)


def check_tcp(spec):
    host, port = spec["host"], int(spec["port"])
    check_id = "tcp://%s:%s" % (host, port)
    timeout = float(spec.get("timeout", 5))
    start = time.monotonic()
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as error:
        reason = error.strerror or str(error)
        return _result(check_id, "tcp", None, "%s did not accept a connection within %g s: %s" % (check_id, timeout, reason))
    return _result(check_id, "tcp", _ms(start), None)


def _not_after(module, der):
    pem = ssl.DER_cert_to_PEM_cert(der)
    rc, out, err = module.run_command(["openssl", "x509", "-noout", "-enddate"], data=pem)
    if rc != 0:
        raise ValueError("openssl could not read the certificate: %s" % err.strip())
    value = out.strip().split("=", 1)[1]
    return datetime.datetime.fromtimestamp(ssl.cert_time_to_seconds(value), datetime.timezone.utc)


def check_tls(module, spec):
    host, port = spec["host"], int(spec.get("port", 443))
    check_id = "tls://%s:%s" % (host, port)
    min_days = int(spec.get("min_days", 14))
    context = ssl._create_unverified_context()
    start = time.monotonic()
    try:
        with socket.create_connection((host, port), timeout=float(spec.get("timeout", 5))) as raw:
            with context.wrap_socket(raw, server_hostname=spec.get("server_name", host)) as tls:
                der = tls.getpeercert(binary_form=True)
        latency = _ms(start)
        not_after = _not_after(module, der)
    except (OSError, ValueError) as error:
        return _result(check_id, "tls", None, "%s TLS handshake failed: %s" % (check_id, error))
    now = datetime.datetime.now(datetime.timezone.utc)
    days = (not_after - now).total_seconds() / 86400
    result = _result(check_id, "tls", latency, None)
    result["not_after"] = not_after.strftime("%Y-%m-%dT%H:%M:%SZ")
    result["days_left"] = int(days)
    if days < min_days:
        result["ok"] = False
        result["message"] = "%s certificate expires in %d days (%s), expected at least %d days" % (
            check_id, int(days), result["not_after"], min_days)
    return result


def _result(check_id, kind, latency, failure):
    return {"id": check_id, "kind": kind, "ok": failure is None, "latency_ms": latency, "message": failure or "ok"}


def compare(result, baseline, factor, slack):
    before = baseline.get(result["id"])
    if not result["ok"] or before is None:
        return
    allowed = float(before) * factor + slack
    if result["latency_ms"] > allowed:
        result["ok"] = False
        result["message"] = "%s took %d ms, baseline %d ms allows at most %d ms (x%g + %d ms)" % (
            result["id"], result["latency_ms"], float(before), allowed, factor, slack)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            http=dict(type="list", elements="dict", default=[]),
            tcp=dict(type="list", elements="dict", default=[]),
            tls=dict(type="list", elements="dict", default=[]),
            baseline=dict(type="dict"),
            max_regression=dict(type="float", default=1.5),
            regression_slack_ms=dict(type="float", default=20),
        ),
        supports_check_mode=True,
    )
    params = module.params
    for spec in params["http"]:
        if "url" not in spec:
            module.fail_json(msg="every http check needs a url, got %r" % (spec,))
    for kind in ("tcp", "tls"):
        for spec in params[kind]:
            if "host" not in spec or (kind == "tcp" and "port" not in spec):
                module.fail_json(msg="every %s check needs a host%s, got %r" % (kind, " and a port" if kind == "tcp" else "", spec))
    results = [check_http(spec) for spec in params["http"]]
    results += [check_tcp(spec) for spec in params["tcp"]]
    results += [check_tls(module, spec) for spec in params["tls"]]
    if params["baseline"] is not None:
        for result in results:
            compare(result, params["baseline"], params["max_regression"], params["regression_slack_ms"])
    failures = [r["message"] for r in results if not r["ok"]]
    latencies = dict((r["id"], r["latency_ms"]) for r in results if r["ok"] and r["latency_ms"] is not None)
    outcome = dict(changed=False, results=results, latencies=latencies, failures=failures)
    if failures:
        module.fail_json(msg="; ".join(failures), **outcome)
    module.exit_json(**outcome)


if __name__ == "__main__":
    main()
