"""The delegation brochure: what the PDF says for each viewer, its pages, and what
WeasyPrint may read while rendering it.

The PDF is read back with poppler's `pdftotext`, `pdfinfo` and `pdfimages`, as a person
opening it would see it, not through our own HTML."""

from __future__ import annotations

import io
import re
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from flask import current_app
from PIL import Image

from tests.conftest import login
from tests.downloading import download_built_pdf as download_pdf
from tests.processes import loaded_at_start
from webapp.extensions import db
from webapp.models import Answer, EventRole, Question, QuestionKind, utcnow
from webapp.models import RegistrationStatus as S
from webapp.services import logos, pdf
from webapp.services.questions import MISSION_DEFAULTS


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "brochure.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], check=True,
                          capture_output=True, text=True).stdout


def pdf_info(pdf: bytes, tmp_path: Path) -> dict[str, str]:
    path = tmp_path / "info.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True,
                         text=True).stdout
    return {key.strip(): value.strip() for key, _, value in
            (line.partition(":") for line in out.splitlines())}


def pdf_image_count(pdf: bytes, tmp_path: Path) -> int:
    path = tmp_path / "images.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdfimages", "-list", str(path)], check=True, capture_output=True,
                         text=True).stdout
    return len(out.splitlines()) - 2  # two header lines


class Mission:
    """An event with a delegation across two clusters: one company with two delegates,
    a Greek and a Polish company, and applicants who are not (or no longer) in it."""

    def __init__(self, make):
        self.flanders = make.partner(name="Smart Urbanism Flanders")
        self.macedonia = make.partner(name="Smart City Cluster of Central Macedonia")
        organizing = make.partner(name="Organizing Cluster")
        self.beachhead = make.beachhead(name="IPI Singapore")
        self.event = make.event(organizers=[organizing], hosts=[self.beachhead],
                                title="Outbound mission to Singapore")
        offers, seeks = (Question(event=self.event, kind=QuestionKind.LONG_TEXT,
                                  label=MISSION_DEFAULTS[i].label, position=i)
                         for i in (1, 2))
        db.session.add_all([offers, seeks])
        self.alpha = make.organization(self.flanders, name="Alpha Sensors BV",
                                       sector="Mobility", profile="Pedestrian flow analytics.")
        self.greek = make.organization(self.macedonia, name="Θεσσαλονίκη Αισθητήρες ΙΚΕ",
                                       country="GR", sector="Ενέργεια")
        self.polish = make.organization(None, name="Zakład Łódź Świętość sp. z o.o.",
                                        country="PL", profile="Żółć, gęślą jaźń.")
        people = [
            ("anna", self.alpha, "Anna Alpha", "+32 470 11 22 33", True),
            ("bart", self.alpha, "Bart Alpha", "+32 470 99 88 77", False),
            ("giorgos", self.greek, "Γιώργος Παπαδόπουλος", "+30 231 000 111", True),
            ("lukasz", self.polish, "Łukasz Żółć", "+48 42 123 45 67", False),
        ]
        self.users, self.regs = {}, {}
        for key, org, name, phone, consented in people:
            user = make.user(org, name=name, email=f"{key}@delegates.example", phone=phone)
            reg = make.registration(self.event, user, S.SUBMITTED, S.APPROVED)
            if consented:
                reg.contact_consent_at = utcnow()
            self.users[key], self.regs[key] = user, reg
        self.regs["bart"].role = EventRole.SPEAKER
        self.regs["anna"].answers = [
            Answer(question=offers, value="Counting sensors for busy squares."),
            Answer(question=seeks, value="Pilot sites in Singapore."),
        ]
        self.regs["bart"].answers = [Answer(question=offers,
                                            value="Counting sensors for busy squares.")]
        pending = make.user(self.alpha, name="Petra Pending", email="petra@delegates.example")
        make.registration(self.event, pending, S.SUBMITTED)
        rejected = make.user(self.greek, name="Rita Rejected", email="rita@delegates.example")
        make.registration(self.event, rejected, S.SUBMITTED, S.REJECTED)
        self.host = make.host(self.beachhead)
        self.other_host = make.host(make.beachhead())
        self.organizer = make.manager(organizing)
        self.member = self.users["anna"]
        db.session.flush()

    @property
    def url(self) -> str:
        return f"/events/{self.event.id}/brochure.pdf"


@pytest.fixture
def mission(make):
    return Mission(make)



CONTACTS = {
    "anna": ("anna@delegates.example", "+32 470 11 22 33"),
    "bart": ("bart@delegates.example", "+32 470 99 88 77"),
    "giorgos": ("giorgos@delegates.example", "+30 231 000 111"),
    "lukasz": ("lukasz@delegates.example", "+48 42 123 45 67"),
}


def test_host_sees_every_company_and_delegate_but_only_consented_contacts(
        client, mission, tmp_path):
    text = pdf_text(download_pdf(client, mission.host, mission.url), tmp_path)
    for company in ("Alpha Sensors BV", "Θεσσαλονίκη Αισθητήρες ΙΚΕ",
                    "Zakład Łódź Świętość sp. z o.o."):
        assert company in text
    for user in mission.users.values():
        assert user.name in text
    for key in ("anna", "giorgos"):  # consented
        assert all(value in text for value in CONTACTS[key]), key
    for key in ("bart", "lukasz"):
        assert not any(value in text for value in CONTACTS[key]), key
    assert "Petra Pending" not in text and "Rita Rejected" not in text


def test_organizer_sees_every_contact(client, mission, tmp_path):
    text = pdf_text(download_pdf(client, mission.organizer, mission.url), tmp_path)
    for email, phone in CONTACTS.values():
        assert email in text and phone in text


def test_partner_manager_sees_contacts_of_their_own_clusters_delegates_only(
        client, make, mission, tmp_path):
    manager = make.manager(mission.flanders)
    text = pdf_text(download_pdf(client, manager, mission.url), tmp_path)
    assert all(value in text for key in ("anna", "bart") for value in CONTACTS[key])
    assert not any(value in text for key in ("giorgos", "lukasz") for value in CONTACTS[key])
    assert "Γιώργος Παπαδόπουλος" in text  # the whole delegation, without the contacts


def test_one_page_per_company_after_cover_and_contents_on_a4(client, mission, tmp_path):
    pdf = download_pdf(client, mission.organizer, mission.url)
    info = pdf_info(pdf, tmp_path)
    assert "(A4)" in info["Page size"]
    assert int(info["Pages"]) == 1 + 1 + 3  # cover, contents, three companies
    pages = pdf_text(pdf, tmp_path).split("\f")
    assert "Outbound mission to Singapore" in pages[0] and "IPI Singapore" in pages[0]
    # Both of Alpha's delegates on its one page, with its answers said once.
    alpha = next(page for page in pages[2:] if "Alpha Sensors BV" in page)
    assert "Anna Alpha" in alpha and "Bart Alpha" in alpha and "Speaker" in alpha
    assert alpha.count("Counting sensors for busy squares.") == 1
    assert "Pilot sites in Singapore." in alpha


def test_contents_list_companies_by_cluster_with_their_pages(client, mission, tmp_path):
    pages = pdf_text(download_pdf(client, mission.organizer, mission.url), tmp_path).split("\f")
    contents = " ".join(pages[1].split())
    # Clusters alphabetically, companies without a cluster last; the numbers are the
    # pages the companies really start on.
    order = [contents.index(label) for label in (
        "Smart City Cluster of Central Macedonia", "Θεσσαλονίκη", "Smart Urbanism Flanders",
        "Alpha Sensors BV", "No cluster", "Zakład Łódź")]
    assert order == sorted(order)
    starts = {next(n for n, text in enumerate(pages, start=1) if name in text and n > 2)
              for name in ("Θεσσαλονίκη Αισθητήρες ΙΚΕ", "Alpha Sensors BV", "Zakład Łódź")}
    assert starts == {3, 4, 5}
    assert starts <= {int(n) for n in re.findall(r"\b\d+\b", contents)}


def test_dates_are_in_the_events_zone(client, mission, tmp_path):
    from datetime import UTC, datetime, timedelta

    # 20:00 UTC on 1 June is already 2 June in Singapore.
    mission.event.starts_at = datetime(2027, 6, 1, 20, 0, tzinfo=UTC)
    mission.event.ends_at = mission.event.starts_at + timedelta(days=2)
    db.session.flush()
    cover = pdf_text(download_pdf(client, mission.host, mission.url), tmp_path).split("\f")[0]
    assert "Wed 2 Jun 2027 – Fri 4 Jun 2027" in " ".join(cover.split())
    assert "UTC+8" in cover


def test_the_stored_logo_is_printed(client, mission, tmp_path):
    png = io.BytesIO()
    Image.new("RGB", (40, 20), "teal").save(png, format="PNG")
    mission.alpha.logo_filename = logos.store(
        png.getvalue(), current_app.config["UPLOAD_FOLDER"], max_bytes=1024 * 1024)
    db.session.flush()
    assert pdf_image_count(download_pdf(client, mission.host, mission.url), tmp_path) == 1


@pytest.mark.parametrize("role", ["member", "other_host"])
def test_members_and_other_events_hosts_are_refused(client, mission, role):
    login(client, getattr(mission, role))
    assert client.get(mission.url).status_code == 403


def test_anonymous_is_sent_to_sign_in(client, mission):
    response = client.get(mission.url)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


# --------------------------------------------------------------------------- fetching


class _CountingServer:
    """A local HTTP server that counts the requests it gets."""

    def __init__(self):
        self.paths: list[str] = []
        hits = self.paths

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                hits.append(self.path)
                self.send_response(404)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def test_markup_in_a_profile_is_printed_as_text_and_fetches_nothing(
        client, mission, tmp_path, monkeypatch):
    asked: list[str] = []
    original = pdf.LocalFiles.path_for

    def recording(self, url):
        asked.append(url)
        return original(self, url)

    monkeypatch.setattr(pdf.LocalFiles, "path_for", recording)
    with _CountingServer() as server:
        mission.alpha.profile = (
            f'<img src="{server.url}/profile.png"> <img src="file:///etc/passwd">'
            f'<link rel="stylesheet" href="{server.url}/x.css">')
        mission.greek.name = f'<img src="{server.url}/name.png">Greek'
        db.session.flush()
        text = pdf_text(download_pdf(client, mission.organizer, mission.url), tmp_path)
    assert server.paths == []
    assert f'<img src="{server.url}/profile.png">' in text
    assert "root:x:0:0" not in text
    static = Path(current_app.static_folder).resolve().as_uri()
    # Fonts are loaded once per thread, so an earlier render may have asked for them.
    assert all(url.startswith(static + "/fonts/") for url in asked), asked


def test_the_fetcher_refuses_the_network_and_other_files_during_a_render(app):
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    with _CountingServer() as server:
        html = (f'<style>@import url("{server.url}/a.css");</style>'
                f'<img src="{server.url}/b.png"><img src="file:///etc/passwd">'
                f'<img src="data:image/png;base64,iVBORw0KGgo=">')
        # The test can tell: WeasyPrint's own fetcher does go to the server.
        HTML(string=html, url_fetcher=URLFetcher()).write_pdf()
        assert server.paths
        server.paths.clear()
        with app.app_context():
            files = pdf.local_files()
        HTML(string=html, url_fetcher=pdf.url_fetcher(files)).write_pdf()
        assert server.paths == []


@pytest.fixture
def folders(tmp_path):
    static, uploads = tmp_path / "static", tmp_path / "uploads"
    (static / "fonts").mkdir(parents=True)
    uploads.mkdir()
    (static / "fonts" / "font.ttf").write_bytes(b"\x00\x01\x00\x00font")
    (static / "leak").symlink_to("/etc/passwd")
    (uploads / "notes.txt").write_text("not a logo")
    stored = "0123456789abcdef0123456789abcdef.png"
    (uploads / stored).write_bytes(b"\x89PNG logo")
    (tmp_path / "secret.txt").write_text("secret")
    return pdf.LocalFiles(static, uploads), stored


def test_the_fetcher_serves_our_static_files_and_stored_logos(app, folders):
    files, stored = folders
    fetch = pdf.url_fetcher(files)
    response = fetch((files.static_folder / "fonts" / "font.ttf").as_uri())
    assert response.read() == b"\x00\x01\x00\x00font"
    logo = fetch((files.upload_folder / stored).as_uri())
    assert logo.read() == b"\x89PNG logo" and logo.content_type == "image/png"


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:9/logo.png",
    "https://example.org/font.ttf",
    "ftp://example.org/x",
    "data:text/plain;base64,aGVsbG8=",
    "file:///etc/passwd",
    "file://evil.example/etc/passwd",
    "{static}/fonts/../../secret.txt",
    "{static}/fonts/%2e%2e/%2e%2e/secret.txt",
    "{static}/leak",
    "{static}/fonts/missing.ttf",
    "{uploads}/notes.txt",
    "{uploads}/ffffffffffffffffffffffffffffffff.png",
    "{uploads}/../secret.txt",
    "/etc/passwd",
    "static/fonts/font.ttf",
])
def test_the_fetcher_refuses_everything_else(app, folders, url):
    files, _stored = folders
    url = url.replace("{static}", files.static_folder.as_uri()).replace(
        "{uploads}", files.upload_folder.as_uri())
    with pytest.raises(pdf.FetchRefused):
        pdf.url_fetcher(files)(url)


def test_the_app_starts_without_importing_weasyprint():
    assert loaded_at_start("weasyprint") == []
