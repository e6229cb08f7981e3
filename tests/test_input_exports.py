"""Files and exports at their edges: names with combining marks come out of every PDF's
text layer as typed (NFC), names that look like formulas are guarded in CSV and written
as typed text in XLSX, and a logo is judged by its content, its size in bytes and its
size in pixels, never by its name.

Everything is read back as the person receiving it would: `pdftotext` for the PDFs,
`csv` and openpyxl for the spreadsheets, Pillow for the stored logo."""

from __future__ import annotations

import csv
import io
import struct
import subprocess
import unicodedata
import zipfile
import zlib
from datetime import date

import pytest
from openpyxl import load_workbook
from PIL import Image

from tests.conftest import download_pdf
from tests.downloading import download_built_pdf
from tests.test_kpis import agreement, at, attended, delegate
from tests.test_organizations import image_bytes, upload
from webapp.extensions import db
from webapp.models import AgreementKind, AgreementStatus
from webapp.models import RegistrationStatus as S
from webapp.services import exports, logos, pdf

# Names typed with combining marks (decomposed, as some keyboards and macOS send them),
# stacked marks (Vietnamese), marks without a precomposed letter (Yoruba), Greek with
# tonos, Polish, ligatures and CJK. Devanagari is left out:
# no font shipped in static/fonts covers it (see its README).
NAMES = [
    "Ame\u0301lie Ngu\u0303ye\u0302\u0303n",
    unicodedata.normalize("NFD", "Trần Thị Ngọc Ánh"),
    "Ιωάννα Παπαδοπούλου",
    unicodedata.normalize("NFD", "Ευάγγελος Ζαχαρίου"),
    "Łukasz Żółć",
    "Adéṣẹ̀gun Ọ̀ṣun",  # Yoruba: ẹ̀ and Ọ̀ have no precomposed form, even in NFC
    "Ffion Griffith",  # ff, fi: ligatures copy out as their letters
    "山田花子",
]
COMPANY = unicodedata.normalize("NFD", "Société Générale d'Électricité Ñandú")
CLUSTER = unicodedata.normalize("NFD", "Pôle Écotechnologies Île-de-France")


def pdf_text(body: bytes) -> str:
    """The PDF's text layer as pdftotext reads it, whitespace squeezed to single spaces:
    a long name may wrap over two lines."""
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", "-", "-"], input=body, check=True,
                          capture_output=True, timeout=60).stdout.decode("utf-8")
    return " ".join(text.split())


def assert_printed_as_typed(body: bytes, names: list[str]) -> None:
    """Each name is in the text layer as its NFC form, code point for code point: no mark
    lost, split off or left decomposed, no case or spacing changed."""
    text = pdf_text(body)
    for name in names:
        typed = unicodedata.normalize("NFC", name)
        assert typed in text, (ascii(typed), ascii(text))


@pytest.fixture
def delegation(make):
    """A mission organized by a cluster whose name has combining marks, with one
    approved delegate per name of NAMES, all in a company whose name has them too."""
    cluster = make.partner(name=CLUSTER, short_name=CLUSTER)
    event = make.event(organizers=[cluster])
    company = make.organization(cluster, name=COMPANY)
    for number, name in enumerate(NAMES):
        user = make.user(company, name=name, email=f"delegate{number}@marks.example")
        make.registration(event, user, S.SUBMITTED, S.APPROVED)
    db.session.flush()
    return event, make.manager(cluster)


# --------------------------------------------------------------------------- PDF text layers


@pytest.mark.parametrize("paper", ["a6", "a4"])
def test_badges_print_combining_mark_names_as_typed(client, delegation, paper):
    event, organizer = delegation
    body = download_pdf(client, organizer,
                        f"/events/{event.id}/badges.pdf?format={paper}&partner=all")
    assert_printed_as_typed(body, [*NAMES, COMPANY, CLUSTER])


def test_brochure_prints_combining_mark_names_as_typed(client, delegation):
    event, organizer = delegation
    body = download_built_pdf(client, organizer, f"/events/{event.id}/brochure.pdf")
    assert_printed_as_typed(body, [*NAMES, COMPANY, CLUSTER])
    # The company page's cluster heading too: not re-cased by the stylesheet.
    assert unicodedata.normalize("NFC", CLUSTER).upper() not in pdf_text(body)


def test_kpi_report_prints_combining_mark_cluster_and_agreement_names_as_typed(
        client, make):
    cluster = make.partner(name=CLUSTER, short_name=CLUSTER)
    mission = make.event(organizers=[cluster], starts_at=at(2019, 6, 3, 1))
    company = make.organization(cluster, name=COMPANY)
    attended(delegate(make, mission, company))
    title = unicodedata.normalize("NFD", "Accord Ame\u0301lie Ngu\u0303yê\u0303n")
    agreement(AgreementKind.COLLABORATION, AgreementStatus.SIGNED, cluster,
              [company, make.organization(None, country="SG")],
              signed_on=date(2019, 7, 1), title=title)
    body = download_built_pdf(client, make.admin(),
                              "/kpis/report.pdf?start=2019-01-01&end=2019-12-31")
    assert_printed_as_typed(body, [CLUSTER, title])


def test_text_stored_decomposed_is_printed_composed(app):
    """Whatever reaches a PDF is NFC, even text stored before names were normalized."""
    with app.test_request_context():
        body = pdf.Renderer().pdf(f"<p>{NAMES[0]}</p>")
    assert pdf_text(body) == unicodedata.normalize("NFC", NAMES[0])


# --------------------------------------------------------------------------- spreadsheets


FORMULAS = ['=HYPERLINK("http://x")', "+1 555", "-2", "@SUM(A1)"]
# A tab or carriage return can smuggle a formula past the first character; names cannot
# hold them (text fields refuse control characters), but the files guard them anyway.
SMUGGLED = ["\t=1+1", "\r=1+1"]


@pytest.fixture
def formula_delegation(make):
    cluster = make.partner()
    event = make.event(organizers=[cluster])
    for number, name in enumerate(FORMULAS):
        company = make.organization(cluster, name=name)
        user = make.user(company, name=name, email=f"formula{number}@cells.example")
        make.registration(event, user, S.SUBMITTED, S.APPROVED)
    db.session.flush()
    return event, make.manager(cluster)


def test_formula_like_names_are_guarded_in_csv(client, login_as, formula_delegation):
    event, organizer = formula_delegation
    body = login_as(organizer).get(f"/events/{event.id}/delegation.csv")
    assert body.status_code == 200
    cells = {cell for row in csv.reader(io.StringIO(body.data.decode("utf-8-sig"),
                                                    newline="")) for cell in row}
    for name in FORMULAS:
        assert "'" + name in cells, name
        assert name not in cells, name  # never bare, where a spreadsheet would run it


def test_formula_like_names_are_written_as_typed_text_in_xlsx(client, login_as,
                                                             formula_delegation):
    event, organizer = formula_delegation
    body = login_as(organizer).get(f"/events/{event.id}/delegation.xlsx")
    assert body.status_code == 200
    sheet = load_workbook(io.BytesIO(body.data)).active
    cells = [cell for row in sheet.iter_rows() for cell in row if cell.value is not None]
    assert all(cell.data_type == "s" for cell in cells), [
        (cell.coordinate, cell.data_type, cell.value) for cell in cells if cell.data_type != "s"]
    values = [cell.value for cell in cells]
    for name in FORMULAS:
        assert values.count(name) >= 2, name  # the person's and the company's cell
        assert "'" + name not in values, name


def test_no_file_carries_a_formula_whatever_the_text():
    texts = [*FORMULAS, *SMUGGLED]
    rows = [[text] for text in texts]
    parsed = csv.reader(io.StringIO(exports.csv_bytes(["Name"], rows).decode("utf-8-sig"),
                                    newline=""))
    assert [row[0] for row in parsed][1:] == ["'" + text for text in texts]
    with zipfile.ZipFile(io.BytesIO(exports.xlsx_bytes(["Name"], rows))) as xlsx:
        sheet_xml = xlsx.read("xl/worksheets/sheet1.xml")
    assert b"<f>" not in sheet_xml and b"<f " not in sheet_xml


# --------------------------------------------------------------------------- logos


def png_declaring(width: int, height: int) -> bytes:
    """A small PNG whose header declares `width` x `height` pixels: one compressed stream
    of zero rows, kilobytes for a canvas Pillow would need gigabytes to decode."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    row = b"\0" + b"\0" * width  # filter byte, then one grey byte per pixel
    compressor = zlib.compressobj(9)
    stream = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", stream) + chunk(b"IEND", b""))


def jpeg_with_a_lying_exif_tag() -> bytes:
    """A photo whose EXIF gives its height (a number) as text: Pillow fails on it while
    turning the photo upright."""
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotated, so the EXIF is rewritten while transposing
    exif[0x010F] = "Cam"  # Make, ASCII
    data = image_bytes("JPEG", size=(40, 30), exif=exif)
    make_tag = b"\x01\x0f\x00\x02"  # tag 0x010F, type ASCII, big-endian as Pillow writes
    assert data.count(make_tag) == 1
    return data.replace(make_tag, b"\x01\x01\x00\x02")  # tag 0x0101, ImageLength


@pytest.fixture
def uploads(app, monkeypatch, tmp_path):
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(tmp_path))
    return tmp_path


@pytest.fixture
def company_member(make):
    company = make.organization(make.partner())
    return company, make.user(company)


def test_a_png_named_jpg_is_stored_by_its_content(client, login_as, company_member, uploads):
    company, member = company_member
    login_as(member)
    assert upload(client, company, image_bytes("PNG"), "logo.jpg").status_code == 302
    db.session.refresh(company)
    assert company.logo_filename.endswith(".png")
    with Image.open(uploads / company.logo_filename) as stored:
        assert stored.format == "PNG" and max(stored.size) <= logos.MAX_SIDE


def test_a_huge_pixel_canvas_is_refused_before_it_is_decoded():
    bomb = png_declaring(20_000, 20_000)
    assert len(bomb) < 1024 * 1024  # small in bytes: only its pixels are the problem
    with pytest.raises(logos.LogoRefused, match="too many pixels"):
        logos.reencode(bomb, max_bytes=2 * 1024 * 1024)


@pytest.mark.parametrize(("data", "filename", "message"), [
    (b"just some text, no image\n", "logo.png", "must be a PNG or JPEG"),
    (image_bytes("PNG")[:60], "logo.png", "must be a PNG or JPEG"),
    (image_bytes("PNG")[:-40], "logo.png", "must be a PNG or JPEG"),
    (image_bytes("JPEG")[:400], "logo.jpg", "must be a PNG or JPEG"),
    (image_bytes("GIF"), "logo.png", "must be a PNG or JPEG"),
    (jpeg_with_a_lying_exif_tag(), "logo.jpg", "must be a PNG or JPEG"),
    (png_declaring(20_000, 20_000), "logo.png", "too many pixels"),
    (png_declaring(7_000, 7_000), "logo.png", "too many pixels"),
    (image_bytes("PNG", size=(4, 4)) + b"\0" * (2 * 1024 * 1024), "logo.png",
     "larger than 2 MB"),
])
def test_a_bad_logo_is_refused_with_a_message_and_changes_nothing(
        client, login_as, company_member, uploads, data, filename, message):
    company, member = company_member
    login_as(member)
    response = upload(client, company, data, filename)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    db.session.refresh(company)
    assert not company.logo_filename
    assert list(uploads.iterdir()) == []


def test_a_body_beyond_the_request_limit_is_refused_with_a_message(
        client, login_as, company_member, uploads):
    company, member = company_member
    login_as(member)
    data = image_bytes("PNG", size=(4, 4)) + b"\0" * (5 * 1024 * 1024)
    response = upload(client, company, data, "logo.png")
    assert response.status_code == 413
    assert "larger than 2 MB" in response.get_data(as_text=True)
    db.session.refresh(company)
    assert not company.logo_filename
    assert list(uploads.iterdir()) == []
