"""What teams copy from this repository: the pre-commit hooks, the example CI files and the
publishing guide. Each file is checked by its own tool's validator (pre-commit's manifest and
config validators, check-jsonschema's GitHub Actions and GitLab CI schemas), and every
`launchbook …` command line in them runs, in order, against a real sealed project, so none of
them can rot. `aws s3 sync`/`cp` are played by a local folder standing in for the bucket."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from generator.cli import cli
from tests.helpers import ROOT

HOOKS = ROOT / ".pre-commit-hooks.yaml"
GITHUB = ROOT / "docs/ci/github-actions.yml"
GITLAB = ROOT / "docs/ci/gitlab-ci.yml"
GUIDE = ROOT / "docs/publishing.md"
README = ROOT / "README.md"
_CONTROL = {"&&", "||", ";", "|", "&", "{", "}", "(", ")"}
_REDIRECT = re.compile(r"^\d*[<>]")


@dataclass(frozen=True)
class Demo:
    """A project made by `launchbook new`, its example run sealed, the signer trusted in site.yml."""

    project: Path
    run_id: str
    key: Path
    cert: Path
    temp: Path
    """Stands for the CI runner's temp folder: the auditor's certificate and checkpoint."""
    bucket: Path
    """Stands for the S3 bucket."""


def invoke(*args: str | Path) -> Any:
    result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == 0, f"launchbook {' '.join(map(str, args))}\n{result.output}"
    return result


@pytest.fixture
def demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Demo:
    project = tmp_path / "runbooks"
    invoke("new", project)
    keys = tmp_path / "keys"
    made = json.loads(invoke("keys", "new", "--no-passphrase", "--name", "Platform Team", "--out", keys,
                             "--json").stdout)
    key, cert = Path(made["pkcs12"]), Path(made["certificate"])
    site_yml = project / "content/site.yml"
    site_yml.write_text(site_yml.read_text().replace("trust: []", f"trust: [{json.dumps(str(cert))}]"))
    run_id = json.loads(invoke("run", "list", "-C", project, "--json").stdout)[0]["id"]
    invoke("run", "close", run_id, "--key", key, "--force", "-C", project)
    temp = tmp_path / "runner-temp"
    temp.mkdir()
    shutil.copy(cert, temp / "auditor.pem")
    invoke("checkpoint", "--key", key, "-o", temp / "checkpoint.json", "-C", project)
    monkeypatch.chdir(project)
    return Demo(project, run_id, key, cert, temp, tmp_path / "bucket")


def _variables(demo: Demo) -> dict[str, str]:
    """Values for the variables the files use (an unknown one fails the test: add it here)."""
    return {"RUNNER_TEMP": str(demo.temp), "LAUNCHBOOK_AUDITOR_CERT": str(demo.cert),
            "LAUNCHBOOK_CHECKPOINT": str(demo.temp / "checkpoint.json"), "BUCKET": "bucket",
            "REGION": "eu-central-1"}


def _expand(text: str, variables: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        assert name in variables, f"unknown variable ${name} in: {text}"
        return variables[name]

    return re.sub(r"\$\{(\w+)\}|\$(\w+)", value, text)


def _placeholders(text: str, demo: Demo) -> str:
    """The guide's placeholder names for the run, the team's certificate and key."""
    for placeholder, real in (("RUN", demo.run_id), ("team.pem", str(demo.cert)), ("team.p12", str(demo.key))):
        text = re.sub(rf"(?<![\w-]){re.escape(placeholder)}(?![\w-])", real, text)
    return text


def _commands(script: str) -> Iterator[list[str]]:
    """Each simple command of a shell script (continuations joined), as words, redirections dropped."""
    for line in script.replace("\\\n", " ").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|(){}")
        lexer.whitespace_split = True
        lexer.commenters = "#"
        words: list[str] = []
        for token in [*lexer, ";"]:
            if token in _CONTROL or all(ch in ";&|(){}" for ch in token):
                if words:
                    yield words
                words = []
            else:
                words.append(token)


def _simple(words: list[str]) -> list[str]:
    """Words up to the first redirection (``> verify.json``)."""
    kept: list[str] = []
    skip = False
    for word in words:
        if skip:
            skip = False
            continue
        if _REDIRECT.match(word):
            skip = word.rstrip("0123456789").endswith((">", "<")) and len(word.lstrip("0123456789")) == 1
            continue
        kept.append(word)
    return kept


def _github_scripts() -> list[str]:
    workflow = yaml.safe_load(GITHUB.read_text())
    return [step["run"] for job in workflow["jobs"].values() for step in job["steps"] if "run" in step]


def _gitlab_scripts() -> list[str]:
    pipeline = yaml.safe_load(GITLAB.read_text())
    jobs = [job for name, job in pipeline.items() if isinstance(job, dict) and "script" in job]
    return ["\n".join(pipeline["default"]["before_script"])] + ["\n".join(job["script"]) for job in jobs]


def _guide_scripts(path: Path) -> list[str]:
    return re.findall(r"^ *```sh\n(.*?)^ *```", path.read_text(encoding="utf-8"), flags=re.MULTILINE | re.DOTALL)


def _hook_scripts() -> list[str]:
    return [hook["entry"] for hook in yaml.safe_load(HOOKS.read_text())]


def _aws(words: list[str], demo: Demo) -> None:
    """``aws s3 sync|cp SRC DST``, with ``s3://bucket/…`` a local folder; other aws calls touch
    nothing here (they are for a real bucket)."""
    assert words[1] in ("s3", "s3api"), words
    if words[1] != "s3":
        return
    paths = [w for w in words[3:] if not w.startswith("--") and not w.startswith(("*", "*/"))]
    source, target = (Path(demo.bucket, p.removeprefix("s3://bucket/")) if p.startswith("s3://") else Path(p)
                      for p in paths[:2])
    if words[2] == "sync":
        shutil.copytree(source, target, dirs_exist_ok=True)
    else:
        assert words[2] == "cp", words
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, target if not str(target).endswith("/") and target.name != "." else target / source.name)


def _run_all(scripts: list[str], demo: Demo) -> list[str]:
    """Run every launchbook (and aws s3) command of ``scripts`` in order; returns the launchbook ones."""
    ran: list[str] = []
    for script in scripts:
        for words in _commands(_placeholders(script, demo)):
            if words[0] not in ("aws", "launchbook"):
                continue  # pip, git, export, rsync: not ours to run
            words = _simple([_expand(w, _variables(demo)) for w in words])
            if words[0] == "aws":
                _aws(words, demo)
            elif words[0] == "launchbook":
                result = CliRunner().invoke(cli, words[1:], catch_exceptions=False)
                assert result.exit_code == 0, f"{shlex.join(words)}\nexit {result.exit_code}\n{result.output}"
                if "--json" in words:
                    json.loads(result.stdout)
                ran.append(shlex.join(words))
    return ran


def test_pre_commit_manifest_is_valid_and_its_hooks_run(demo: Demo) -> None:
    checked = subprocess.run([sys.executable, "-m", "pre_commit", "validate-manifest", str(HOOKS)],
                             capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    hooks = {hook["id"]: hook for hook in yaml.safe_load(HOOKS.read_text())}
    assert set(hooks) == {"launchbook-lint", "launchbook-lint-fix"}
    for hook in hooks.values():
        assert hook["language"] == "python" and hook["pass_filenames"] is False  # lint takes the whole project
        assert re.search(hook["files"], "content/ops/deploy.md") and re.search(hook["files"], "content/site.yml")
        assert not re.search(hook["files"], "docs/notes.md")
    assert _run_all(_hook_scripts(), demo) == ["launchbook lint", "launchbook lint --fix --no-backup"]


def test_the_readme_pre_commit_config_is_valid(tmp_path: Path) -> None:
    text = README.read_text(encoding="utf-8")
    (block,) = re.findall(r"```yaml\n(# \.pre-commit-config\.yaml.*?)```", text, flags=re.DOTALL)
    config = tmp_path / ".pre-commit-config.yaml"
    config.write_text(block)
    checked = subprocess.run([sys.executable, "-m", "pre_commit", "validate-config", str(config)],
                             capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    hook_ids = {hook["id"] for repo in yaml.safe_load(block)["repos"] for hook in repo["hooks"]}
    assert hook_ids <= {hook["id"] for hook in yaml.safe_load(HOOKS.read_text())}


@pytest.mark.parametrize(("path", "schema"), [(GITHUB, "vendor.github-workflows"), (GITLAB, "vendor.gitlab-ci")])
def test_ci_files_pass_their_schema(path: Path, schema: str) -> None:
    checked = subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, str(path)],
                             capture_output=True, text=True, check=False, env={**os.environ, "NO_COLOR": "1"})
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_github_workflow_lints_prs_publishes_pages_and_verifies_nightly(demo: Demo) -> None:
    workflow = yaml.safe_load(GITHUB.read_text())
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads the bare key `on` as true
    assert {"pull_request", "push", "schedule"} <= set(triggers)
    jobs = workflow["jobs"]
    assert "pull_request" in jobs["lint"]["if"]
    build = next(s["run"] for s in jobs["pages"]["steps"] if "launchbook build" in s.get("run", ""))
    uploaded = next(s["with"]["path"] for s in jobs["pages"]["steps"] if "upload-pages-artifact" in s.get("uses", ""))
    assert f"-o {uploaded}" in build
    assert "schedule" in jobs["verify"]["if"]
    assert all("--trust" in " ".join(c) for s in _github_scripts() for c in _commands(s) if c[:2] == ["launchbook", "verify"])
    ran = _run_all(_github_scripts(), demo)
    assert [c.split()[1] for c in ran] == ["lint", "build", "verify", "verify", "verify"]
    assert (demo.project / uploaded / "index.html").is_file()


def test_gitlab_pipeline_lints_mrs_publishes_pages_and_verifies_on_schedule(demo: Demo) -> None:
    pipeline = yaml.safe_load(GITLAB.read_text())
    jobs = {name: job for name, job in pipeline.items() if isinstance(job, dict) and "script" in job}
    assert all(job["stage"] in pipeline["stages"] for job in jobs.values())  # the schema does not check this
    assert any("merge_request_event" in rule["if"] for rule in pipeline["lint"]["rules"])
    assert pipeline["pages"]["artifacts"]["paths"] == ["public"]
    assert any("-o public" in line for line in pipeline["pages"]["script"])
    assert all("schedule" in rule["if"] for rule in pipeline["verify"]["rules"])
    ran = _run_all(_gitlab_scripts(), demo)
    assert [c.split()[1] for c in ran] == ["lint", "build", "verify", "verify", "verify"]
    assert (demo.project / "public/index.html").is_file()


def test_every_command_of_the_publishing_guide_runs(demo: Demo) -> None:
    ran = _run_all(_guide_scripts(GUIDE), demo)
    assert [c.split()[1] for c in ran] == ["build", "build", "build", "verify", "bundle", "checkpoint", "verify",
                                           "verify"]
    assert (demo.project / "audit/content/runs/ledger.jsonl").is_file()  # what the auditor downloaded
    assert (demo.bucket / "bundles" / f"{demo.run_id}.zip").is_file()


def test_the_guide_s_object_lock_configuration_is_what_s3_takes() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    (document,) = re.findall(r"--object-lock-configuration '([^']+)'", text)
    rule = json.loads(document)
    assert rule["ObjectLockEnabled"] == "Enabled"
    retention = rule["Rule"]["DefaultRetention"]
    assert retention["Mode"] == "COMPLIANCE" and len(set(retention) & {"Days", "Years"}) == 1
    assert "--object-lock-enabled-for-bucket" in text
    aws = [c for script in _guide_scripts(GUIDE) for c in _commands(script) if c[0] == "aws"]
    assert not [c for c in aws if "--delete" in c]  # a sync that deletes would hide versions behind markers
    uploads = [c for c in aws if c[1] == "s3" and [w for w in c[3:] if not w.startswith("-")][1].startswith("s3://")]
    assert len(uploads) == 2 and all("--checksum-algorithm" in c for c in uploads)  # Object Lock PUTs need one
