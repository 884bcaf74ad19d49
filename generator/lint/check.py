"""Lint a set of Markdown sources: every problem with file, line and rule code; ``--fix``
rewrites them with the repairs the parser already knows.

Fixing is atomic per file (temp file + rename, mode kept), keeps a ``.bak`` copy unless
told not to, and is idempotent: repaired text has nothing left to repair.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from generator.config import DEFAULT_MAX_DOCUMENT_SIZE, check_config
from generator.core.diagnostics import Diagnostic, Severity
from generator.core.errors import ConfigError, LaunchbookError, SourceError
from generator.core.files import CACHE_DIR, atomic_write, regular_file
from generator.core.selection import Selection
from generator.core.templating import theme_dirs
from generator.lint.rules import RULES, bare_boxes, document_problems
from generator.model import Document
from generator.runs.store import all_run_files, read_record
from generator.site.links import anchors_of, broken_links
from generator.site.urls import output_path
from generator.sources.bounds import read_document
from generator.sources.cache import parse_cached
from generator.sources.cachedir import cache_dir
from generator.sources.checklist import parse_document
from generator.sources.collect import SourceFile, collect_sources
from generator.sources.repair import decode_source, repair_text


@dataclass(frozen=True, slots=True)
class LintResult:
    problems: tuple[Diagnostic, ...]
    """What is wrong now (after fixing, when ``fix`` was asked), sorted by file and line."""
    fixed: tuple[tuple[str, str | None], ...]
    """Files rewritten by ``--fix``, each with its backup copy (or ``None``)."""
    files: int
    """How many files were checked."""


def lint(project: Path, paths: list[Path], *, fix: bool = False, backup: bool = True) -> LintResult:
    """Lint ``paths`` (files or folders; default the project's ``content/``)."""
    content = project / "content"
    targets = _targets(content, paths or [content])
    if fix:
        for target in targets:  # every target checked before the first is rewritten
            _fixable(target, content)
    config, _ = check_config(content, "content")
    limit = config.max_document_size if config is not None else DEFAULT_MAX_DOCUMENT_SIZE
    fixed = [_fix(target, backup, limit) for target in targets] if fix else []
    problems: list[Diagnostic] = []
    parsed: dict[str, Document] = {}
    cache = None
    if content.is_dir():
        try:
            cache = cache_dir(project)
        except SourceError as exc:  # said once; the sources are linted without the cache
            problems.append(Diagnostic(exc.path or CACHE_DIR, exc.line, exc.reason, "LB001"))
    for target in targets:
        document, found = _check(target, limit, cache if target.shown.startswith("content/") else None)
        problems += found
        if document is not None:
            parsed[target.shown] = document
    problems += _links(content, parsed, limit, cache)
    if not paths or any(p.resolve() == content.resolve() for p in paths):
        problems += project_problems(project)
    problems.sort(key=lambda d: (d.path, d.line or 0, d.code, d.message))
    return LintResult(tuple(problems), tuple(f for f in fixed if f is not None), len(targets))


def project_problems(project: Path) -> list[Diagnostic]:
    """What stops a build besides the Markdown: ``site.yml`` (its settings, its theme) and run records."""
    content = project / "content"
    config, found = check_config(content, "content")
    problems = [Diagnostic(d.path, d.line, d.message, "LB002", d.severity) for d in found.errors]
    problems += found.warnings
    if config is not None:
        try:
            theme_dirs(project, config.theme)
        except LaunchbookError as exc:
            problems.append(Diagnostic(found.path, None, exc.reason, "LB002", Severity.ERROR))
    for run in all_run_files(project):
        try:
            read_record(run)
        except LaunchbookError as exc:
            problems.append(Diagnostic(exc.path or run.shown, exc.line, exc.reason, "LB003", Severity.ERROR))
    return problems


def _targets(content: Path, paths: list[Path]) -> list[SourceFile]:
    found: dict[Path, SourceFile] = {}
    root, plain_root = content.resolve(), Path(os.path.abspath(content))
    for given in paths:
        if not given.exists():
            raise ConfigError(f"no such file or folder: {given}")
        files = [given] if given.is_file() else [
            p for p in sorted(given.rglob("*.md"))
            if p.is_file() and not any(part.startswith((".", "_")) for part in p.relative_to(given).parts)
        ]
        for path in files:
            absolute, resolved = Path(os.path.abspath(path)), path.resolve()
            if absolute.is_relative_to(plain_root) or resolved.is_relative_to(root):
                rel = (absolute.relative_to(plain_root) if absolute.is_relative_to(plain_root)
                       else resolved.relative_to(root)).as_posix()
                if rel.split("/", 1)[0] == "runs" and given.resolve() == root:
                    continue  # run records and their evidence are not checklists
                shown = f"content/{rel}"
            else:
                rel, shown = path.name, str(path)
            if resolved not in found or (found[resolved].path.is_symlink() and not path.is_symlink()):
                found[resolved] = SourceFile(path, rel, shown)  # the path as named (a link stays a link)
    return sorted(found.values(), key=lambda t: t.shown)


def _fixable(target: SourceFile, content: Path) -> None:
    """``--fix`` rewrites (and backs up) only regular files inside ``content/``: never through
    a link, never a file elsewhere (its ``.bak`` would land outside the project)."""
    if not target.shown.startswith("content/"):
        raise ConfigError("--fix rewrites only files inside content/; lint this one without --fix", target.shown)
    try:
        regular_file(target.path, content, shown=target.shown)
    except SourceError as exc:
        raise SourceError(f"{exc.reason}; --fix never writes through a link", target.shown) from None


def _check(target: SourceFile, limit: int, cache: Path | None) -> tuple[Document | None, list[Diagnostic]]:
    """Problems of one file; its parse comes from the project's document store when ``cache``
    (its cache folder) is given and the build or an earlier lint stored it."""
    try:
        data = read_document(target.path, target.shown, limit)
        document = (parse_cached(data, target.shown, target.rel, cache) if cache is not None
                    else parse_document(data, target.shown, target.rel))
    except OSError as exc:
        return None, [Diagnostic(target.shown, None, f"cannot read: {exc.strerror}", "LB001")]
    except LaunchbookError as exc:
        return None, [Diagnostic(exc.path or target.shown, exc.line, exc.reason, exc.code or "LB001")]
    text = data.decode("utf-8", "replace").replace("\r\n", "\n").replace("\r", "\n")
    return document, [*document.warnings, *document_problems(document), *bare_boxes(text, target.shown)]


def _links(content: Path, parsed: dict[str, Document], limit: int, cache: Path | None) -> list[Diagnostic]:
    """Broken internal links of the linted files, resolved against the whole site: the walk
    says which pages exist; another page is read (from the document store, or parsed) only
    when a link points at an anchor in it."""

    if not parsed:
        return []
    pages: dict[str, Document | SourceFile] = {}
    assets: set[str] = set()
    if content.is_dir():
        tree = collect_sources(content, "content", _selection(content))
        assets = {entry.rel for entry in tree.assets}
        pages = {output_path(entry.rel): entry for entry in tree.documents}
    pages.update((output_path(document.rel_path), document) for document in parsed.values())

    def anchors(page: Document | SourceFile) -> set[str]:
        if isinstance(page, SourceFile):
            try:
                data = read_document(page.path, page.shown, limit)
                page = (parse_cached(data, page.shown, page.rel, cache) if cache is not None
                        else parse_document(data, page.shown, page.rel))
            except (OSError, LaunchbookError):
                return set()  # a page that cannot be read has no anchors (linting it says why)
        return anchors_of(page)

    return broken_links(list(parsed.values()), pages, assets, anchors)


def _selection(content: Path) -> Selection | None:
    """``site.yml``'s include/exclude (the defaults when it is broken: that is reported on its own)."""
    config, _ = check_config(content, "content")
    return config.selection if config is not None else None


def _fix(target: SourceFile, backup: bool, limit: int) -> tuple[str, str | None] | None:
    """Apply the parser's repairs to one file; return (file, backup) if it changed."""
    try:
        data = read_document(target.path, target.shown, limit)
        text, _ = decode_source(data, target.shown)
    except (OSError, LaunchbookError):
        return None  # reported by the check as LB001
    repaired = repair_text(text, target.shown).text.encode("utf-8")
    if repaired == data:
        return None
    saved = None
    if backup:
        copy = _free_name(target.path.with_name(target.path.name + ".bak"))
        shutil.copy2(target.path, copy)
        saved = str(copy)
    atomic_write(target.path, repaired, mode=None)
    return target.shown, saved


def _free_name(path: Path) -> Path:
    """``x.md.bak``, or ``x.md.bak.2`` … if an earlier backup is there (never overwritten)."""
    candidate, number = path, 1
    while os.path.lexists(candidate):
        number += 1
        candidate = path.with_name(f"{path.name}.{number}")
    return candidate


def rule_of(problem: Diagnostic) -> dict[str, object]:
    """The rule behind a problem, for output."""
    rule = RULES.get(problem.code or "LB001", RULES["LB001"])
    return {"code": rule.code, "rule": rule.name, "fixable": rule.fixable}
