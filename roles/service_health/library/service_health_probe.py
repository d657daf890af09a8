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
      C(contains), C(max_latency_ms), C(timeout) (seconds, 10), C(validate_certs) (true),
      C(ca_file) (default the module's I(ca_file)).
    type: list
    elements: dict
    default: []
  tcp:
    description: TCP checks; each has C(host), C(port), optional C(timeout) (seconds, 5).
    type: list
    elements: dict
    default: []
  tls:
    description:
      - TLS certificate checks; each has C(host), C(port) (443), optional C(min_days) (14),
        C(server_name) (the host), C(timeout) (seconds, 5), C(verify) (true) and C(ca_file)
        (default the module's I(ca_file)).
      - The certificate must chain to a trusted CA (I(ca_file), else the system store) and be
        issued for C(server_name) (a DNS name or an IP address, matched as a TLS client does),
        and must stay valid for C(min_days) more days.
      - With C(verify=false) only the expiry is checked.
    type: list
    elements: dict
    default: []
  baseline:
    description: Latencies in milliseconds by check id, from a previous C(baseline) run; when given,
      a check fails if its latency exceeds C(max_regression) times the baseline plus C(regression_slack_ms).
    type: dict
  ca_file:
    description: PEM bundle of the CAs trusted for TLS checks and https URLs, instead of the system store.
    type: path
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

- name: Check an internal service whose certificate an internal CA issued
  service_health_probe:
    ca_file: /etc/ssl/internal-ca.pem
    tls:
      - {host: 10.0.0.7, port: 8443, server_name: billing.internal, min_days: 30}
"""

RETURN = r"""
results:
  description: >-
    One entry per check with C(id), C(kind), C(ok), C(latency_ms) and C(message); a TLS check
    that completed its handshake adds C(not_after), C(days_left), C(verified), C(subject),
    C(issuer) and C(names).
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


def check_http(spec, ca_file):
    url = spec["url"]
    method = spec.get("method", "GET").upper()
    expected = int(spec.get("status", 200))
    check_id = url if method == "GET" else "%s %s" % (method, url)
    handlers = [_NoRedirect()]
    trust = spec.get("ca_file") or ca_file
    if not spec.get("validate_certs", True):
        handlers.append(urllib.request.HTTPSHandler(context=ssl._create_unverified_context()))
    elif trust:
        try:
            handlers.append(urllib.request.HTTPSHandler(context=_verifying_context(trust)))
        except (OSError, ssl.SSLError) as error:
            return _result(check_id, "http", None, "%s cannot be checked: CA bundle %s: %s" % (check_id, trust, error))
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


def _certificate(module, der):
    """Read the end date, subject, issuer and alternative names of a DER certificate."""
    rc, out, err = module.run_command(
        ["openssl", "x509", "-noout", "-enddate", "-subject", "-issuer", "-ext", "subjectAltName", "-nameopt", "RFC2253"],
        data=ssl.DER_cert_to_PEM_cert(der))
    if rc != 0:
        raise ValueError("openssl could not read the certificate: %s" % err.strip())
    fields, lines = {}, out.splitlines()
    for index, line in enumerate(lines):
        key, sep, value = line.partition("=")
        if sep and key in ("notAfter", "subject", "issuer"):
            fields[key] = value.strip()
        elif line.startswith("X509v3 Subject Alternative Name") and index + 1 < len(lines):
            fields["names"] = lines[index + 1].strip()
    not_after = datetime.datetime.fromtimestamp(ssl.cert_time_to_seconds(fields["notAfter"]), datetime.timezone.utc)
    return dict(not_after=not_after, subject=fields.get("subject", ""), issuer=fields.get("issuer", ""),
                names=fields.get("names", ""))


def _handshake(host, port, server_name, context, timeout):
    with socket.create_connection((host, port), timeout=timeout) as raw:
        with context.wrap_socket(raw, server_hostname=server_name) as tls:
            return tls.getpeercert(binary_form=True)


def _verifying_context(ca_file):
    return ssl.create_default_context(cafile=ca_file or None)


def _hostname_error(host, port, server_name, der, timeout):
    """Check the name alone: trust this very certificate, so only a name mismatch can fail."""
    context = ssl.create_default_context(cadata=ssl.DER_cert_to_PEM_cert(der))
    context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    try:
        _handshake(host, port, server_name, context, timeout)
    except ssl.SSLCertVerificationError as error:
        if error.verify_code in (_HOSTNAME_MISMATCH, _IP_ADDRESS_MISMATCH):
            return error.verify_message
    except OSError:
        pass
    return None


_CERT_HAS_EXPIRED, _HOSTNAME_MISMATCH, _IP_ADDRESS_MISMATCH = 10, 62, 64


def _names(cert):
    if cert["names"]:
        return cert["names"]
    return "%s and no alternative names" % (cert["subject"] or "no subject")


def _days(not_after):
    return (not_after - datetime.datetime.now(datetime.timezone.utc)).total_seconds() / 86400


def _verify_failure(module, spec, check_id, server_name, trust, error):
    """Describe why a certificate did not verify, from the certificate read without verifying."""
    host, port, timeout = spec["host"], int(spec.get("port", 443)), float(spec.get("timeout", 5))
    try:
        der = _handshake(host, port, server_name, ssl._create_unverified_context(), timeout)
        cert = _certificate(module, der)
    except (OSError, ValueError):
        return "%s certificate does not verify: %s" % (check_id, error.verify_message)
    if error.verify_code == _CERT_HAS_EXPIRED:
        return "%s certificate expired on %s (%d days ago), expected at least %d more days" % (
            check_id, cert["not_after"].strftime("%Y-%m-%dT%H:%M:%SZ"), -int(_days(cert["not_after"])),
            int(spec.get("min_days", 14)))
    if error.verify_code in (_HOSTNAME_MISMATCH, _IP_ADDRESS_MISMATCH):
        return "%s certificate is not valid for %s: it names %s" % (check_id, server_name, _names(cert))
    message = "%s certificate does not verify against %s: %s (subject %s, issuer %s)" % (
        check_id, trust or "the system CA store", error.verify_message, cert["subject"], cert["issuer"])
    if _hostname_error(host, port, server_name, der, timeout):
        message += "; nor is it valid for %s: it names %s" % (server_name, _names(cert))
    return message


def check_tls(module, spec, ca_file):
    host, port = spec["host"], int(spec.get("port", 443))
    check_id = "tls://%s:%s" % (host, port)
    min_days = int(spec.get("min_days", 14))
    server_name = spec.get("server_name") or host
    verify = spec.get("verify", True)
    trust = spec.get("ca_file") or ca_file
    try:
        context = _verifying_context(trust) if verify else ssl._create_unverified_context()
    except (OSError, ssl.SSLError) as error:
        return _result(check_id, "tls", None, "%s cannot be checked: CA bundle %s: %s" % (check_id, trust, error))
    start = time.monotonic()
    try:
        der = _handshake(host, port, server_name, context, float(spec.get("timeout", 5)))
        latency = _ms(start)
        cert = _certificate(module, der)
    except ssl.SSLCertVerificationError as error:
        return _result(check_id, "tls", None, _verify_failure(module, spec, check_id, server_name, trust, error))
    except (OSError, ValueError) as error:
        return _result(check_id, "tls", None, "%s TLS handshake failed: %s" % (check_id, error))
    days = _days(cert["not_after"])
    result = _result(check_id, "tls", latency, None)
    result.update(not_after=cert["not_after"].strftime("%Y-%m-%dT%H:%M:%SZ"), days_left=int(days),
                  verified=bool(verify), subject=cert["subject"], issuer=cert["issuer"], names=cert["names"])
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
            ca_file=dict(type="path"),
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
    results = [check_http(spec, params["ca_file"]) for spec in params["http"]]
    results += [check_tcp(spec) for spec in params["tcp"]]
    results += [check_tls(module, spec, params["ca_file"]) for spec in params["tls"]]
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
