"""The PDF and HTML print the CSV's numbers; the PDF renders; the HTML is self-contained."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from thermalctl.reports import ReportFiles
from thermalctl.reports.i18n import Catalogue
from thermalctl.reports.tables import format_value

#: A number as printed: English 1,234.5; German 1.234,5.
NUMBER_TOKENS = {"en": r"-?[\d,]+\.\d+", "de": r"-?[\d.]+,\d+"}


def _pdf_text(pdf: Path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    result = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    )
    return result.stdout


def _tokens(text: str, lang: str = "en") -> set[str]:
    return set(re.findall(NUMBER_TOKENS[lang] + r"|\S+", text))


def _csv_cells(files: ReportFiles, lang: str = "en") -> list[tuple[str, str]]:
    """(column, printed value) of every numeric cell in the monthly, EU and EnEfG CSVs,
    as the edition in ``lang`` prints it."""
    t = Catalogue(lang)
    cells = []
    for path, columns in (
        (files.monthly_csv, None),
        (files.eu_fields_csv, ["value"]),
        (files.enefg_csv, ["value"]),
    ):
        frame = pd.read_csv(path)
        text_columns = ("period", "estimated", "origin")
        for column in columns or [c for c in frame.columns if c not in text_columns]:
            for value in frame[column].dropna():
                cells.append((column, format_value(column, float(value), t)))
    return cells


@pytest.fixture(params=["en", "de"])
def edition(request: pytest.FixtureRequest, month_report: ReportFiles,
            month_report_de: ReportFiles) -> tuple[str, ReportFiles]:  # fmt: skip
    return request.param, month_report if request.param == "en" else month_report_de


def test_pdf_prints_every_number_of_the_csv(edition: tuple[str, ReportFiles]) -> None:
    lang, files = edition
    text = _pdf_text(files.pdf)
    tokens = _tokens(text, lang)
    cells = _csv_cells(files, lang)
    assert len(cells) > 30
    missing = [(c, v) for c, v in cells if v not in tokens]
    assert missing == []
    # and the statuses of the EnEfG check, wrapped in their cells: compare word by word
    words = set(text.split())
    for status in pd.read_csv(files.enefg_csv)["status"]:
        assert set(status.split()) <= words, status


def test_both_editions_hold_the_same_numbers(month_report: ReportFiles,
                                             month_report_de: ReportFiles) -> None:
    """The German edition is the English one's numbers, not a second computation."""  # fmt: skip
    for name in ("monthly_csv", "daily_csv"):
        english = pd.read_csv(getattr(month_report, name))
        german = pd.read_csv(getattr(month_report_de, name))
        pd.testing.assert_frame_equal(english, german)
    eu_en = pd.read_csv(month_report.eu_fields_csv)
    eu_de = pd.read_csv(month_report_de.eu_fields_csv)
    pd.testing.assert_series_equal(eu_en["value"], eu_de["value"])
    assert eu_en["field"].iloc[0] != eu_de["field"].iloc[0]  # the text is translated
    assert month_report_de.pdf.name.endswith(".de.pdf")


def test_german_edition_uses_the_decimal_comma(month_report: ReportFiles,
                                               month_report_de: ReportFiles) -> None:  # fmt: skip
    pue = pd.read_csv(month_report.monthly_csv)["pue"].iloc[-1]
    english, german = _pdf_text(month_report.pdf), _pdf_text(month_report_de.pdf)
    assert f"{pue:.3f}" in _tokens(english, "en")
    assert f"{pue:.3f}".replace(".", ",") in _tokens(german, "de")
    assert "Energieverbrauchseffektivität" in german and "Datenqualität" in german
    assert "Data quality" not in german and "page 1" not in german


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
    assert len(pages) == 7
    for page in pages:
        assert page.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert page.stat().st_size > 5_000  # a blank A4 page at 40 dpi is far smaller


def test_html_is_self_contained_and_prints_the_csv_numbers(
    edition: tuple[str, ReportFiles],
) -> None:
    lang, files = edition
    document = files.html.read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)=["']?(https?:|//|file:)""", document)
    assert document.count("data:image/png;base64,") == 4
    assert f'<html lang="{lang}">' in document
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", document)
    missing = [(c, v) for c, v in _csv_cells(files, lang) if v not in cells]
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
