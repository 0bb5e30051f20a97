"""The API reference page: the OpenAPI document rendered to one self-contained HTML page.

Rendered on the server from the same document `/openapi.json` serves, grouped by tag; no script, no
stylesheet or font from elsewhere, so it works offline and under a strict CSP.
"""
from __future__ import annotations

from html import escape
from typing import Any

STYLE = """body{font:15px/1.5 system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem;color:#222}
h2{border-bottom:1px solid #ccc;margin-top:2.5rem}code,.m{font-family:ui-monospace,monospace}
.op{margin:1rem 0;padding:.5rem 1rem;border-left:4px solid #8ab}.m{font-weight:bold;margin-right:.5rem}
table{border-collapse:collapse;margin:.3rem 0}td,th{border:1px solid #ddd;padding:.15rem .5rem;text-align:left}
.muted{color:#666}"""


def _schema_text(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return f'<a href="#schema-{escape(name)}">{escape(name)}</a>'
    for combo in ("anyOf", "oneOf", "allOf"):
        if combo in schema:
            return " | ".join(_schema_text(s) for s in schema[combo])
    if schema.get("type") == "array":
        return f"array of {_schema_text(schema.get('items', {}))}"
    text = escape(str(schema.get("type", "any")))
    if "enum" in schema:
        text += " (" + ", ".join(escape(str(v)) for v in schema["enum"]) + ")"
    return text


def _operation(method: str, path: str, op: dict[str, Any]) -> str:
    anchor = escape(op["operationId"])
    rows = "".join(
        f"<tr><td><code>{escape(p['name'])}</code></td><td>{escape(p['in'])}</td>"
        f"<td>{'yes' if p.get('required') else ''}</td><td>{_schema_text(p.get('schema', {}))}</td>"
        f"<td>{escape(p.get('description', ''))}</td></tr>" for p in op.get("parameters", []))
    params = f"<table><tr><th>parameter</th><th>in</th><th>required</th><th>type</th><th></th></tr>{rows}</table>" \
        if rows else ""
    body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    responses = ", ".join(
        f"<b>{escape(code)}</b> " + (_schema_text(r["content"]["application/json"]["schema"])
                                     if "content" in r else escape(r.get("description", "")))
        for code, r in op["responses"].items())
    permission = op.get("x-permission") or ("public" if op.get("security") == [] else "any authenticated caller")
    return (f'<div class="op" id="{anchor}"><span class="m">{method.upper()}</span><code>{escape(path)}</code>'
            f'<div>{escape(op.get("summary", ""))}</div>'
            f'<div class="muted">operationId <code>{anchor}</code> · permission <code>{escape(permission)}</code></div>'
            f"{params}{'<div>body: ' + _schema_text(body) + '</div>' if body else ''}"
            f"<div>responses: {responses}</div></div>")


def _schema(name: str, schema: dict[str, Any]) -> str:
    required = set(schema.get("required", []))
    rows = "".join(f"<tr><td><code>{escape(prop)}</code></td><td>{_schema_text(sub)}</td>"
                   f"<td>{'yes' if prop in required else ''}</td></tr>"
                   for prop, sub in schema.get("properties", {}).items())
    table = f"<table><tr><th>field</th><th>type</th><th>required</th></tr>{rows}</table>" if rows \
        else f"<div>{_schema_text(schema)}</div>"
    return f'<h3 id="schema-{escape(name)}">{escape(name)}</h3>{table}'


def render(document: dict[str, Any]) -> str:
    info = document["info"]
    sections = []
    for tag in document.get("tags", []):
        ops = [_operation(method, path, op) for path, methods in document["paths"].items()
               for method, op in methods.items() if tag["name"] in op.get("tags", [])]
        sections.append(f'<h2 id="tag-{escape(tag["name"])}">{escape(tag["name"])}</h2>'
                        f'<p class="muted">{escape(tag.get("description", ""))}</p>{"".join(ops)}')
    toc = " · ".join(f'<a href="#tag-{escape(t["name"])}">{escape(t["name"])}</a>' for t in document.get("tags", []))
    schemas = "".join(_schema(name, s) for name, s in document.get("components", {}).get("schemas", {}).items())
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(info["title"])} API</title>'
            f"<style>{STYLE}</style></head><body><h1>{escape(info['title'])} API {escape(info['version'])}</h1>"
            f'<p>{escape(info.get("description", ""))} The machine-readable document: '
            f'<a href="openapi.json">/openapi.json</a> (OpenAPI {escape(document["openapi"])}).</p>'
            f"<nav>{toc} · <a href=\"#schemas\">schemas</a></nav>{''.join(sections)}"
            f'<h2 id="schemas">schemas</h2>{schemas}</body></html>')
