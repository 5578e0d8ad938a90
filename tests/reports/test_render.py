"""The PDF and HTML print the CSV's numbers; the PDF renders; the HTML is self-contained."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from thermalctl.reports import ReportFiles
from thermalctl.reports.tables import format_value


def _pdf_text(pdf: Path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    result = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    )
    return result.stdout


def _tokens(text: str) -> set[str]:
    return set(re.findall(r"-?[\d,]+\.\d+|\S+", text))


def _csv_cells(files: ReportFiles) -> list[tuple[str, str]]:
    """(column, printed value) of every numeric cell in the monthly, EU and EnEfG CSVs."""
    cells = []
    for path, columns in (
        (files.monthly_csv, None),
        (files.eu_fields_csv, ["value"]),
        (files.enefg_csv, ["value"]),
    ):
        frame = pd.read_csv(path)
        for column in columns or [c for c in frame.columns if c not in ("period", "estimated")]:
            for value in frame[column].dropna():
                cells.append((column, format_value(column, float(value))))
    return cells


def test_pdf_prints_every_number_of_the_csv(month_report: ReportFiles) -> None:
    tokens = _tokens(_pdf_text(month_report.pdf))
    cells = _csv_cells(month_report)
    assert len(cells) > 30
    missing = [(c, v) for c, v in cells if v not in tokens]
    assert missing == []
    # and the statuses of the EnEfG check
    text = _pdf_text(month_report.pdf)
    for status in pd.read_csv(month_report.enefg_csv)["status"]:
        assert status.split(" (")[0] in text


def test_pdf_text_changes_when_the_csv_would(month_report: ReportFiles) -> None:
    # guard against a vacuous comparison: a perturbed value is not in the PDF
    tokens = _tokens(_pdf_text(month_report.pdf))
    pue = pd.read_csv(month_report.monthly_csv)["pue"].iloc[-1]
    assert format_value("pue", pue) in tokens
    assert format_value("pue", pue + 0.001) not in tokens


def test_pdf_pages_render_to_png(month_report: ReportFiles, tmp_path: Path) -> None:
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    subprocess.run(
        ["pdftoppm", "-png", "-r", "40", str(month_report.pdf), str(tmp_path / "page")],
        check=True, capture_output=True,
    )  # fmt: skip
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) == 6
    for page in pages:
        assert page.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert page.stat().st_size > 5_000  # a blank A4 page at 40 dpi is far smaller


def test_html_is_self_contained_and_prints_the_csv_numbers(month_report: ReportFiles) -> None:
    document = month_report.html.read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)=["']?(https?:|//|file:)""", document)
    assert document.count("data:image/png;base64,") == 4
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", document)
    missing = [(c, v) for c, v in _csv_cells(month_report) if v not in cells]
    assert missing == []


def test_html_renders_in_headless_chromium(month_report: ReportFiles, tmp_path: Path) -> None:
    browser = next(
        (shutil.which(b) for b in ("chromium", "chromium-browser") if shutil.which(b)), None
    )
    if browser is None:
        pytest.skip("chromium is not on PATH")
    shot = tmp_path / "report.png"
    subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", f"--screenshot={shot}",
         "--window-size=1200,2000", month_report.html.as_uri()],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 20_000
