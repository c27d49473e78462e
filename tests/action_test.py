"""The GitHub Action (action.yml): its structure, and its shell steps run for real in a fake GitHub job."""
from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.fakes import stripe_live_key
from tests.git_helpers import GitRepo

ROOT = Path(__file__).resolve().parent.parent
ACTION = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
STEPS: list[dict[str, Any]] = ACTION["runs"]["steps"]
DEFAULTS = {name: str(spec.get("default", "")) for name, spec in ACTION["inputs"].items()}


def _step(name: str) -> dict[str, Any]:
    (step,) = [s for s in STEPS if s.get("name") == name]
    return step


def _expand(text: str, inputs: dict[str, str]) -> str:
    """What the runner does to ``${{ inputs.NAME }}`` before the step runs (the only expressions the steps use)."""
    def value(match: re.Match[str]) -> str:
        expression = match.group(1).strip()
        assert expression.startswith("inputs."), f"unexpected expression {expression!r} in action.yml"
        return inputs[expression[len("inputs."):]]
    return re.sub(r"\$\{\{(.*?)\}\}", value, text)


def _run_step(step: dict[str, Any], cwd: Path, env: dict[str, str], inputs: dict[str, str]) -> subprocess.CompletedProcess[str]:
    assert step["shell"] == "bash"
    step_env = {**env, **{key: _expand(str(val), inputs) for key, val in step.get("env", {}).items()}}
    # The runner's `shell: bash` is `bash --noprofile --norc -eo pipefail {0}`.
    return subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]], cwd=cwd,
                          env=step_env, capture_output=True, text=True)


def test_action_is_a_composite_with_documented_inputs() -> None:
    assert ACTION["runs"]["using"] == "composite"
    assert DEFAULTS == {"args": "", "sarif-file": "mcp-scan.sarif", "upload-sarif": "true", "python-version": "3.12"}
    assert all(spec.get("description") for spec in ACTION["inputs"].values())
    assert STEPS[0]["uses"].startswith("actions/setup-python@")
    assert STEPS[0]["with"]["python-version"] == "${{ inputs.python-version }}"
    upload = _step("Upload SARIF")
    assert upload["uses"].startswith("github/codeql-action/upload-sarif@")
    assert "always()" in upload["if"] and "hashFiles(inputs.sarif-file)" in upload["if"]
    assert upload["with"]["sarif_file"] == "${{ inputs.sarif-file }}"
    for step in STEPS:
        # An input pasted into a script would be run as shell code; they go through env instead.
        assert "${{" not in step.get("run", ""), step


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtualenv in which the action's install step ran, offline, against this checkout."""
    # The test extras install hatchling: without it this must fail, not skip.
    assert importlib.util.find_spec("hatchling") is not None, \
        "hatchling (the build backend pyproject.toml names, in the test extras) is needed to build offline"
    venv = tmp_path_factory.mktemp("action") / "venv"
    # System site packages: the dependencies are already there, so pip needs no index.
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    if sys.prefix != sys.base_prefix:
        # The suite runs in a virtualenv: "system" is then the base interpreter's, without the
        # dependencies; let the new venv see this one's packages too (a .pth line per directory).
        purelib = subprocess.run([str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                 capture_output=True, text=True, check=True).stdout.strip()
        here = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
        Path(purelib, "outer-venv.pth").write_text("".join(f"{d}\n" for d in sorted(here)))
    env = {key: val for key, val in os.environ.items() if not key.startswith(("PIP_", "PYTHON"))}
    env.update(PATH=f"{venv / 'bin'}{os.pathsep}{env['PATH']}", GITHUB_ACTION_PATH=str(ROOT),
               PIP_NO_INDEX="1", PIP_NO_BUILD_ISOLATION="0")  # "0" turns build isolation off (pip's inverted flag)
    proc = _run_step(_step("Install mcp-scan"), venv.parent, env, DEFAULTS)  # the runner's cwd: the workspace
    assert proc.returncode == 0, proc.stderr
    assert (venv / "bin" / "mcp-scan").is_file()
    where = subprocess.run([str(venv / "bin" / "python"), "-c", "import scanner; print(scanner.__file__)"],
                           cwd=venv.parent, env=env, capture_output=True, text=True, check=True).stdout
    assert where.startswith(str(venv)), where  # this checkout's build, not an install the machine already had
    return venv


def _job_env(venv: Path, repo: GitRepo, before: str, after: str) -> dict[str, str]:
    event = repo.path.parent / "event.json"
    event.write_text(json.dumps({"before": before, "after": after}), encoding="utf-8")
    env = {key: val for key, val in os.environ.items()
           if not key.startswith(("PYTHON", "GITHUB_", "CI", "GITLAB", "BITBUCKET", "TF_BUILD", "SYSTEM_"))}
    env.update(PATH=f"{venv / 'bin'}{os.pathsep}{env['PATH']}", CI="true", GITHUB_ACTIONS="true",
               GITHUB_EVENT_NAME="push", GITHUB_EVENT_PATH=str(event), GITHUB_SHA=after, GITHUB_REF_NAME="main",
               GITHUB_REF_TYPE="branch", GITHUB_WORKSPACE=str(repo.path))
    return env


def test_the_installed_scan_step_writes_sarif_and_fails_on_a_secret(installed: Path, tmp_path: Path) -> None:
    repo = GitRepo.init(tmp_path / "workspace")
    repo.stage("README.md", "hello\n")
    base = repo.commit("initial")
    repo.stage("app.py", "print('ok')\n")
    clean = repo.commit("clean")
    scan = _step("Scan what the event adds")

    proc = _run_step(scan, repo.path, _job_env(installed, repo, base, clean), DEFAULTS)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    sarif = json.loads((repo.path / "mcp-scan.sarif").read_text(encoding="utf-8"))
    assert sarif["version"] == "2.1.0" and sarif["runs"][0]["results"] == []

    secret = stripe_live_key(seed=41)
    repo.stage("deploy/.env", f"STRIPE_KEY={secret}\n")
    leak = repo.commit("leak")
    inputs = {**DEFAULTS, "sarif-file": "reports/out file.sarif", "args": "--min-confidence high"}
    (repo.path / "reports").mkdir()
    proc = _run_step(scan, repo.path, _job_env(installed, repo, clean, leak), inputs)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "::error" in proc.stdout + proc.stderr and "deploy/.env" in proc.stdout + proc.stderr
    results = json.loads((repo.path / "reports" / "out file.sarif").read_text(encoding="utf-8"))["runs"][0]["results"]
    assert [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results] == ["deploy/.env"]
    assert secret not in proc.stdout + proc.stderr


def test_extra_arguments_are_data_not_shell_code(installed: Path, tmp_path: Path) -> None:
    repo = GitRepo.init(tmp_path / "workspace")
    repo.stage("README.md", "hello\n")
    base = repo.commit("initial")
    marker = tmp_path / "pwned"
    inputs = {**DEFAULTS, "args": f"--dry-run $(touch {marker}) *"}
    proc = _run_step(_step("Scan what the event adds"), repo.path, _job_env(installed, repo, base, base), inputs)
    assert not marker.exists()
    assert proc.returncode == 2, proc.stdout + proc.stderr  # `$(touch` reaches mcp-scan as an argument it rejects
