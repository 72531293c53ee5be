"""The auditor's PDF report, read back with PDFium (pypdfium2; PySide6-Essentials has no
QtPdf): a real PDF whose first page holds the site, period, filter, who made it and the
chain's verification, whose table header repeats on every page, and whose pages are numbered
"page n of m"; page 1 is rendered to a PNG for a person to look at."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QImage
from sqlalchemy import text

from hmi.model.audit.record import AuditAction, AuditRecord, AuditResult
from hmi.storage.audit import AuditQuery, AuditStore
from hmi.storage.db import make_engine
from hmi.views.audit.report import write_store_report
from tests.views.audit_station import BASE, artifact, fill

pdfium = pytest.importorskip("pypdfium2", reason="reading the reports needs pypdfium2 (dev)")


class Pdf:
    """A written report, read back: its pages' text, and page 1 as an image."""

    def __init__(self, path: Path) -> None:
        assert path.read_bytes().startswith(b"%PDF-")
        self.document = pdfium.PdfDocument(str(path))

    def pageCount(self) -> int:
        return len(self.document)

    def text(self, page: int) -> str:
        """The page's text, each run of whitespace (line breaks of wrapped cells) one space;
        PDFium reads a hyphen a line was broken after as U+0002."""
        raw = str(self.document[page].get_textpage().get_text_bounded()).replace("\x02", "-")
        return " ".join(raw.split())

    def boxes(self, page: int) -> list[tuple[float, float, float, float]]:
        """Every character's box (left, bottom, right, top) in points."""
        textpage = self.document[page].get_textpage()
        return [textpage.get_charbox(i) for i in range(textpage.count_chars())]

    def size(self, page: int) -> tuple[float, float]:
        width, height = self.document[page].get_size()
        return float(width), float(height)

    def render(self, page: int, dpi: int = 150) -> QImage:
        array = self.document[page].render(scale=dpi / 72, rev_byteorder=True).to_numpy()
        height, width = array.shape[:2]
        image = QImage(array.tobytes(), width, height, width * array.shape[2],
                       QImage.Format.Format_RGBX8888 if array.shape[2] == 4
                       else QImage.Format.Format_RGB888)  # fmt: skip
        return image.copy()


def read(path: Path) -> Pdf:
    return Pdf(path)


def test_report_of_a_filtered_range(qapp: Any, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/hmi.sqlite"
    fill(url, 1200)
    store = AuditStore(make_engine(url))
    path = tmp_path / "report.pdf"
    query = AuditQuery(
        since=BASE, until=BASE + timedelta(hours=2), user_id="sam",
        results=(AuditResult.DONE,),
    )  # fmt: skip
    count, verification = write_store_report(
        store, path, query, site="Riverside Water Works",
        generated_by="ada — Ada Auditor (auditor)",
    )  # fmt: skip
    store.close()
    expected = sum(1 for i in range(720) if i % 4 == 1 and i % 7 != 0)
    assert count == expected and verification.ok

    document = read(path)
    pages = document.pageCount()
    assert pages >= 3
    first = document.text(0)
    for part in (
        "Audit trail report", "Riverside Water Works",
        "from 2025-03-01 06:00 UTC to 2025-03-01 08:00 UTC", "user = sam", "result = done",
        "ada — Ada Auditor (auditor)", "chain verified: 1,200 records", "Time (UTC)",
        f"page 1 of {pages}", "batch step 1", "2025-03-01 06:00:10", "ST-01",
        "overview/sp_entry", "Workstation", "Origin",
    ):  # fmt: skip
        assert part in first, part
    last = document.text(pages - 1)
    assert f"page {pages} of {pages}" in last and "Review and sign-off" in last
    for page in range(1, pages):  # the header repeats on every page that lists records
        text = document.text(page)
        assert "Audit trail report" not in text
        if "batch step" in text:
            assert text.startswith("# Time (UTC) User Role Workstation Origin"), page
    every = "".join(document.text(page) for page in range(pages))
    writes = sum(1 for i in range(720) if i % 4 == 1 and i % 7 != 0 and i % 5 != 0)
    assert every.count("batch step") == writes  # every record is in, once
    assert f"{expected} match the filter" in first

    image = document.render(0)
    assert not image.isNull()
    assert image.save(artifact("audit_report_page1.png"))


def test_report_of_a_tampered_chain_says_so(qapp: Any, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/hmi.sqlite"
    fill(url, 30)
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP TRIGGER IF EXISTS audit_no_delete"))
        conn.execute(text("DELETE FROM audit WHERE sequence = 12"))
    engine.dispose()
    store = AuditStore(make_engine(url))
    path = tmp_path / "report.pdf"
    count, verification = write_store_report(store, path, site="Riverside", generated_by="x")
    store.close()
    assert count == 29 and not verification.ok
    first = read(path).text(0)
    assert "chain broken at record #13" in first
    assert "record(s) 12 before it are missing: deleted" in first


def test_an_empty_report_says_nothing_matched(qapp: Any, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/hmi.sqlite"
    fill(url, 5)
    store = AuditStore(make_engine(url))
    path = tmp_path / "report.pdf"
    count, _ = write_store_report(
        store, path, AuditQuery(user_id="nobody"), site="Riverside", generated_by="x"
    )
    store.close()
    document = read(path)
    assert count == 0 and document.pageCount() == 1
    assert "No records match this filter." in document.text(0)


REASON = (
    "Operator switched LIC101 to automatic after the level transmitter LT101 was recalibrated "
    "by maintenance (work order 4711); the loop had been in manual for the whole night shift "
    "because of the drifting reading, see the shift log"
)


def test_report_in_the_plant_words_wraps_and_signs_off(qapp: Any, tmp_path: Path) -> None:
    """A mode change reads MAN (0) → AUTO (1); a long reason wraps whole, every record's
    hash is printed whole inside the page; origin and workstation have columns; the site is
    the project's name; the integrity statement says what was verified; the last page ends
    with the reviewer's sign-off."""
    url = f"sqlite:///{tmp_path}/hmi.sqlite"
    fill(url, 40)
    store = AuditStore(make_engine(url))
    store.append(
        AuditRecord.create(
            AuditAction.WRITE, user_id="olga", role="operator", workstation="CONTROL-ROOM-2",
            target_tag="LIC101.Mode", old_value=0, new_value=1, read_back=1, reason=REASON,
            origin="pid_faceplate(loop=LIC101)/auto",
        )
    )  # fmt: skip
    path = tmp_path / "report.pdf"
    states = {"LIC101.Mode": {0: "MAN", 1: "AUTO"}}
    count, verification = write_store_report(
        store, path, site="Riverside Water Works", generated_by="ada", states=states
    )
    records = list(store.iter_records(AuditQuery()))
    head = store.head()
    store.close()
    assert count == 41 and verification.ok

    document = read(path)
    pages = document.pageCount()
    every = " ".join(document.text(page) for page in range(pages))
    first = document.text(0)
    assert "Site Riverside Water Works" in first
    assert "MAN (0) → AUTO (1)" in every
    assert REASON in every  # wrapped, not cut
    assert "…" not in every
    joined = "".join(every.split())  # identifiers wrap anywhere: compare without the breaks
    assert "CONTROL-ROOM-2" in joined and "pid_faceplate(loop=LIC101)/auto" in joined
    for record in records:
        assert record.hash in joined, record.sequence  # every hash whole
    for part in (
        "Verified records #1 to #41 (41), the whole chain from its first record: intact",
        f"Head record #41, hash {head.hash}",
        "Checkpoint none compared (no checkpoint was given)",
        "Key none: plain SHA-256",
        "41 match the filter, #1 to #41",
    ):  # fmt: skip
        assert part in first, part
    last = document.text(pages - 1)
    assert "Review and sign-off" in last
    for part in ("Reviewer (name, role)", "Signature", "Date", "Findings / comments",
                 "I have reviewed the 41 record(s) of this report (records #1 to #41)"):  # fmt: skip
        assert part in last, part
    for page in range(pages):  # nothing drawn past the margins (12 mm = 34 pt)
        width, height = document.size(page)
        for left, bottom, right, top in document.boxes(page):
            assert left >= 30 and right <= width - 30 and bottom >= 20 and top <= height - 30
    for page in range(pages):
        assert document.render(page).save(artifact(f"audit_report_words_{page + 1}.png"))


def test_a_keyed_chain_says_so(qapp: Any, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/hmi.sqlite"
    store = AuditStore(make_engine(url), key=b"site-key")
    store.append(AuditRecord.create(AuditAction.APP_START, origin="station"))
    path = tmp_path / "report.pdf"
    write_store_report(store, path, site="Riverside", generated_by="x")
    store.close()
    assert "Key HMAC-SHA256 with the site's audit key" in read(path).text(0)
