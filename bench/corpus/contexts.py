"""Realistic files around one credential: the places people actually leak them.

``render(kind, rng)`` returns ``(file name, content, secret)`` with the
kind's fake placed in one of many contexts: ``.env``, shell, Python, JS/TS,
Go, Java, Ruby, C#, PHP, YAML, JSON, TOML, INI/properties, XML, Dockerfile,
docker-compose, Terraform, GitHub Actions, Jupyter notebooks, Markdown and
MCP client configs (``.mcp.json`` ``env`` and ``headers``).
"""
from __future__ import annotations

import json
from collections.abc import Callable
from random import Random

from bench.corpus.kinds import Kind

Context = Callable[[Random, str, str], "tuple[str, str]"]


def _snake(var: str) -> str:
    return var.lower()


def _camel(var: str) -> str:
    head, *rest = var.lower().split("_")
    return head + "".join(part.title() for part in rest)


def _provider(var: str) -> str:
    return var.split("_")[0].lower()


_FILLER_ENV = ["NODE_ENV=production", "PORT=8080", "LOG_LEVEL=info", "APP_NAME=orders-api", "TZ=UTC",
               "FEATURE_FLAGS=search,checkout", "WORKERS=4"]


def env_file(rng: Random, var: str, secret: str) -> tuple[str, str]:
    lines = rng.sample(_FILLER_ENV, 3)
    quoted = rng.choice([secret, f'"{secret}"', f"'{secret}'"])
    lines.insert(rng.randrange(4), f"{var}={quoted}")
    return rng.choice([".env", ".env.production", "app.env", ".env.local"]), "\n".join(lines) + "\n"


def shell(rng: Random, var: str, secret: str) -> tuple[str, str]:
    return "deploy.sh", f'#!/usr/bin/env bash\nset -euo pipefail\n\nexport {var}="{secret}"\n./scripts/release.sh "$@"\n'


def python_settings(rng: Random, var: str, secret: str) -> tuple[str, str]:
    return "settings.py", (f'"""Service settings."""\nimport os\n\nDEBUG = False\nALLOWED_HOSTS = ["api.acme.io"]\n'
                           f'{var} = "{secret}"\nREQUEST_TIMEOUT = 30\n')


def python_client(rng: Random, var: str, secret: str) -> tuple[str, str]:
    provider = _provider(var)
    return f"{provider}_client.py", (f"from {provider} import Client\n\n\ndef make_client():\n"
                                     f"    return Client(api_key=\"{secret}\", timeout=10)\n")


def python_environ(rng: Random, var: str, secret: str) -> tuple[str, str]:
    return "conftest.py", f'import os\n\nos.environ.setdefault("{var}", "{secret}")\n'


def javascript(rng: Random, var: str, secret: str) -> tuple[str, str]:
    return "config.js", (f"module.exports = {{\n  port: 3000,\n  {_camel(var)}: '{secret}',\n"
                         f"  retries: 3,\n}};\n")


def typescript(rng: Random, var: str, secret: str) -> tuple[str, str]:
    return "env.ts", f'export const {var} = process.env.{var} ?? "{secret}";\n'


def golang(rng: Random, var: str, secret: str) -> tuple[str, str]:
    return "config.go", f'package config\n\nconst (\n\tDefaultRegion = "eu-west-1"\n\t{_camel(var)} = "{secret}"\n)\n'


def java(rng: Random, var: str, secret: str) -> tuple[str, str]:
    return "AppConfig.java", (f"package com.acme.app;\n\npublic final class AppConfig {{\n"
                              f"    private static final String {var} = \"{secret}\";\n}}\n")


def ruby(rng: Random, var: str, secret: str) -> tuple[str, str]:
    return "initializer.rb", f"Acme.configure do |config|\n  config.{_snake(var)} = '{secret}'\nend\n"


def csharp(rng: Random, var: str, secret: str) -> tuple[str, str]:
    return "Settings.cs", f'namespace Acme;\n\npublic static class Settings\n{{\n    public const string {_camel(var).title()} = "{secret}";\n}}\n'


def php(rng: Random, var: str, secret: str) -> tuple[str, str]:
    return "config.php", f"<?php\n\ndefine('{var}', '{secret}');\n"


def yaml_nested(rng: Random, var: str, secret: str) -> tuple[str, str]:
    return "config.yaml", f"service:\n  name: orders\n  replicas: 2\n  {_snake(var)}: {secret}\n"


def actions(rng: Random, var: str, secret: str) -> tuple[str, str]:
    return ".github/workflows/deploy.yml", (
        "name: deploy\non: push\njobs:\n  deploy:\n    runs-on: ubuntu-latest\n"
        f"    env:\n      {var}: {secret}\n    steps:\n      - uses: actions/checkout@v4\n      - run: make deploy\n")


def json_config(rng: Random, var: str, secret: str) -> tuple[str, str]:
    return "appsettings.json", json.dumps({"Logging": {"LogLevel": {"Default": "Information"}},
                                           _camel(var): secret, "AllowedHosts": "*"}, indent=2) + "\n"


def mcp_env(rng: Random, var: str, secret: str) -> tuple[str, str]:
    server = _provider(var) or "tools"
    doc = {"mcpServers": {server: {"command": "npx", "args": ["-y", f"@acme/{server}-mcp"], "env": {var: secret}}}}
    return rng.choice([".mcp.json", "claude_desktop_config.json", "mcp.json"]), json.dumps(doc, indent=2) + "\n"


def mcp_headers(rng: Random, var: str, secret: str) -> tuple[str, str]:
    value = secret if secret.startswith("Bearer ") else f"Bearer {secret}"
    doc = {"mcpServers": {"remote": {"type": "http", "url": "https://mcp.acme.io/mcp", "headers": {"Authorization": value}}}}
    return ".mcp.json", json.dumps(doc, indent=2) + "\n"


def dockerfile(rng: Random, var: str, secret: str) -> tuple[str, str]:
    return "Dockerfile", f"FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nENV {var}={secret}\nCMD [\"python\", \"-m\", \"app\"]\n"


def compose(rng: Random, var: str, secret: str) -> tuple[str, str]:
    return "docker-compose.yml", (f"services:\n  api:\n    image: acme/api:1.4\n    environment:\n"
                                  f"      - PORT=8080\n      - {var}={secret}\n")


def terraform(rng: Random, var: str, secret: str) -> tuple[str, str]:
    return "variables.tf", f'variable "{_snake(var)}" {{\n  type      = string\n  default   = "{secret}"\n  sensitive = true\n}}\n'


def toml(rng: Random, var: str, secret: str) -> tuple[str, str]:
    return "config.toml", f'[server]\nhost = "0.0.0.0"\nport = 8000\n\n[credentials]\n{_snake(var)} = "{secret}"\n'


def properties(rng: Random, var: str, secret: str) -> tuple[str, str]:
    key = _snake(var).replace("_", ".")
    return "application.properties", f"server.port=8080\nspring.application.name=orders\n{key}={secret}\n"


def xml(rng: Random, var: str, secret: str) -> tuple[str, str]:
    return "web.config", (f'<?xml version="1.0"?>\n<configuration>\n  <appSettings>\n'
                          f'    <add key="{var}" value="{secret}" />\n  </appSettings>\n</configuration>\n')


def notebook(rng: Random, var: str, secret: str) -> tuple[str, str]:
    cell = {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": 1,
            "source": ["import os\n", f"os.environ[\"{var}\"] = \"{secret}\"\n"]}
    return "analysis.ipynb", json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}, indent=1) + "\n"


def markdown_curl(rng: Random, var: str, secret: str) -> tuple[str, str]:
    value = secret if secret.startswith("Bearer ") else f"Bearer {secret}"
    return "NOTES.md", f"# Debugging\n\n```sh\ncurl -s https://api.acme.io/v1/me \\\n  -H \"Authorization: {value}\"\n```\n"


def http_headers_py(rng: Random, var: str, secret: str) -> tuple[str, str]:
    value = secret if secret.startswith("Bearer ") else f"Bearer {secret}"
    return "api.py", f'import httpx\n\nHEADERS = {{"Authorization": "{value}", "Accept": "application/json"}}\n'


def fetch_js(rng: Random, var: str, secret: str) -> tuple[str, str]:
    value = secret if secret.startswith("Bearer ") else f"Bearer {secret}"
    return "client.mjs", f"const res = await fetch(url, {{\n  headers: {{ Authorization: '{value}' }},\n}});\n"


VALUE_CONTEXTS: list[Context] = [
    env_file, shell, python_settings, python_client, python_environ, javascript, typescript, golang, java,
    ruby, csharp, php, yaml_nested, actions, json_config, mcp_env, dockerfile, compose, terraform, toml,
    properties, xml, notebook,
]
HEADER_CONTEXTS: list[Context] = [mcp_headers, markdown_curl, http_headers_py, fetch_js]
# A URL or connection string is configuration, not an argument to a client.
URL_CONTEXTS: list[Context] = [env_file, python_settings, typescript, yaml_nested, actions, json_config, mcp_env,
                               dockerfile, compose, toml, properties, xml]


def render(kind: Kind, rng: Random) -> tuple[str, str, str]:
    """A file holding one fresh fake of ``kind``: (file name, content, secret)."""
    secret = kind.make(rng)
    if kind.render is not None:
        name, content = kind.render(rng, secret)
        return name, content, secret
    if secret.startswith("Bearer "):
        context = rng.choice(HEADER_CONTEXTS)
    elif kind.category == "url":
        context = rng.choice(URL_CONTEXTS)
    elif kind.mcp and rng.random() < 0.3:
        context = rng.choice([mcp_headers, mcp_env])
    else:
        context = rng.choice(VALUE_CONTEXTS)
    name, content = context(rng, kind.var, secret)
    return name, content, secret
