"""MkDocs hook: the REST API reference page, rendered from the OpenAPI schema the app itself generates.

``docs/api-reference.md`` holds the marker ``<!-- openapi-reference -->``; at build time it is replaced by the
Markdown that :func:`render` makes from ``manage.py spectacular`` (run with the demo's settings in the Python
that runs MkDocs, which therefore needs the project installed: ``scripts/docs.py`` does that). So the reference
cannot drift from the serializers and views, and a link to an operation or a schema that does not exist fails
the strict build. Nothing is fetched: the schema comes from the source tree.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MARKER = "<!-- openapi-reference -->"
METHODS = ("get", "post", "put", "patch", "delete")

_schema: dict[str, Any] | None = None


def generate_schema() -> dict[str, Any]:
    """The OpenAPI document of the demo project's API (the app's views mounted at /api/cors/)."""
    env = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "REDIS_URL"}}
    env["DJANGO_SETTINGS_MODULE"] = "testproject.settings"
    result = subprocess.run(  # noqa: S603  (our own manage.py, with the interpreter running MkDocs)
        [sys.executable, str(ROOT / "manage.py"), "spectacular", "--format", "openapi-json", "--fail-on-warn"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py spectacular failed ({result.returncode}):\n{result.stderr}")
    return dict(json.loads(result.stdout))


# -- rendering ---------------------------------------------------------------------------------------


def schema_anchor(name: str) -> str:
    return f"schema-{name.lower()}"


def _cell(text: str) -> str:
    """Text fit for one Markdown table cell."""
    return " ".join(str(text).split()).replace("|", "\\|")


def type_of(schema: dict[str, Any]) -> str:
    """A schema as a short phrase, with links to the named schemas it uses."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        text = f"[{name}](#{schema_anchor(name)})"
    elif "allOf" in schema and len(schema["allOf"]) == 1:
        text = type_of(schema["allOf"][0])
    elif "oneOf" in schema or "anyOf" in schema:
        text = " or ".join(type_of(option) for option in schema.get("oneOf", schema.get("anyOf", [])))
    elif "enum" in schema:
        text = "one of " + ", ".join(f"`{value}`" for value in schema["enum"] if value not in ("", None))
        if "" in schema["enum"]:
            text += ", or empty"
    elif schema.get("type") == "array":
        text = f"array of {type_of(schema.get('items', {}))}"
    elif schema.get("type") == "object" and "properties" not in schema:
        values = schema.get("additionalProperties")
        text = f"object of {type_of(values)}" if isinstance(values, dict) and values else "object"
    else:
        text = str(schema.get("type", "any"))
        if "format" in schema and schema["format"] not in {"int64", "int32"}:
            text += f" ({schema['format']})"
    if schema.get("nullable"):
        text += ", or null"
    return text


def constraints(schema: dict[str, Any]) -> list[str]:
    found = []
    if "maxLength" in schema:
        found.append(f"at most {schema['maxLength']} characters")
    if "minimum" in schema and schema["minimum"] > -(2**63):
        found.append(f"at least {schema['minimum']}")
    if "maximum" in schema and schema["maximum"] < 2**31 - 1:
        found.append(f"at most {schema['maximum']}")
    if "default" in schema:
        found.append(f"default `{json.dumps(schema['default'])}`")
    return found


def _body(content: dict[str, Any]) -> str:
    return "; ".join(f"`{media}`: {type_of(item.get('schema', {}))}" for media, item in content.items())


def render_operation(path: str, method: str, operation: dict[str, Any], security_names: dict[str, str]) -> list[str]:
    out = [f"### {operation.get('summary', '')}: `{method.upper()} {path}` {{#{operation['operationId']}}}", ""]
    if operation.get("description"):
        out += [operation["description"], ""]
    schemes = [name for requirement in operation.get("security", []) for name in requirement]
    if schemes:
        out += ["Authentication: " + ", ".join(security_names.get(name, name) for name in schemes) + ".", ""]
    elif "security" in operation:
        out += ["Authentication: none.", ""]
    parameters = operation.get("parameters", [])
    if parameters:
        out += ["| parameter | in | type | required | description |", "| --- | --- | --- | --- | --- |"]
        for parameter in parameters:
            kind = type_of(parameter.get("schema", {}))
            extra = constraints(parameter.get("schema", {}))
            description = " ".join([parameter.get("description", ""), *(f"({item})" for item in extra)]).strip()
            required = "yes" if parameter.get("required") else "no"
            out.append(f"| `{parameter['name']}` | {parameter['in']} | {kind} | {required} | {_cell(description)} |")
        out.append("")
    body = operation.get("requestBody")
    if body:
        out += [f"Request body{'' if body.get('required') else ' (optional)'}: {_body(body.get('content', {}))}.", ""]
    out += ["| status | body | description |", "| --- | --- | --- |"]
    for status, response in operation.get("responses", {}).items():
        content = _body(response.get("content", {})) or "none"
        description = response.get("description", "")
        headers = ", ".join(f"`{name}`" for name in response.get("headers", {}))
        if headers:
            description = f"{description} Headers: {headers}.".strip()
        out.append(f"| `{status}` | {content} | {_cell(description)} |")
    out.append("")
    return out


def render_schema(name: str, schema: dict[str, Any]) -> list[str]:
    out = [f"### {name} {{#{schema_anchor(name)}}}", ""]
    if schema.get("description"):
        out += [_cell(schema["description"]), ""]
    properties = schema.get("properties")
    if not properties:
        out += [f"{type_of({key: value for key, value in schema.items() if key != 'description'})}.", ""]
        return out
    required = set(schema.get("required", []))
    out += ["| field | type | required | description |", "| --- | --- | --- | --- |"]
    for field, spec in properties.items():
        notes = [word for word, flag in (("read-only", "readOnly"), ("write-only", "writeOnly")) if spec.get(flag)]
        kind = ", ".join([type_of(spec), *notes])
        description = " ".join([spec.get("description", ""), *(f"({item})" for item in constraints(spec))]).strip()
        out.append(f"| `{field}` | {kind} | {'yes' if field in required else 'no'} | {_cell(description)} |")
    out.append("")
    return out


def render(schema: dict[str, Any]) -> str:
    """The reference, as Markdown: every operation (anchored by its operationId), then every named schema."""
    schemes = schema.get("components", {}).get("securitySchemes", {})
    security_names = {
        name: f"`{scheme['name']}` {scheme['in']}" + (f" ({scheme['description']})" if "description" in scheme else "")
        for name, scheme in schemes.items()
    }
    out = [f"OpenAPI {schema.get('openapi', '3')}; the paths as the demo mounts the API (at `/api/cors/`).", ""]
    out += ["## Operations", ""]
    for path, operations in schema.get("paths", {}).items():
        for method in METHODS:
            if method in operations:
                out += render_operation(path, method, operations[method], security_names)
    out += ["## Schemas", ""]
    for name, component in schema.get("components", {}).get("schemas", {}).items():
        out += render_schema(name, component)
    return "\n".join(out)


# -- MkDocs events -------------------------------------------------------------------------------------


def on_pre_build(config: Any) -> None:
    global _schema
    _schema = generate_schema()


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    if MARKER not in markdown:
        return markdown
    if _schema is None:  # pragma: no cover - on_pre_build always runs first
        raise RuntimeError("the OpenAPI schema was not generated")
    return markdown.replace(MARKER, render(_schema))
