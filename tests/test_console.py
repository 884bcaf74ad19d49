"""The run console under `launchbook serve`, driven in real Chromium: start a run from the
checklist page, two people marking at once and seeing each other's marks, a refused mark
with its reason, sign-off, close, the signed report; CSRF and origin refusals; axe-core."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from tests.helpers import ROOT
from tests.test_quality import AXE, SCREENSHOTS, _missing
from tests.test_site_layout import OVERFLOW_JS

RunCli = Callable[..., Result]
CONSOLE = "__launchbook/console/"


class Console:
    """`launchbook serve` in a subprocess with the console's options."""

    def __init__(self, project: Path, *options: str) -> None:
        self.project = project
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.process = subprocess.Popen([sys.executable, "-m", "generator", "serve", "-a", "127.0.0.1:0", "-C",
                                         str(project), *options], stderr=subprocess.PIPE, text=True, env=env)
        assert self.process.stderr is not None
        log = []
        for line in self.process.stderr:
            log.append(line)
            match = re.search(r"at (http://127\.0\.0\.1:\d+/)", line)
            if match:
                self.url = match.group(1)
                break
        else:
            raise AssertionError("serve did not start: " + "".join(log))
        os.set_blocking(self.process.stderr.fileno(), False)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def post(url: str, fields: dict[str, str], headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    body = "&".join(f"{k}={urllib.request.quote(v)}" for k, v in fields.items()).encode()
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json", **headers})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.fixture
def project(tmp_path: Path, run_cli: RunCli) -> Path:
    made = run_cli("new", tmp_path / "site")
    assert made.exit_code == 0, made.output
    return tmp_path / "site"


@pytest.fixture
def console(project: Path, signing_key: Any) -> Iterator[Console]:
    server = Console(project, "--trust-proxy-header", "X-Remote-User", "--key", str(signing_key.pkcs12))
    yield server
    server.stop()


def record_of(project: Path, run_id: str) -> str:
    return next((project / "content/runs").rglob(f"{run_id}.yml")).read_text(encoding="utf-8")


@pytest.mark.browser
def test_two_people_work_through_a_run_and_close_it(browser: Any, console: Console, project: Path) -> None:
    ada = browser.new_context(extra_http_headers={"X-Remote-User": "Ada Lovelace"})
    bo = browser.new_context(extra_http_headers={"X-Remote-User": "Bo Chen"})
    try:
        a = ada.new_page()
        a.goto(console.url + "checklists/release.html")
        a.get_by_role("button", name="Start a run").click()
        a.get_by_label("Release").fill("v2.0.0")
        a.get_by_label("Change", exact=True).fill("CHG-77")
        a.get_by_label("Environment").fill("production")
        a.get_by_role("button", name="Start run").click()
        a.wait_for_url(re.compile(r".*/__launchbook/console/run/[^/]+$"))
        run_id = a.url.rsplit("/", 1)[1]
        a.wait_for_selector("html[data-console-live]")
        assert "operator: Ada Lovelace" in record_of(project, run_id)

        b = bo.new_page()
        b.goto(a.url)
        b.wait_for_selector("html[data-console-live]")
        first = a.locator("[data-item]").nth(0)
        second = a.locator("[data-item]").nth(1)
        first_id, second_id = first.get_attribute("data-item"), second.get_attribute("data-item")

        first.locator("summary", has_text="Evidence").click()
        first.get_by_label("Evidence file").set_input_files(files=[{
            "name": "Prüfbericht <1>.txt", "mimeType": "text/plain", "buffer": b"all checks passed\n"}])
        first.get_by_role("button", name="Done", exact=True).click()
        b.wait_for_selector(f"#item-{first_id}[data-status=done]", timeout=3000)  # Bo sees Ada's mark
        assert "Prüfbericht <1>.txt" in b.locator(f"#state-{first_id}").inner_text()  # escaped, original name
        assert "Ada Lovelace" in b.locator(f"#state-{first_id}").inner_text()

        other = b.locator(f"#item-{second_id}")
        other.get_by_role("button", name="Skipped", exact=True).click()  # no note: refused, with the reason
        error = other.locator("[data-error]")
        error.wait_for(state="visible")
        assert "note" in error.inner_text()
        other.get_by_label("Note", exact=True).fill("Not this release")
        other.get_by_role("button", name="Skipped", exact=True).click()
        a.wait_for_selector(f"#item-{second_id}[data-status=skipped]", timeout=3000)  # and Ada sees Bo's
        assert "Not this release" in a.locator(f"#state-{second_id}").inner_text()

        # keyboard: focus the third item, mark it done with "d"
        third = a.locator("[data-item]").nth(2)
        third.focus()
        a.keyboard.press("d")
        third_id = third.get_attribute("data-item")
        b.wait_for_selector(f"#item-{third_id}[data-status=done]", timeout=3000)

        text = record_of(project, run_id)
        assert re.search(rf"{re.escape(str(first_id))}:\n    status: done\n    by: Ada Lovelace", text), text
        stored = next((project / "content/runs/release").rglob("evidence/*.txt"))
        assert stored.read_bytes() == b"all checks passed\n" and "name: Prüfbericht <1>.txt" in text
        assert re.search(rf"{re.escape(str(second_id))}:\n    status: skipped\n    by: Bo Chen", text), text

        a.get_by_label("Printed name").fill("Ada Lovelace")
        a.get_by_role("button", name="Sign off").click()
        a.wait_for_function("document.querySelector('#signoffs').innerText.includes('Ada Lovelace')")

        a.get_by_label("I understand").check()
        a.get_by_role("button", name="Close with exceptions").click()
        a.get_by_role("link", name="Signed report (PDF)").wait_for(timeout=30000)
        href = a.get_by_role("link", name="Signed report (PDF)").get_attribute("href") or ""
        pdf = a.request.get(console.url.rstrip("/") + href)
        assert pdf.status == 200 and pdf.body().startswith(b"%PDF")
        b.get_by_role("link", name="Signed report (PDF)").wait_for(timeout=5000)  # Bo's page follows the close
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        a.screenshot(path=str(SCREENSHOTS / "console-closed.png"), full_page=False)
        assert "sealed:" in record_of(project, run_id)
    finally:
        ada.close()
        bo.close()


def test_writes_need_the_token_the_session_and_this_origin(console: Console, project: Path) -> None:
    with urllib.request.urlopen(console.url + CONSOLE + "start/release", timeout=10) as response:
        cookie = response.headers["Set-Cookie"].split(";")[0]
        token = re.search(r'name="csrf" value="([0-9a-f]+)"', response.read().decode()).group(1)  # type: ignore[union-attr]
    url = console.url + CONSOLE + "start/release"
    me = {"X-Remote-User": "Ada"}
    assert post(url, {"release": "v1", "csrf": token}, me)[0] == 403  # no session cookie
    assert post(url, {"release": "v1", "csrf": "0" * 64}, {**me, "Cookie": cookie})[0] == 403
    code, answer = post(url, {"release": "v1", "csrf": token}, {**me, "Cookie": cookie, "Origin": "http://evil.test"})
    assert code == 403 and "cross-origin" in answer["error"]
    code, answer = post(url, {"release": "v1", "csrf": token}, {"Cookie": cookie})  # the proxy named nobody
    assert code == 403 and "X-Remote-User" in answer["error"]
    assert not list((project / "content/runs/release").glob("2026*-v1.yml"))
    code, answer = post(url, {"release": "v1", "csrf": token}, {**me, "Cookie": cookie})
    assert code == 200 and answer["location"].startswith("/" + CONSOLE + "run/"), answer
    # a body over the cap is refused before it is read
    import socket
    host, port = console.url.removeprefix("http://").strip("/").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as raw:
        raw.sendall(f"POST /{CONSOLE}start/release HTTP/1.1\r\nHost: {host}:{port}\r\nCookie: {cookie}\r\n"
                    f"Content-Type: multipart/form-data; boundary=x\r\nContent-Length: {64 * 1024 * 1024}\r\n\r\n"
                    .encode())
        assert raw.recv(200).startswith(b"HTTP/1.1 413")
    # the static site stays read-only, and the console is never written to the output
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(urllib.request.Request(console.url + "index.html", data=b"x", method="POST"), timeout=10)
    assert refused.value.code == 405
    assert not any("__launchbook" in p.read_text(encoding="utf-8", errors="replace")
                   for p in (project / "output").rglob("*.html"))


@pytest.mark.browser
@pytest.mark.parametrize("page", ["start", "run", "login"])
def test_console_pages_have_no_axe_violations(browser: Any, console: Console, project: Path, run_cli: RunCli,
                                              page: str) -> None:
    if not AXE.is_file():
        _missing(f"axe-core at {AXE}")
    started = run_cli("run", "start", "release", "--release", "v3.0.0", "-C", project)
    assert started.exit_code == 0, started.output
    url = console.url + CONSOLE + {"start": "start/release", "run": f"run/{started.stdout.strip()}",
                                   "login": "login"}[page]
    for scheme in ("light", "dark"):
        context = browser.new_context(color_scheme=scheme, extra_http_headers={"X-Remote-User": "Ada"})
        try:
            tab = context.new_page()
            tab.goto(url)
            tab.add_script_tag(path=str(AXE))
            result = tab.evaluate("axe.run(document, {resultTypes: ['violations']})")
            problems = [f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:5]}"
                        for v in result["violations"]]
            assert problems == [], f"console {page} ({scheme}):\n" + "\n".join(problems)
        finally:
            context.close()


@pytest.mark.browser
def test_console_pages_fit_every_width_and_show_the_favicon(browser: Any, console: Console, project: Path,
                                                            run_cli: RunCli) -> None:
    """Issue #16, as for the static pages: nothing wider than its box at 1280, 1024 and 390 px."""
    started = run_cli("run", "start", "release", "--release", "v3.0.0", "-C", project)
    assert started.exit_code == 0, started.output
    pages = {"start": "start/release", "run": f"run/{started.stdout.strip()}", "login": "login"}
    problems = []
    for width in (1280, 1024, 390):
        context = browser.new_context(viewport={"width": width, "height": 800}, extra_http_headers={"X-Remote-User": "Ada"})
        tab = context.new_page()
        for name, path in pages.items():
            tab.goto(console.url + CONSOLE + path)
            problems += [f"console {name} at {width} px: {problem}" for problem in tab.evaluate(OVERFLOW_JS)]
            icon = tab.evaluate("""() => new Promise(done => { const img = new Image();
              img.onload = () => done(img.naturalWidth); img.onerror = () => done(0);
              img.src = (document.querySelector('link[rel=icon]') || {href: ''}).href; })""")
            assert icon > 0, f"console {name}: no favicon"
        context.close()
    assert problems == [], "\n".join(problems)


def test_team_sign_in_with_tokens_hashed_at_rest(project: Path, run_cli: RunCli, tmp_path: Path) -> None:
    people = tmp_path / "people.yml"
    made = run_cli("auth", "add", "Ada Lovelace", "-f", people, "--json")
    assert made.exit_code == 0, made.output
    token = json.loads(made.stdout)["token"]
    text = people.read_text(encoding="utf-8")
    assert token not in text and "Ada Lovelace" in text and "sha256:" in text
    assert people.stat().st_mode & 0o777 == 0o600
    server = Console(project, "--auth", str(people))
    try:
        _, send = _session(server)
        code, answer = send("start/release", {"release": "v1"})
        assert code == 403 and "sign in" in answer["error"]
        assert send("login", {"token": "not-the-token"})[0] == 403
        assert send("login", {"token": token, "next": "https://evil.test/"}) == (200, {
            "ok": True, "error": "", "location": "/index.html"})  # never redirected off the server
        code, answer = send("start/release", {"release": "v1"})
        assert code == 200, answer
        run_id = answer["location"].rsplit("/", 1)[1]
        assert "operator: Ada Lovelace" in record_of(project, run_id)
        code, answer = send(f"run/{run_id}/mark", {"item": "change-approved", "status": "done"})
        assert code == 200, answer
        assert re.search(r"change-approved:\n    status: done\n    by: Ada Lovelace", record_of(project, run_id))
    finally:
        server.stop()


def test_nobody_writes_anonymously_off_loopback() -> None:
    from generator.console.session import Sessions

    assert Sessions(user="me", loopback=True).who({}) == "me"
    assert Sessions(user="me", loopback=False).who({}) is None
    assert "read-only" in Sessions(user="me", loopback=False).why_not()
    proxied = Sessions(user="me", loopback=False, proxy_header="X-Remote-User")
    assert proxied.who({"x-remote-user": "Bo"}) == "Bo" and proxied.who({}) is None
    assert proxied.who({"x-remote-user": "Bo\x1b[31m"}) is None  # control characters are no name
    team = Sessions(user="me", loopback=True, people={"Ada": "sha256:" + "0" * 64})
    assert team.who({}, "some-session") is None  # signing in is required even on loopback


RUNNABLE = """---
id: disk
---
# Disk check

## Before

- [ ] Free space is enough {#disk}
  ```sh {.run}
  echo "checked $(basename "$PWD")"; echo oops >&2; exit 3
  ```
- [ ] Plain block, not runnable {#plain}
  ```sh
  echo never
  ```
"""


def _session(server: Console) -> tuple[Any, Callable[[str, dict[str, str]], tuple[int, dict[str, Any]]]]:
    import http.cookiejar

    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def send(path: str, fields: dict[str, str]) -> tuple[int, dict[str, Any]]:
        page = opener.open(server.url + CONSOLE + "login", timeout=10)
        csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.read().decode()).group(1)  # type: ignore[union-attr]
        body = "&".join(f"{k}={urllib.request.quote(v)}" for k, v in {**fields, "csrf": csrf}.items()).encode()
        request = urllib.request.Request(server.url + CONSOLE + path, data=body, method="POST",
                                         headers={"Accept": "application/json"})
        try:
            with opener.open(request, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    return opener, send


@pytest.mark.parametrize("allowed", [True, False])
def test_runnable_steps_run_only_when_allowed_and_are_recorded(project: Path, run_cli: RunCli, allowed: bool) -> None:
    (project / "content/checklists/disk.md").write_text(RUNNABLE, encoding="utf-8")
    started = run_cli("run", "start", "disk", "--release", "v1", "-C", project)
    assert started.exit_code == 0, started.output
    run_id = started.stdout.strip()
    record = record_of(project, run_id)
    assert "command: " in record and "shell: sh" in record and "echo never" not in record
    server = Console(project, "--user", "Ada", *(["--allow-exec", "--exec-timeout", "20"] if allowed else []))
    try:
        opener, send = _session(server)
        page = opener.open(server.url + CONSOLE + f"run/{run_id}", timeout=10).read().decode()
        assert ('>Run</button>' in page) is allowed and "echo &#34;checked" in page.replace("&quot;", "&#34;")
        code, answer = send(f"run/{run_id}/exec", {"item": "disk"})
        if not allowed:
            assert code == 409 and "--allow-exec" in answer["error"]
            assert "status: failed" not in record_of(project, run_id)
            return
        assert code == 200, answer
        text = record_of(project, run_id)
        assert re.search(r"disk:\n    status: failed\n    by: Ada\n.*\n    note: '?ran its step \(sha256 [0-9a-f]{12}…\): "
                         r"exit code 3", text), text
        evidence = next((project / "content/runs/disk").rglob("step-disk-*.json"))
        data = json.loads(evidence.read_text(encoding="utf-8"))
        assert data["exit_code"] == 3 and data["stdout"] == "checked site\n" and data["stderr"] == "oops\n"
        import hashlib
        assert data["command_sha256"] == hashlib.sha256(data["command"].encode()).hexdigest()
        assert send(f"run/{run_id}/exec", {"item": "plain"})[0] == 409  # a plain code block never runs
    finally:
        server.stop()


def test_allow_exec_is_refused_off_loopback(project: Path) -> None:
    from generator.console.serve import console_factory
    from generator.core.errors import ConfigError

    with pytest.raises(ConfigError, match="non-loopback"):
        console_factory(project, "0.0.0.0", user="x", allow_exec=True)
