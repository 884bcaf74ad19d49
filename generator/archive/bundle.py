"""Audit bundles: one zip per run for a change ticket, checkable on its own.

Contents: the signed report, the run record, its evidence files, the ledger entry with an
RFC 6962 inclusion proof against a signed checkpoint (and that checkpoint), an in-toto
Statement v1 naming every file by sha256, and ``MANIFEST.json`` with the sha256 of every
file. ``launchbook verify BUNDLE.zip`` checks all of it without the project.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from generator import __version__
from generator.archive import merkle
from generator.archive.checkpoint import latest_checkpoint, make_checkpoint, read_checkpoint
from generator.archive.ledger import (
    ApprovalEntry,
    LedgerEntry,
    TimestampEntry,
    parse_entry,
    read_ledger,
    sealed_entries,
)
from generator.archive.revisions import check_revisions
from generator.core.diagnostics import Diagnostic, Severity
from generator.core.errors import SourceError
from generator.core.files import atomic_write, check_output_path, read_regular
from generator.report.verify import compare_with_archive, load_trust, verify_pdf
from generator.runs.codec import load_record, safe_evidence_path
from generator.runs.outcome import summarize
from generator.runs.record import canonical_json, parse_time
from generator.runs.store import find_run, read_record
from generator.runs.timeline import time_problems

MANIFEST = "MANIFEST.json"
STATEMENT = "statement.intoto.json"
MAX_MEMBER = 512 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class BundleCheck:
    """What verifying a bundle found."""

    path: str
    run: str
    diagnostics: tuple[Diagnostic, ...]
    """Every problem, each naming the bundled file concerned (or the bundle)."""
    verdict: str
    signatures: tuple[dict[str, Any], ...] = ()
    """Every signature of the report (the seal, then approvals): signer, time, reason, …"""

    @property
    def ok(self) -> bool:
        return not self.diagnostics

    @property
    def problems(self) -> tuple[str, ...]:
        return tuple(str(d) for d in self.diagnostics)

    def to_data(self) -> dict[str, Any]:
        return {"path": self.path, "run": self.run, "ok": self.ok, "verdict": self.verdict,
                "signatures": list(self.signatures), "problems": list(self.problems),
                "diagnostics": [{"path": d.path, "line": d.line, "message": d.message, "severity": d.severity.value}
                                for d in self.diagnostics]}


class _Problems:
    """Problems found in one bundle, as Diagnostics."""

    def __init__(self, bundle: str) -> None:
        self.bundle = bundle
        self.found: list[Diagnostic] = []

    def add(self, message: str, member: str | None = None) -> None:
        diagnostic = Diagnostic(member or self.bundle, None, message, "", Severity.ERROR)
        if diagnostic not in self.found:
            self.found.append(diagnostic)

    def json_object(self, files: dict[str, bytes], name: str) -> dict[str, Any]:
        """A bundled JSON file that must hold an object; any damage is a problem, never a traceback."""
        if name not in files:
            self.add(f"no {name} in the bundle")
            return {}
        try:
            data = json.loads(files[name].decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            self.add(f"unreadable JSON: {exc}", name)
            return {}
        if not isinstance(data, dict):
            self.add("must hold a JSON object", name)
            return {}
        return data


def create_bundle(project: Path, run_id: str, output: Path | None, key: str | None = None, *,
                  force: bool = False) -> tuple[Path, int]:
    """Write the bundle for a sealed run; returns (path, number of files). An existing
    file is replaced only with ``force``, and never one inside content/ or themes/."""

    target = check_output_path(output or Path(f"{run_id}-audit-bundle.zip"), project, force)
    run = find_run(project, run_id)
    record = read_record(run)
    if record.sealed is None:
        raise SourceError(f"run {run_id!r} is not sealed; close it first (`launchbook run close`)", run.shown)
    evidence: dict[str, bytes] = {}
    for name, item in record.evidence_files().items():  # read first: a refusal writes no checkpoint
        if safe_evidence_path(name):
            try:  # never through a link: the bundle would carry a file from elsewhere
                evidence[name] = read_regular(run.folder / name, run.folder)
            except SourceError as exc:
                raise SourceError(f"evidence file {name} {exc.reason}", run.shown, item.line or None) from None
    report = read_regular(run.report, run.path.parent, shown=run.shown.removesuffix(".yml") + ".pdf")
    entries, leaves = read_ledger(project)
    entry = next((e for e in sealed_entries(entries) if e.run == run_id), None)
    if entry is None:
        raise SourceError(f"run {run_id!r} has no ledger entry; `launchbook verify` explains why", run.shown)
    checkpoint_path = latest_checkpoint(project, entry.seq + 1)
    if checkpoint_path is None:
        if not (key or os.environ.get("LAUNCHBOOK_SIGNING_KEY")):
            raise SourceError("no signed checkpoint covers this run yet: run `launchbook checkpoint`, or pass --key")
        checkpoint_path, _ = make_checkpoint(project, key)
    checkpoint = read_checkpoint(checkpoint_path)
    size = checkpoint.head.size
    files: dict[str, bytes] = {
        f"{run_id}.pdf": report,
        f"{run_id}.yml": run.path.read_bytes(),
        "checkpoint.json": checkpoint_path.read_bytes(),
    }
    files.update(evidence)
    files["ledger-entry.json"] = (json.dumps({
        "entry": entry.data(),
        "leaf_index": entry.seq,
        "tree_size": size,
        "root_sha256": checkpoint.head.root,
        "inclusion_proof": [p.hex() for p in merkle.inclusion_proof(entry.seq, leaves[:size])],
        "approvals": [e.data() for e in entries if isinstance(e, ApprovalEntry) and e.run == run_id],
        "document_timestamps": [e.data() for e in entries if isinstance(e, TimestampEntry) and e.run == run_id],
        "hashing": "RFC 6962: leaf = SHA-256(0x00 || canonical JSON of entry), node = SHA-256(0x01 || left || right)",
    }, indent=2, sort_keys=True) + "\n").encode("utf-8")
    summary = summarize(record)
    statement = {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": name, "digest": {"sha256": hashlib.sha256(data).hexdigest()}}
                    for name, data in sorted(files.items())],
        "predicateType": "https://launchbook.dev/go-live-run/v1",
        "predicate": {
            "run": record.id, "checklist": record.checklist, "release": record.release,
            "environment": record.environment, "change": record.change, "outcome": summary.outcome.value,
            "completion": summary.completion, "counts": summary.counts, "sealed_at": record.sealed.get("closed_at"),
            "record_sha256": record.digest(), "ledger_seq": entry.seq, "generator": f"launchbook {__version__}",
        },
    }
    files[STATEMENT] = (json.dumps(statement, indent=2, sort_keys=True) + "\n").encode("utf-8")
    manifest = {"files": {name: hashlib.sha256(data).hexdigest() for name, data in sorted(files.items())},
                "run": record.id, "algorithm": "sha256"}
    files[MANIFEST] = (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode("utf-8")
    moment = parse_time(record.sealed.get("closed_at") or record.finished_at)
    stamp = (moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second)
    with tempfile.SpooledTemporaryFile() as buffer:
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name in sorted(files):
                info = zipfile.ZipInfo(f"{run_id}/{name}", date_time=stamp)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                archive.writestr(info, files[name])
        buffer.seek(0)
        atomic_write(target, buffer)
    return target, len(files)


def _members(archive: zipfile.ZipFile, problems: _Problems) -> tuple[str, dict[str, bytes]]:
    names = archive.namelist()
    unsafe = [n for n in names if n.startswith("/") or "\\" in n or ".." in PurePosixPath(n).parts]
    if unsafe:
        problems.add(f"unsafe path in bundle: {unsafe[0]}")
        return "", {}
    if len(names) != len(set(names)):
        problems.add("a file name appears twice in the bundle (which copy counts is up to the tool reading it): "
                     + ", ".join(sorted({n for n in names if names.count(n) > 1})[:5]))
        return "", {}
    roots = {name.split("/", 1)[0] for name in names}
    if len(roots) != 1:
        problems.add("a bundle holds exactly one top-level folder named after its run")
        return "", {}
    root = roots.pop()
    files: dict[str, bytes] = {}
    for info in archive.infolist():
        if info.is_dir():
            continue
        inner = PurePosixPath(info.filename).relative_to(root).as_posix()
        if info.file_size > MAX_MEMBER:
            problems.add(f"file too large to check: {info.filename}")
            continue
        files[inner] = archive.read(info)
    return root, files


def verify_bundle(path: Path, trust_paths: list[Path], tsa_trust_paths: list[Path] | None = None) -> BundleCheck:
    """Check a bundle on its own: manifest, statement, report, record, evidence, inclusion proof."""

    problems = _Problems(str(path))
    try:
        with zipfile.ZipFile(path) as archive:
            run_id, files = _members(archive, problems)
    except (OSError, zipfile.BadZipFile) as exc:
        problems.add(f"not a readable zip: {exc}")
        return BundleCheck(str(path), "", tuple(problems.found), "unreadable")
    manifest = problems.json_object(files, MANIFEST).get("files", {}) if files else {}
    if not isinstance(manifest, dict) or not all(isinstance(v, str) for v in manifest.values()):
        problems.add("'files' must map each bundled file to its sha256", MANIFEST)
        manifest = {}
    if not manifest and files:
        problems.add("lists no files: nothing in the bundle is vouched for", MANIFEST)
    for name, digest in sorted(manifest.items()):
        if name not in files:
            problems.add("listed in the manifest but missing", name)
        elif hashlib.sha256(files[name]).hexdigest() != digest:
            problems.add("sha256 differs from the manifest (changed after bundling)", name)
    for name in sorted(set(files) - set(manifest) - {MANIFEST}):
        problems.add("not listed in the manifest (added after bundling)", name)
    statement = problems.json_object(files, STATEMENT) if files else {}
    subjects_raw = statement.get("subject", [])
    subjects = {s["name"]: (s.get("digest") or {}).get("sha256") for s in subjects_raw
                if isinstance(s, dict) and isinstance(s.get("name"), str) and isinstance(s.get("digest") or {}, dict)} \
        if isinstance(subjects_raw, list) else {}
    if statement.get("_type") != "https://in-toto.io/Statement/v1":
        problems.add("not an in-toto Statement v1", STATEMENT)
    if not isinstance(subjects_raw, list) or len(subjects) != len(subjects_raw):
        problems.add("every subject must be an object with a 'name' and a 'digest'", STATEMENT)
    for name, digest in subjects.items():
        if name not in files:
            problems.add(f"subject {name} is not in the bundle", STATEMENT)
        elif manifest.get(name) != digest:
            problems.add(f"subject {name} does not match the manifest", STATEMENT)
    trust = load_trust(trust_paths)
    record_text = files.get(f"{run_id}.yml")
    pdf = files.get(f"{run_id}.pdf")
    record = None
    if record_text is None or pdf is None:
        problems.add("the bundle lacks the run record or the signed report")
    else:
        try:
            record = load_record(record_text.decode("utf-8"), f"{run_id}.yml")
        except SourceError as exc:
            problems.add(exc.reason if exc.line is None else f"line {exc.line}: {exc.reason}", f"{run_id}.yml")
        except UnicodeDecodeError as exc:
            problems.add(f"not UTF-8: {exc}", f"{run_id}.yml")
    verdict = "unchecked"
    signatures: tuple[dict[str, Any], ...] = ()
    if record is not None and pdf is not None:
        check = verify_pdf(pdf, f"{run_id}.pdf", trust, load_trust(tsa_trust_paths or []))
        report = record.extra.get("report") or {}
        compare_with_archive(check, pdf, record.archived_data(), report.get("sha256"), report.get("size"))
        verdict = check.verdict
        signatures = tuple(check.to_data()["signatures"])
        for problem in check.problems:
            problems.add(problem, f"{run_id}.pdf")
        for diagnostic in time_problems(record, f"{run_id}.yml"):
            if diagnostic.severity is Severity.ERROR:
                problems.add(diagnostic.message, diagnostic.path)
        for name, evidence in record.evidence_files().items():
            if hashlib.sha256(files.get(name, b"")).hexdigest() != evidence.sha256:
                problems.add("missing or differs from the recorded sha256", name)
        _check_inclusion(problems, files, record, pdf, check, trust)
    return BundleCheck(str(path), run_id, tuple(problems.found), verdict, signatures)


def _check_inclusion(problems: _Problems, files: dict[str, bytes], record: Any, pdf: bytes, check: Any,
                     trust: list[Any]) -> None:
    name = "ledger-entry.json"
    proof = problems.json_object(files, name)
    entry = proof.get("entry")
    if not isinstance(entry, dict):
        if proof:
            problems.add("has no 'entry' object", name)
        return
    if entry.get("record_sha256") != record.digest():
        problems.add("ledger entry's record sha256 does not match the bundled record", name)
    if entry.get("report_sha256") != check.sealed_sha256:
        problems.add("ledger entry's report sha256 is not the revision the report's certification seal covers "
                     "(the report was replaced or its seal removed)", name)
    try:  # the revisions the ledger recorded after the seal: each must be in the report, as recorded
        seal = parse_entry(entry)
        lists = [proof.get(kind, []) for kind in ("approvals", "document_timestamps")]
        if not isinstance(seal, LedgerEntry) or not all(isinstance(listed, list) for listed in lists):
            raise ValueError("'entry' must be a seal line, 'approvals' and 'document_timestamps' lists of lines")
        revisions = sorted((parse_entry(line) for listed in lists for line in listed), key=lambda e: e.seq)
    except (ValueError, TypeError) as exc:
        problems.add(f"unreadable ledger lines: {exc}", name)
    else:
        if any(r.run != seal.run or r.seq <= seal.seq for r in revisions):
            problems.add("a listed revision is of another run, or not after its seal", name)
        findings: list[Diagnostic] = []
        check_revisions(findings, name, pdf, seal, list(revisions), check)
        for finding in findings:
            if finding.severity is Severity.ERROR:
                problems.add(finding.message, name)
    leaf = merkle.leaf_hash(canonical_json(entry))
    index, size, root, hashes = (proof.get(k) for k in ("leaf_index", "tree_size", "root_sha256", "inclusion_proof"))
    try:
        included = type(index) is int and type(size) is int and isinstance(hashes, list) and isinstance(root, str) \
            and merkle.verify_inclusion(index, size, leaf, [bytes.fromhex(h) for h in hashes], bytes.fromhex(root))
    except (TypeError, ValueError, OverflowError):
        included = False
    if not included:
        problems.add("inclusion proof does not verify: the entry is not in the ledger the checkpoint signed", name)
    with tempfile.TemporaryDirectory() as scratch:
        checkpoint_file = Path(scratch) / "checkpoint.json"
        checkpoint_file.write_bytes(files.get("checkpoint.json", b""))
        try:
            checkpoint = read_checkpoint(checkpoint_file)
        except SourceError as exc:
            problems.add(exc.reason, "checkpoint.json")
            return
    if not checkpoint.signature_ok:
        problems.add("signature is invalid", "checkpoint.json")
    if not any(cert.dump() == checkpoint.certificate_der for cert in trust):
        problems.add(f"signed by {checkpoint.signer}, who is not trusted", "checkpoint.json")
    if (checkpoint.head.size, checkpoint.head.root) != (proof.get("tree_size"), proof.get("root_sha256")):
        problems.add("inclusion proof is not against the bundled checkpoint's tree head", name)
