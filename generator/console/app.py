"""The run console: work through a checklist in the browser, under ``launchbook serve`` only.

A Starlette application, thin over the same library functions the CLI calls
(``start_run``, ``mark_item``, ``add_signoff``, ``close_run``), so the record, the report
and the ledger are exactly as trustworthy as from the command line: the store's lock
serialises every write, and every refusal is the library's own message. Pages are
rendered from the theme's ``console/`` templates (autoescaped); nothing of the console is
ever written to the static output.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path, PurePath
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from generator.archive.seal import close_run
from generator.config import load_config
from generator.console.people import who_has
from generator.console.session import COOKIE, TOKEN_FIELD, Sessions
from generator.console.steps import run_step
from generator.console.views import MARKS, STATUS_LABELS, RunView, record_version, run_view
from generator.core.errors import ConfigError, LaunchbookError
from generator.core.templating import make_environment, render_template, theme_dirs
from generator.report.keys import resolve_key
from generator.runs.evidence import is_url
from generator.runs.lookup import find_checklist
from generator.runs.operations import add_signoff, mark_item
from generator.runs.outcome import unfinished_required
from generator.runs.start import start_run
from generator.runs.store import find_run, read_record

BASE = "/__launchbook/console"
POLL = 0.25
"""Seconds between looks at an open run's record for live updates."""
KEEPALIVE = 15.0
MAX_STREAMS = 32
MAX_FIELDS = 20
MAX_TEXT = 64 * 1024
"""Longest form text (a note, a comment)."""
JS = (Path(__file__).with_name("console.js")).read_text(encoding="utf-8")


class Console:
    """The console's state: project, who acts, signing key, templates."""

    def __init__(self, project: Path, sessions: Sessions, key: str | None, stopping: threading.Event,
                 allow_exec: bool = False) -> None:
        self.project, self.sessions, self.key, self.stopping = project, sessions, key, stopping
        self.allow_exec = allow_exec and sessions.loopback
        """Runnable steps may run: asked for, and only on a loopback address."""
        self.streams = threading.BoundedSemaphore(MAX_STREAMS)

    def env(self) -> Any:
        config = load_config(self.project / "content", "content")
        return make_environment(theme_dirs(self.project, config.theme)), config

    def page(self, request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        env, config = self.env()
        session = request.cookies.get(COOKIE) or self.sessions.new_session()
        who = self.sessions.who(_headers(request), session)
        html = render_template(env, template, site=config, base=BASE, token=self.sessions.token(session), who=who,
                               read_only=who is None, why_read_only=self.sessions.why_not(), labels=STATUS_LABELS,
                               marks=MARKS, sign_in=self.sessions.people is not None, here=request.url.path,
                               allow_exec=self.allow_exec,
                               **context)
        response = HTMLResponse(html, status_code=status)
        if request.cookies.get(COOKIE) != session:
            response.set_cookie(COOKIE, session, httponly=True, samesite="strict", path=BASE + "/")
        return response

    def fragments(self, view: RunView) -> dict[str, Any]:
        """Live-update payload: the summary bar and every item's state, rendered by the same templates."""
        env, config = self.env()
        module = env.get_template("console/_run_parts.html").make_module({"base": BASE, "labels": STATUS_LABELS})
        return {"version": view.version, "closed": view.closed, "summary": str(module.summary(view)),
                "items": {i.item.id: str(module.state(i)) for i in view.items}}

    def load(self, run_id: str) -> RunView:
        run = find_run(self.project, run_id)
        version = record_version(run)
        return run_view(run, read_record(run), version)

    # -- writes ---------------------------------------------------------------------------------

    async def write(self, request: Request, act: Callable[[str, dict[str, Any]], str]) -> Response:
        """Check the request (origin, token, person), read the form, act; answer JSON or redirect."""
        wants_json = "application/json" in request.headers.get("accept", "")
        refusal = self.refuse(request)
        if refusal:
            return _answer(wants_json, 403, refusal, None)
        try:
            form = await request.form(max_files=1, max_fields=MAX_FIELDS, max_part_size=MAX_TEXT)
        except Exception as exc:  # noqa: BLE001 - malformed multipart of any kind is the client's problem
            return _answer(wants_json, 400, f"unreadable form: {getattr(exc, 'detail', exc)}", None)
        try:
            if not self.sessions.token_ok(request.cookies.get(COOKIE), str(form.get(TOKEN_FIELD) or "")):
                return _answer(wants_json, 403, "missing or wrong form token (reload the page)", None)
            who = self.sessions.who(_headers(request), request.cookies.get(COOKIE))
            if who is None:
                return _answer(wants_json, 403, self.sessions.why_not(), None)
            try:
                target = await asyncio.to_thread(act, who, dict(form.multi_items()))
            except LaunchbookError as exc:
                return _answer(wants_json, 409, exc.format_message(), None)
            return _answer(wants_json, 200, "", target)
        finally:
            await form.close()

    def refuse(self, request: Request) -> str:
        """Why a write request is refused before its body is read ("" = not refused)."""
        origin = request.headers.get("origin")
        host = request.headers.get("host", "")
        if origin is not None and origin != f"http://{host}":
            return f"cross-origin write refused (Origin {origin!r} is not this server)"
        if request.cookies.get(COOKIE) is None:
            return "no console session (open the page first; cookies must be on)"
        return ""


def _headers(request: Request) -> dict[str, str]:
    return {k.lower(): v for k, v in request.headers.items()}


def _answer(wants_json: bool, status: int, error: str, target: str | None) -> Response:
    if wants_json:
        return JSONResponse({"ok": not error, "error": error, "location": target}, status_code=status)
    if error:
        return Response(f"{error}\n", status_code=status, media_type="text/plain; charset=utf-8")
    return RedirectResponse(target or BASE + "/", status_code=303)


def _text(form: dict[str, Any], name: str) -> str:
    value = form.get(name, "")
    return value if isinstance(value, str) else ""


def build_app(project: Path, sessions: Sessions, *, key: str | None = None,
              stopping: threading.Event | None = None, allow_exec: bool = False,
              exec_timeout: float = 300.0) -> Starlette:
    """The console as an ASGI application, mounted by ``serve`` under ``/__launchbook/console/``."""
    console = Console(project, sessions, key, stopping or threading.Event(), allow_exec)
    has_key = resolve_key(key, project) is not None

    async def script(request: Request) -> Response:
        return Response(JS, media_type="text/javascript; charset=utf-8")

    async def start_form(request: Request) -> Response:
        checklist_id = request.path_params["checklist"]
        try:
            checklist = await asyncio.to_thread(_checklist_title, project, checklist_id)
        except LaunchbookError as exc:
            return console.page(request, "console/error.html", 404, message=exc.format_message())
        return console.page(request, "console/start.html", checklist_id=checklist_id, checklist_title=checklist)

    async def start(request: Request) -> Response:
        checklist_id = request.path_params["checklist"]

        def act(who: str, form: dict[str, Any]) -> str:
            run, record = start_run(project, checklist_id, release=_text(form, "release"),
                                    change=_text(form, "change"), change_url=_text(form, "change_url"),
                                    environment=_text(form, "environment"),
                                    operator=_text(form, "operator").strip() or who)
            return f"{BASE}/run/{record.id}"

        return await console.write(request, act)

    async def run_page(request: Request) -> Response:
        try:
            view = await asyncio.to_thread(console.load, request.path_params["run"])
        except LaunchbookError as exc:
            return console.page(request, "console/error.html", 404, message=exc.format_message())
        still_open = unfinished_required(view.record)
        return console.page(request, "console/run.html", view=view, still_open=still_open,
                            has_key=has_key, roles=view.record.snapshot.signoff_roles)

    async def state(request: Request) -> Response:
        try:
            view = await asyncio.to_thread(console.load, request.path_params["run"])
        except LaunchbookError as exc:
            return JSONResponse({"error": exc.format_message()}, status_code=404)
        return JSONResponse(console.fragments(view))

    async def events(request: Request) -> Response:
        run_id = request.path_params["run"]
        if not console.streams.acquire(blocking=False):
            return Response("too many open console pages\n", status_code=503, headers={"Retry-After": "5"})

        async def stream() -> AsyncIterator[bytes]:
            try:
                last, idle = "", 0.0
                while not console.stopping.is_set():
                    try:
                        run = await asyncio.to_thread(find_run, project, run_id)
                        version = record_version(run)
                        if version != last:
                            view = await asyncio.to_thread(console.load, run_id)
                            last = view.version
                            yield f"data: {json.dumps(console.fragments(view))}\n\n".encode()
                            idle = 0.0
                    except LaunchbookError as exc:  # mid-write or removed: say so, keep watching
                        yield f"event: problem\ndata: {json.dumps(exc.format_message())}\n\n".encode()
                    await asyncio.sleep(POLL)
                    idle += POLL
                    if idle >= KEEPALIVE:
                        yield b": keep-alive\n\n"
                        idle = 0.0
            finally:
                console.streams.release()

        return StreamingResponse(stream(), media_type="text/event-stream")

    async def mark(request: Request) -> Response:
        run_id = request.path_params["run"]

        def act(who: str, form: dict[str, Any]) -> str:
            item = _text(form, "item")
            evidence: list[str] = []
            url = _text(form, "evidence_url").strip()
            if url:
                if not is_url(url):
                    raise ConfigError("evidence links must be http(s) URLs")
                evidence.append(url)
            upload = form.get("evidence_file")
            with tempfile.TemporaryDirectory(prefix="launchbook-upload-") as scratch:
                if isinstance(upload, UploadFile) and upload.filename:
                    name = PurePath(upload.filename.replace("\\", "/")).name.replace("\0", "") or "upload"
                    path = Path(scratch) / name[:200]
                    with path.open("wb") as out:
                        upload.file.seek(0)
                        while chunk := upload.file.read(1 << 20):
                            out.write(chunk)
                    evidence.append(str(path))
                mark_item(project, run_id, item, status=_text(form, "status"), by=who, note=_text(form, "note"),
                          evidence=tuple(evidence), base=project)
            return f"{BASE}/run/{run_id}#item-{item}"

        return await console.write(request, act)

    async def signoff(request: Request) -> Response:
        run_id = request.path_params["run"]

        def act(who: str, form: dict[str, Any]) -> str:
            add_signoff(project, run_id, role=_text(form, "role"), name=_text(form, "name").strip() or who,
                        decision=_text(form, "decision"), meaning=_text(form, "meaning"),
                        comment=_text(form, "comment"))
            return f"{BASE}/run/{run_id}#signoffs"

        return await console.write(request, act)

    async def execute(request: Request) -> Response:
        run_id = request.path_params["run"]

        def act(who: str, form: dict[str, Any]) -> str:
            if not console.allow_exec:
                raise ConfigError("running steps is off: start the server with --allow-exec, on a loopback address")
            item = _text(form, "item")
            run_step(project, run_id, item, by=who, timeout=exec_timeout)
            return f"{BASE}/run/{run_id}#item-{item}"

        return await console.write(request, act)

    async def close(request: Request) -> Response:
        run_id = request.path_params["run"]

        def act(who: str, form: dict[str, Any]) -> str:
            force = _text(form, "force") == "yes"
            if force and _text(form, "confirm") != "yes":
                raise ConfigError("confirm that the report will say 'closed with exceptions' to close anyway")
            close_run(project, run_id, key=key, force=force)
            return f"{BASE}/run/{run_id}#close"

        return await console.write(request, act)

    async def report(request: Request) -> Response:
        try:
            view = await asyncio.to_thread(console.load, request.path_params["run"])
        except LaunchbookError as exc:
            return Response(exc.format_message(), status_code=404)
        if view.report is None:
            return Response("this run has no signed report yet\n", status_code=404)
        return FileResponse(view.report, media_type="application/pdf", filename=view.report.name)

    async def login_form(request: Request) -> Response:
        return console.page(request, "console/login.html", next=_local(request.query_params.get("next", "")))

    async def login(request: Request) -> Response:
        wants_json = "application/json" in request.headers.get("accept", "")
        refusal = console.refuse(request)
        if refusal or sessions.people is None:
            return _answer(wants_json, 403, refusal or "this server has no sign-in (serve --auth FILE)", None)
        form = await request.form(max_files=0, max_fields=MAX_FIELDS, max_part_size=MAX_TEXT)
        session = request.cookies.get(COOKIE) or ""
        if not sessions.token_ok(session, str(form.get(TOKEN_FIELD) or "")):
            return _answer(wants_json, 403, "missing or wrong form token (reload the page)", None)
        person = who_has(sessions.people, str(form.get("token") or ""))
        if person is None:
            await asyncio.sleep(0.5)  # guessing tokens one by one stays slow
            return _answer(wants_json, 403, "unknown token", None)
        sessions.signed_in[session] = person
        return _answer(wants_json, 200, "", _local(str(form.get("next") or "")) or "/index.html")

    async def logout(request: Request) -> Response:
        wants_json = "application/json" in request.headers.get("accept", "")
        form = await request.form(max_files=0, max_fields=MAX_FIELDS, max_part_size=MAX_TEXT)
        session = request.cookies.get(COOKIE) or ""
        if console.refuse(request) or not sessions.token_ok(session, str(form.get(TOKEN_FIELD) or "")):
            return _answer(wants_json, 403, "missing or wrong form token (reload the page)", None)
        sessions.signed_in.pop(session, None)
        return _answer(wants_json, 200, "", BASE + "/login")

    async def not_found(request: Request, exc: Exception) -> Response:
        return Response("no such console page\n", status_code=404, media_type="text/plain; charset=utf-8")

    routes = [
        Route(BASE + "/console.js", script),
        Route(BASE + "/login", login_form, methods=["GET"]),
        Route(BASE + "/login", login, methods=["POST"]),
        Route(BASE + "/logout", logout, methods=["POST"]),
        Route(BASE + "/start/{checklist:path}", start_form, methods=["GET"]),
        Route(BASE + "/start/{checklist:path}", start, methods=["POST"]),
        Route(BASE + "/run/{run}", run_page, methods=["GET"]),
        Route(BASE + "/run/{run}/state", state, methods=["GET"]),
        Route(BASE + "/run/{run}/events", events, methods=["GET"]),
        Route(BASE + "/run/{run}/report.pdf", report, methods=["GET"]),
        Route(BASE + "/run/{run}/mark", mark, methods=["POST"]),
        Route(BASE + "/run/{run}/signoff", signoff, methods=["POST"]),
        Route(BASE + "/run/{run}/close", close, methods=["POST"]),
        Route(BASE + "/run/{run}/exec", execute, methods=["POST"]),
    ]
    return Starlette(routes=routes, exception_handlers={404: not_found, 405: not_found})


def _local(target: str) -> str:
    """``target`` if it is a path on this server (never another site: no open redirect), else ""."""
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target else ""


def _checklist_title(project: Path, checklist_id: str) -> str:
    return find_checklist(project, checklist_id).title
