"""The report checks of ``verify`` (generator/archive/reportcheck.py): the ledger roots worked out
once per verify equal the RFC 6962 root of every prefix; every report is checked at one moment
(the one ``verify`` started at); workers that read the records themselves find exactly what one
process finds."""

from __future__ import annotations

import datetime
import gc
import random
import shutil
from pathlib import Path
from typing import Any

import pytest

from generator.archive import merkle, reportcheck
from generator.archive.audit import audit_project
from generator.archive.ledger import ledger_bytes, parse_ledger
from generator.archive.ledgerstate import prefix_roots
from generator.archive.seal import close_run
from generator.core.quietgc import FREE_EVERY
from generator.report.verify import load_trust
from generator.runs.start import start_run
from generator.runs.store import all_run_files
from tests.helpers import RUN_SITE


def test_prefix_roots_are_the_root_of_every_prefix() -> None:
    rng = random.Random(9162)
    leaves = [merkle.leaf_hash(rng.randbytes(rng.randrange(60))) for _ in range(130)]
    assert prefix_roots(leaves) == [merkle.root(leaves[:size]) for size in range(len(leaves) + 1)]
    assert prefix_roots([]) == [merkle.EMPTY_ROOT]


@pytest.fixture(scope="module")
def sealed_three(tmp_path_factory: pytest.TempPathFactory, signing_key: Any) -> Path:
    project = tmp_path_factory.mktemp("reports") / "project"
    for rel, body in RUN_SITE.items():
        (project / rel).parent.mkdir(parents=True, exist_ok=True)
        (project / rel).write_text("\n".join(line.strip() for line in body.strip().splitlines()) + "\n")
    for n in range(4):
        _, record = start_run(project, "deploy", release=f"v{n}", at=f"2026-07-0{n + 1}T08:00:00Z")
        if n < 3:
            close_run(project, record.id, key=str(signing_key.pkcs12), force=True, at=f"2026-07-0{n + 1}T08:30:00Z")
    return project


@pytest.fixture
def project(sealed_three: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "project"
    shutil.copytree(sealed_three, copy)
    return copy


def _job(project: Path, key: Any, now: datetime.datetime) -> reportcheck.ReportJob:
    shown, raw, _ = ledger_bytes(project)
    entries, _, leaves = parse_ledger(raw, shown)
    return reportcheck.report_job(entries, leaves, load_trust([Path(key.certificate)]), [], now)


def test_every_report_is_checked_at_the_moment_verify_started(project: Path, signing_key: Any) -> None:
    """The job's moment is the one each certificate is checked at: from far in the future the
    signer's certificate has expired for every report, at the job's own time for none."""
    files = all_run_files(project)
    later = reportcheck.check_runs(files, _job(project, signing_key, datetime.datetime(2200, 1, 1,
                                                                                      tzinfo=datetime.UTC)))
    sealed = [row for row in later if row.report is not None]
    assert len(sealed) == 3
    assert all(any("signer certificate" in f.message and "2200-01-01" in f.message for f in row.findings)
               for row in sealed)
    now = reportcheck.check_runs(files, _job(project, signing_key, datetime.datetime.now(datetime.UTC)))
    assert [row.findings for row in now if row.report is not None] == [(), (), ()]


def test_workers_reading_the_records_find_what_one_process_finds(project: Path, signing_key: Any,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    files = {f.path.stem: f for f in all_run_files(project)}
    first, second, third, still_open = sorted(files)
    files[first].path.write_text(files[first].path.read_text().replace("release: v0", "release: [v0"))
    files[second].report.unlink()
    pdf = files[third].report
    data = bytearray(pdf.read_bytes())
    data[len(data) // 2] ^= 1
    pdf.write_bytes(bytes(data))
    trust = [Path(signing_key.certificate)]

    def found() -> list[str]:
        return [str(f) for f in audit_project(project, trust).findings]

    monkeypatch.setattr(reportcheck, "PARALLEL_FROM", 10**6)
    alone = found()
    monkeypatch.setattr(reportcheck, "PARALLEL_FROM", 1)
    assert found() == alone
    assert any(f.startswith(f"content/runs/deploy/{first}.yml") for f in alone)
    assert any(f.startswith(f"content/runs/deploy/{second}.pdf") and "signed report is missing" in f for f in alone)
    assert any(f.startswith(f"content/runs/deploy/{third}.pdf") and "invalid" in f for f in alone)
    assert not any(still_open in f for f in alone)


def test_checking_many_reports_holds_at_most_a_pace_of_them(project: Path, signing_key: Any,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker checks its chunk with the cyclic collector off (it walked every report's objects
    again and again: a fifth of verify's time); a PDF reader is kept alive by reference cycles, so
    the chunk frees them at a pace, or a worker's chunk of 5,000 reports would all stay in memory."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    sealed = [f for f in all_run_files(project) if f.report.exists()]
    chunk = sealed * (FREE_EVERY + 5)  # the same three reports again and again: a long chunk
    alive: list[int] = []
    collector_on: list[bool] = []
    check = reportcheck.check_report

    def counted(*args: Any) -> Any:
        result = check(*args)
        alive.append(sum(isinstance(o, PdfFileReader) for o in gc.get_objects()))
        collector_on.append(gc.isenabled())
        return result

    monkeypatch.setattr(reportcheck, "check_report", counted)
    gc.collect()
    rows = reportcheck._run_chunk(_job(project, signing_key, datetime.datetime.now(datetime.UTC)), chunk)
    assert len(rows) == len(chunk) and all(row.report is not None and not row.findings for row in rows)
    assert not any(collector_on)
    assert 0 < max(alive) <= FREE_EVERY + 1, alive  # without pacing: one reader per report checked
    assert gc.isenabled()  # on again after the chunk


def test_reports_verify_alike_on_threads_and_in_forked_workers(sealed_three: Path, signing_key: Any) -> None:
    """Signature checks run on one event loop per thread and process (not one per signature):
    the console verifies on worker threads and ``verify`` in forked workers, so a loop must never
    be shared between two threads or carried into a child."""
    import concurrent.futures
    import multiprocessing

    from generator.report.verify import verify_pdf

    pdfs = [f.report for f in all_run_files(sealed_three) if f.report.exists()]
    trust = load_trust([Path(signing_key.certificate)])
    now = datetime.datetime.now(datetime.UTC)

    def verdicts(_: object = None) -> list[str]:
        return [verify_pdf(pdf.read_bytes(), pdf.name, trust, [], now).verdict for pdf in pdfs]

    here = verdicts()
    assert here == ["valid and trusted"] * 3
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        assert list(pool.map(verdicts, range(8))) == [here] * 8
    context = multiprocessing.get_context("fork")  # the child inherits this thread's loop: it must make its own
    found = context.SimpleQueue()
    children = [context.Process(target=lambda: found.put(verdicts())) for _ in range(2)]
    for child in children:
        child.start()
    for child in children:
        child.join(60)
    assert [found.get() for _ in children] == [here] * 2


def test_a_reports_data_is_what_dataclasses_asdict_gives(sealed_three: Path, signing_key: Any) -> None:
    """``verify --json`` writes each signature's fields without ``asdict``'s deep copies: the same
    mapping, key for key and in the same order."""
    import dataclasses

    from generator.report.signatures import SignatureCheck, TimestampCheck
    from generator.report.verify import verify_pdf

    pdf = next(f.report for f in all_run_files(sealed_three) if f.report.exists())
    check = verify_pdf(pdf.read_bytes(), pdf.name, load_trust([Path(signing_key.certificate)]), [])
    made = [*check.signatures, SignatureCheck("a", "b", "c", "d", True, False, True, False, True,
                                              TimestampCheck(True, True, "t", "tsa"), certificate_problems=("x",))]
    for signature in made:
        assert list(signature.to_data().items()) == list(dataclasses.asdict(signature).items())
    assert check.to_data()["signatures"] == [dataclasses.asdict(s) for s in check.signatures]
