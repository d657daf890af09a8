"""A local Statuspage API v1 that checks every request against Atlassian's OpenAPI document.

Each request is matched to a path template and method of ``statuspage-openapi.json``; its query
parameters and JSON body are validated (OpenAPI 3.0 schemas turned into JSON Schema: ``$ref``
inlined, ``nullable`` honoured, unknown properties refused). Anything off the contract is
recorded in ``violations`` and answered 400/404/405. Valid incident and component calls are
served from in-memory state, the way the API documents them.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jsonschema

PREFIX = "/v1"


# ---------------------------------------------------------------- OpenAPI -> JSON Schema


def to_json_schema(node: Any, root: dict[str, Any], depth: int = 0) -> Any:
    """Inline ``$ref``, map ``nullable``, close objects that list their properties."""
    if depth > 40:
        return {}
    if isinstance(node, list):
        return [to_json_schema(n, root, depth + 1) for n in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target: Any = root
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        return to_json_schema(target, root, depth + 1)
    out = {
        k: to_json_schema(v, root, depth + 1)
        for k, v in node.items()
        if not k.startswith("x-") and k not in ("example", "nullable", "description")
    }
    if node.get("nullable"):
        if "type" in out:
            out["type"] = [out["type"], "null"]
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
    if out.get("type") == "object" and "properties" in out:
        if str(node.get("description", "")).startswith("Map of"):
            # a map keyed by ids; the document shows one example id as a property
            value_schema = next(iter(out.pop("properties").values()))
            out["additionalProperties"] = value_schema
        else:
            out.setdefault("additionalProperties", False)
    return out


FORMATS = jsonschema.FormatChecker()


@FORMATS.checks("date-time", raises=ValueError)
def _date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment.tzinfo is not None


@dataclass(frozen=True)
class Operation:
    template: str
    method: str
    params: dict[str, dict[str, Any]]
    body_schema: dict[str, Any] | None
    body_required: bool


class Contract:
    """Path templates, methods and request schemas of the OpenAPI document."""

    def __init__(self, path: Path) -> None:
        self.doc: dict[str, Any] = json.loads(path.read_text())
        self.routes: list[tuple[re.Pattern[str], str, int]] = []
        for template in self.doc["paths"]:
            pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
            literal = len(re.sub(r"\{[^}]+\}", "", template))
            self.routes.append((re.compile(f"^{pattern}$"), template, literal))

    def match(self, path: str) -> str | None:
        found = [(lit, t) for rx, t, lit in self.routes if rx.match(path)]
        return max(found)[1] if found else None

    def operation(self, template: str, method: str) -> Operation | None:
        item = self.doc["paths"][template]
        op = item.get(method.lower())
        if op is None:
            return None
        params = {p["name"]: p for p in item.get("parameters", []) + op.get("parameters", [])}
        body = op.get("requestBody") or {}
        schema = body.get("content", {}).get("application/json", {}).get("schema")
        converted = to_json_schema(schema, self.doc) if schema else None
        return Operation(template, method, params, converted, bool(body.get("required")))

    def check(
        self, method: str, path: str, query: dict[str, list[str]], body: bytes, content_type: str
    ) -> tuple[int, list[str], Operation | None]:
        template = self.match(path)
        if template is None:
            return 404, [f"{method} {path}: no such path in the contract"], None
        op = self.operation(template, method)
        if op is None:
            return 405, [f"{method} {template}: method not in the contract"], None
        problems = [
            f"{method} {template}: query parameter {name!r} not in the contract"
            for name in query
            if op.params.get(name, {}).get("in") != "query"
        ]
        problems += self._query_types(op, query)
        problems += self._body(op, body, content_type)
        return (400 if problems else 200), problems, op

    def _query_types(self, op: Operation, query: dict[str, list[str]]) -> list[str]:
        problems = []
        for name, values in query.items():
            schema = op.params.get(name, {}).get("schema", {})
            if schema.get("type") == "integer" and not all(v.lstrip("-").isdigit() for v in values):
                problems.append(
                    f"{op.method} {op.template}: query {name}={values} is not an integer"
                )
        return problems

    def _body(self, op: Operation, body: bytes, content_type: str) -> list[str]:
        where = f"{op.method} {op.template}"
        if op.body_schema is None:
            return [f"{where}: the contract defines no request body"] if body.strip() else []
        if not body.strip():
            return [f"{where}: request body required"] if op.body_required else []
        if not content_type.startswith("application/json"):
            return [f"{where}: Content-Type {content_type!r} is not application/json"]
        try:
            data = json.loads(body)
        except ValueError as exc:
            return [f"{where}: body is not JSON: {exc}"]
        validator = jsonschema.Draft7Validator(op.body_schema, format_checker=FORMATS)
        return [
            f"{where}: body {'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
            for e in validator.iter_errors(data)
        ]


# ---------------------------------------------------------------- state


def now_iso() -> str:
    return api_time(datetime.now(UTC).isoformat())


def api_time(value: str | None) -> str | None:
    """A time as the API answers it, whatever form it was sent in: UTC with milliseconds, as
    the document's examples show (`2013-05-07T03:00:00.007Z`)."""
    if value is None:
        return None
    moment = datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass
class Fault:
    method: str
    path_regex: str
    status: int
    times: int  # -1: always
    retry_after: str | None = None  # the Retry-After header of the answer
    body: Any = None  # the answer's JSON (default: {"error": "injected <status>"})


@dataclass
class State:
    api_key: str
    page_id: str
    components: dict[str, dict[str, Any]]
    incidents: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fault_for(self, method: str, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.method == method and re.search(fault.path_regex, path) and fault.times != 0:
                fault.times -= 1 if fault.times > 0 else 0
                return fault
        return None

    def apply_components(self, incident: dict[str, Any], data: dict[str, Any]) -> str | None:
        statuses: dict[str, str] = data.get("components") or {}
        ids = list(dict.fromkeys([*data.get("component_ids", []), *statuses]))
        unknown = [i for i in ids if i not in self.components]
        if unknown:
            return f"unknown component ids {unknown}"
        for cid, status in statuses.items():
            self.components[cid].update(status=status, updated_at=now_iso())
        known = {c["id"] for c in incident["components"]}
        incident["components"].extend({"id": i} for i in ids if i not in known)
        incident["components"] = [dict(self.components[c["id"]]) for c in incident["components"]]
        return None

    def add_update(self, incident: dict[str, Any], body: str | None) -> None:
        stamp = now_iso()
        incident["incident_updates"].insert(
            0,
            {
                "id": secrets.token_hex(6),
                "incident_id": incident["id"],
                "status": incident["status"],
                "body": body or "",
                "created_at": stamp,
                "updated_at": stamp,
                "display_at": stamp,
                "affected_components": [
                    {"code": c["id"], "name": c["name"], "new_status": c["status"]}
                    for c in incident["components"]
                ],
            },
        )

    def create(self, data: dict[str, Any]) -> tuple[int, Any]:
        stamp = now_iso()
        status = data.get("status") or (
            "scheduled" if data.get("scheduled_for") else "investigating"
        )
        incident = {
            "id": secrets.token_hex(6),
            "page_id": self.page_id,
            "name": data["name"],
            "status": status,
            "created_at": stamp,
            "updated_at": stamp,
            "impact": data.get("impact_override", "none"),
            "metadata": data.get("metadata") or {},
            "scheduled_for": api_time(data.get("scheduled_for")),
            "scheduled_until": api_time(data.get("scheduled_until")),
            "shortlink": "http://stspg.io/test",
            "components": [],
            "incident_updates": [],
        }
        problem = self.apply_components(incident, data)
        if problem:
            return 422, {"error": problem}
        self.add_update(incident, data.get("body"))
        self.incidents[incident["id"]] = incident
        return 201, incident

    def update(self, incident_id: str, data: dict[str, Any]) -> tuple[int, Any]:
        incident = self.incidents.get(incident_id)
        if incident is None:
            return 404, {"error": "The requested resource could not be found."}
        before = incident["status"]
        for key in ("name", "status", "impact_override"):
            if key in data:
                incident[key] = data[key]
        for key in ("scheduled_for", "scheduled_until"):
            if key in data:
                incident[key] = api_time(data[key])
        if "metadata" in data:
            incident["metadata"] = data["metadata"]
        problem = self.apply_components(incident, data)
        if problem:
            return 422, {"error": problem}
        if incident["status"] != before or data.get("body"):
            self.add_update(incident, data.get("body"))
        if incident["status"] in ("resolved", "completed"):
            incident["resolved_at"] = now_iso()
        incident["updated_at"] = now_iso()
        return 200, incident


def page_slice(items: list[Any], query: dict[str, list[str]], size_name: str) -> list[Any]:
    size = min(int(query.get(size_name, ["100"])[0]), 100)
    number = max(int(query.get("page", ["1"])[0]), 1)
    return items[(number - 1) * size : number * size]


# ---------------------------------------------------------------- HTTP


def make_handler(contract: Contract, state: State) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            return

        extra_headers: dict[str, str]

        def _answer(self, status: int, payload: Any) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            for name, value in self.extra_headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _handle(self) -> None:
            self.extra_headers = {}
            url = urlsplit(self.path)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            query = parse_qs(url.query, keep_blank_values=True)
            with state.lock:
                state.requests.append(
                    {
                        "method": self.command,
                        "path": url.path,
                        "query": query,
                        "body": json.loads(body) if body.strip() else None,
                        "authorization": self.headers.get("Authorization"),
                    }
                )
                status, payload = self._route(url.path, query, body)
            self._answer(status, payload)

        def _route(self, path: str, query: dict[str, list[str]], body: bytes) -> tuple[int, Any]:
            if not path.startswith(PREFIX):
                state.violations.append(f"{self.command} {path}: not under {PREFIX}")
                return 404, {"error": "not found"}
            path = path[len(PREFIX) :]
            code, problems, op = contract.check(
                self.command, path, query, body, self.headers.get("Content-Type") or ""
            )
            if problems or op is None:
                state.violations.extend(problems)
                return code, {"error": "; ".join(problems)}
            if self.headers.get("Authorization") != f"OAuth {state.api_key}":
                return 401, {"error": "Could not authenticate"}
            fault = state.fault_for(self.command, path)
            if fault:
                if fault.retry_after is not None:
                    self.extra_headers["Retry-After"] = fault.retry_after
                body = fault.body if fault.body is not None else {
                    "error": f"injected {fault.status}"}
                return fault.status, body
            return self._serve(op, path, query, json.loads(body) if body.strip() else {})

        def _serve(
            self, op: Operation, path: str, query: dict[str, list[str]], data: dict[str, Any]
        ) -> tuple[int, Any]:
            parts = path.strip("/").split("/")
            if parts[1] != state.page_id:
                return 404, {"error": "The requested resource could not be found."}
            key = (op.method, op.template)
            if key == ("GET", "/pages/{page_id}/components"):
                return 200, page_slice(list(state.components.values()), query, "per_page")
            if key == ("GET", "/pages/{page_id}/incidents"):
                newest = sorted(
                    state.incidents.values(), key=lambda i: i["created_at"], reverse=True
                )
                return 200, page_slice(newest, query, "limit")
            if key == ("POST", "/pages/{page_id}/incidents"):
                return state.create(data["incident"])
            if key == ("PATCH", "/pages/{page_id}/incidents/{incident_id}"):
                return state.update(parts[3], data.get("incident", {}))
            if key == ("GET", "/pages/{page_id}/incidents/{incident_id}"):
                found = state.incidents.get(parts[3])
                return (200, found) if found else (404, {"error": "not found"})
            state.violations.append(
                f"{op.method} {op.template}: valid but not served by the test server"
            )
            return 501, {"error": "not implemented by the test server"}

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _handle  # noqa: N815

    return Handler


@contextmanager
def statuspage_server(
    contract_path: Path, api_key: str, page_id: str, components: dict[str, str]
) -> Iterator[tuple[str, State]]:
    """Serve on a free loopback port; yield (base_url, state). ``components``: name -> id."""
    stamp = now_iso()
    state = State(
        api_key,
        page_id,
        {
            cid: {
                "id": cid,
                "page_id": page_id,
                "name": name,
                "status": "operational",
                "created_at": stamp,
                "updated_at": stamp,
                "group": False,
                "position": n,
            }
            for n, (name, cid) in enumerate(components.items(), 1)
        },
    )
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(Contract(contract_path), state))
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}{PREFIX}", state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
