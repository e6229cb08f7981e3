"""Badges: the fonts every name prints in, the QR code staff scan at the door, who gets
which badge, and names that try to be something else.

Every PDF is read back as a person opening, printing or scanning it would: poppler's
`pdftotext`, `pdffonts` and `pdfinfo`, and `zbarimg` on the pages rasterized by
`pdftoppm`, never through our own HTML."""

from __future__ import annotations

import html
import json
import math
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from PIL import Image
from sqlalchemy import select

from tests.conftest import csrf_token, download_pdf, login
from tests.live import form_fields
from tests.render_badges import badge as sample_badge
from webapp.models import Attendance, BadgeFormat, utcnow
from webapp.models import RegistrationStatus as S
from webapp.services import badges
from webapp.services.badges import checkin_url

REPO = Path(__file__).resolve().parent.parent
FONTS = REPO / "static" / "fonts"

A6_PT = (297.64, 419.53)  # 105 x 148 mm
A4_PT = (595.28, 841.89)  # 210 x 297 mm

# Direction marks, embeddings, overrides and isolates: invisible, and pdftotext writes
# embeddings of its own around right-to-left text.
BIDI_CONTROLS = dict.fromkeys(map(ord, "\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e"
                                       "\u2066\u2067\u2068\u2069"))


# --------------------------------------------------------------------------- reading PDFs


def _file(body: bytes, tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    path.write_bytes(body)
    return path


def pages_text(body: bytes, tmp_path: Path) -> list[str]:
    """The text of every page, as pdftotext reads it (pages end with a form feed)."""
    path = _file(body, tmp_path, "text.pdf")
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], check=True,
                         capture_output=True, text=True).stdout
    return out.split("\f")[:-1]


def page_sizes(body: bytes, tmp_path: Path) -> list[tuple[float, float]]:
    """Every page's width and height in points."""
    path = _file(body, tmp_path, "info.pdf")
    out = subprocess.run(["pdfinfo", "-f", "1", "-l", "100000", str(path)], check=True,
                         capture_output=True, text=True).stdout
    return [(float(w), float(h)) for w, h in
            re.findall(r"^Page\s+\d+ size:\s+([\d.]+) x ([\d.]+) pts", out, re.M)]


def embedded_fonts(body: bytes, tmp_path: Path) -> list[tuple[str, bool]]:
    """(font name without its subset prefix, embedded?) for every font pdffonts lists."""
    path = _file(body, tmp_path, "fonts.pdf")
    out = subprocess.run(["pdffonts", str(path)], check=True, capture_output=True,
                         text=True).stdout
    fonts = []
    for line in out.splitlines()[2:]:  # two header lines
        words = line.split()
        # name, type (several words), encoding, emb, sub, uni, object number, generation
        fonts.append((words[0].split("+", 1)[-1], words[-5] == "yes"))
    return fonts


# Where each badge sits on its page, in mm from the top left corner (badges.css): the
# whole A6 page, or one of an A4 sheet's four slots, in the order they are filled.
SLOTS_MM = {
    "a6": [(0, 0, 105, 148)],
    "a4": [(12, 15.5, 90, 130), (108, 15.5, 90, 130), (12, 151.5, 90, 130),
           (108, 151.5, 90, 130)],
}
PT_PER_MM = 72 / 25.4
SCAN_DPI = 150  # a phone at the door sees less detail than this


@dataclass(frozen=True)
class PrintedBadge:
    text: str  # what is printed inside the badge's edges, on one line
    codes: list[str]  # what its QR code decodes to


def printed_badges(body: bytes, tmp_path: Path, paper: str, *,
                   scan: bool = True) -> list[PrintedBadge]:
    """Every badge of the PDF in reading order, page by page and slot by slot: the text
    pdftotext finds inside its edges and, with `scan`, what zbarimg decodes from it once
    the page is rasterized. The empty slots of a last sheet are left out."""
    folder = Path(tempfile.mkdtemp(dir=tmp_path))
    path = _file(body, folder, "badges.pdf")
    pages = len(page_sizes(body, folder))
    if scan:
        subprocess.run(["pdftoppm", "-r", str(SCAN_DPI), "-png", str(path),
                        str(folder / "page")], check=True)
        images = sorted(folder.glob("page-*.png"), key=lambda p: int(p.stem.split("-")[1]))
        assert len(images) == pages
    found = []
    for number in range(1, pages + 1):
        picture = Image.open(images[number - 1]) if scan else None
        for left, top, width, height in SLOTS_MM[paper]:
            box = [round(v * PT_PER_MM) for v in (left, top, width, height)]
            text = subprocess.run(
                ["pdftotext", "-enc", "UTF-8", "-f", str(number), "-l", str(number),
                 "-x", str(box[0]), "-y", str(box[1]), "-W", str(box[2]), "-H", str(box[3]),
                 str(path), "-"], check=True, capture_output=True, text=True).stdout
            codes = _scan(picture, (left, top, width, height), folder) if scan else []
            if text.strip() or codes:
                found.append(PrintedBadge(one_line(text), codes))
    return found


def _scan(picture, slot_mm, folder: Path) -> list[str]:
    left, top, width, height = (round(v * SCAN_DPI / 25.4) for v in slot_mm)
    image = folder / "slot.png"
    picture.crop((left, top, left + width, top + height)).save(image)
    scan = subprocess.run(["zbarimg", "--raw", "-q", str(image)], capture_output=True,
                          text=True)
    # 0: codes found, 4: none. Its stderr carries dbus noise.
    assert scan.returncode in (0, 4), scan.stderr
    return scan.stdout.split()


def squeezed(text: str) -> str:
    """`text` without bidi controls and whitespace: long names wrap over several lines."""
    return "".join(text.translate(BIDI_CONTROLS).split())


def one_line(text: str) -> str:
    return " ".join(text.split())


def assert_sizes(sizes: list[tuple[float, float]], expected: tuple[float, float],
                 pages: int) -> None:
    assert len(sizes) == pages
    for width, height in sizes:
        assert width == pytest.approx(expected[0], abs=0.5)
        assert height == pytest.approx(expected[1], abs=0.5)


# --------------------------------------------------------------------------- fonts


FONT_NAMES = ["Søren Kjærgaard", "José Núñez", "Zoë Çelik", "Łukasz Wróblewski",
              "Ιωάννης Παπαδόπουλος", "Пётр Иванов", "陈美玲", "김민준", "山田花子"]
# No shipped font has Ethiopic: the same run must report its boxes, or a report of none
# for the names above would prove nothing.
NO_FONT_HAS = "ሰላም"


def fontconfig_of_our_fonts(tmp_path: Path) -> dict[str, str]:
    """An environment whose fontconfig knows static/fonts and nothing else."""
    conf = tmp_path / "fonts.conf"
    conf.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">\n'
        f"<fontconfig>\n  <dir>{html.escape(str(FONTS))}</dir>\n"
        f"  <cachedir>{html.escape(str(tmp_path / 'fontcache'))}</cachedir>\n"
        "</fontconfig>\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("FONTCONFIG")}
    env["FONTCONFIG_FILE"] = str(conf)
    env["PYTHONPATH"] = str(REPO)
    return env


@pytest.fixture(scope="module")
def rendered_alone(tmp_path_factory):
    """FONT_NAMES as A6 badges and A4 sheets, and the Ethiopic control, rendered in a
    process that sees only the project's fonts."""
    tmp_path = tmp_path_factory.mktemp("fonts")
    env = fontconfig_of_our_fonts(tmp_path)
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"documents": [
        {"file": "a6.pdf", "format": "a6", "names": FONT_NAMES},
        {"file": "a4.pdf", "format": "a4", "names": FONT_NAMES},
        {"file": "control.pdf", "format": "a6", "names": [NO_FONT_HAS]},
    ]}, ensure_ascii=False), encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "tests.render_badges", str(spec),
                          str(tmp_path)], cwd=REPO, env=env, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    listed = subprocess.run(["fc-list", "--format", "%{file}\n"], env=env, check=True,
                            capture_output=True, text=True).stdout.split()
    return tmp_path, json.loads((tmp_path / "missing.json").read_text(encoding="utf-8")), listed


def test_the_font_check_sees_only_the_shipped_fonts(rendered_alone):
    _, _, listed = rendered_alone
    assert listed, "fontconfig found no font at all"
    assert all(Path(path).resolve().is_relative_to(FONTS.resolve()) for path in listed), listed


def test_every_name_prints_in_the_shipped_fonts_without_a_missing_glyph(rendered_alone,
                                                                      tmp_path):
    out, missing, _ = rendered_alone
    body = (out / "a6.pdf").read_bytes()
    assert missing["a6.pdf"] == [] and missing["a4.pdf"] == []
    assert missing["control.pdf"] == list(NO_FONT_HAS)  # the check does see boxes

    fonts = embedded_fonts(body, tmp_path)
    assert fonts and all(embedded for _, embedded in fonts), fonts
    names = {name for name, _ in fonts}
    assert all(name.startswith(("Noto-Sans", "DejaVu-Sans")) for name in names), names
    assert {"Noto-Sans", "Noto-Sans-Bold", "Noto-Sans-CJK-SC"} <= names

    pages = pages_text(body, tmp_path)
    assert len(pages) == len(FONT_NAMES)
    for name, page in zip(FONT_NAMES, pages, strict=True):
        assert name in one_line(page)


def test_a6_badges_are_one_a6_page_each(rendered_alone, tmp_path):
    out, _, _ = rendered_alone
    assert_sizes(page_sizes((out / "a6.pdf").read_bytes(), tmp_path), A6_PT,
                 len(FONT_NAMES))


def test_a4_sheets_hold_four_badges_each_in_order(rendered_alone, tmp_path):
    out, _, _ = rendered_alone
    body = (out / "a4.pdf").read_bytes()
    sheets = math.ceil(len(FONT_NAMES) / 4)
    assert_sizes(page_sizes(body, tmp_path), A4_PT, sheets)
    printed = printed_badges(body, tmp_path, "a4", scan=False)
    assert len(printed) == len(FONT_NAMES)
    for name, badge in zip(FONT_NAMES, printed, strict=True):
        assert name in badge.text, (name, badge.text)


# Longer than the estimate of a name's width allows for: each word must stay whole.
LONG_WORDS = ["Παπαδόπουλος", "Ιωάννης Παπαδόπουλος", "Константинопольский",
              "Hubert Wolfeschlegelsteinhausenberger", "Aleksandrovich Vasilyevskiy"]


@pytest.mark.parametrize("paper", ["a6", "a4"])
def test_a_long_name_wraps_between_words_never_inside_one(db, tmp_path, paper):
    body = badges.render([sample_badge(n, name) for n, name in enumerate(LONG_WORDS, 1)],
                         BadgeFormat(paper))
    printed = printed_badges(body, tmp_path, paper, scan=False)
    assert len(printed) == len(LONG_WORDS)
    for name, badge in zip(LONG_WORDS, printed, strict=True):
        assert name in badge.text, badge.text


# --------------------------------------------------------------------------- the world


class Mission:
    """An outbound mission organized by one cluster and hosted by a beachhead. Approved
    delegates of two clusters and of a company without one are made in an order unlike
    the badges' (cluster, then surname; no cluster last), next to applicants who are
    not (or no longer) approved."""

    APPROVED = [  # key, cluster, name
        ("anna", "zeta", "Anna Zimmer"),
        ("carla", "alpha", "Carla Young"),
        ("aaron", None, "Aaron Aardvark"),
        ("bruno", "zeta", "Bruno Adams"),
        ("emile", "alpha", "Émile Dupont"),
        ("dirk", "alpha", "Dirk Brown"),
    ]
    IN_BADGE_ORDER = ["dirk", "emile", "carla", "bruno", "anna", "aaron"]
    NOT_APPROVED = [  # key, cluster, name, path
        ("petra", "alpha", "Petra Pending", (S.SUBMITTED,)),
        ("rita", "zeta", "Rita Rejected", (S.SUBMITTED, S.REJECTED)),
        ("walt", "alpha", "Walt Withdrawn", (S.SUBMITTED, S.APPROVED, S.WITHDRAWN)),
        ("willa", "zeta", "Willa Waitlisted", (S.SUBMITTED, S.WAITLISTED)),
        ("carl", "alpha", "Carl Cancelled", (S.SUBMITTED, S.APPROVED, S.CANCELLED)),
    ]

    def __init__(self, make):
        self.clusters = {"alpha": make.partner(name="Alpha Smart Cities"),
                         "zeta": make.partner(name="Zeta Mobility"), None: None}
        organizing = make.partner(name="Organizing Cluster")
        self.beachhead = make.beachhead(name="IPI Singapore")
        self.event = make.event(organizers=[organizing], hosts=[self.beachhead],
                                title="Outbound mission to Singapore")
        self.organizer = make.manager(organizing)
        self.manager_alpha = make.manager(self.clusters["alpha"])
        self.manager_other = make.manager(make.partner(name="Uninvolved Cluster"))
        self.host = make.host(self.beachhead)
        self.admin = make.admin()
        self.users, self.regs = {}, {}
        people = [*[(*person, (S.SUBMITTED, S.APPROVED)) for person in self.APPROVED],
                  *self.NOT_APPROVED]
        for key, cluster, name, path in people:
            user = make.user(make.organization(self.clusters[cluster]), name=name,
                             email=f"{key}.{name.split()[-1].lower()}@delegates.example")
            self.users[key] = user
            self.regs[key] = make.registration(self.event, user, *path)

    def names(self, keys) -> list[str]:
        return [self.users[key].name for key in keys]

    @property
    def batch_url(self) -> str:
        return f"/events/{self.event.id}/badges.pdf"

    def badge_url(self, key: str, query: str = "") -> str:
        return f"/registrations/{self.regs[key].id}/badge.pdf{query}"


@pytest.fixture
def mission(make):
    return Mission(make)



def names_in_order(pages: list[str], names: list[str]) -> list[str]:
    """The names among `names` found in the PDF's text, in the order they appear."""
    text = one_line(" ".join(pages))
    return sorted((n for n in names if n in text), key=text.index)


# --------------------------------------------------------------------------- the QR code


def test_each_badge_scans_to_its_own_check_in_link_where_a_host_checks_them_in(
        client, db, mission, tmp_path):
    body = download_pdf(client, mission.organizer, f"{mission.batch_url}?format=a6&partner=all")
    printed = printed_badges(body, tmp_path, "a6")
    expected = [mission.regs[key] for key in mission.IN_BADGE_ORDER]  # cluster, surname
    assert [badge.codes for badge in printed] == [[checkin_url(reg)] for reg in expected]
    assert len({badge.codes[0] for badge in printed}) == len(expected)
    for badge, reg in zip(printed, expected, strict=True):
        assert reg.user.name in badge.text
        # The registration's random code and nothing else: a badge found on the floor
        # names nobody in its QR.
        url = urlsplit(badge.codes[0])
        assert url.path == f"/checkin/{reg.badge_code}" and not url.query
        assert re.fullmatch(r"[0-9A-Z]{16}", reg.badge_code)
        for personal in (reg.user.name, reg.user.email, reg.user.email.split("@")[0]):
            assert personal.lower() not in badge.codes[0].lower()

    login(client, mission.host)
    for badge, reg in zip(printed, expected, strict=True):
        page = client.get(urlsplit(badge.codes[0]).path)
        assert page.status_code == 200
        assert html.escape(reg.user.name) in page.get_data(as_text=True)
    path, first = urlsplit(printed[0].codes[0]).path, expected[0]
    mission.event.starts_at = utcnow() - timedelta(hours=1)  # on: check-in is open
    db.session.flush()
    response = client.post(path, data={"session": "event",
                                       "csrf_token": csrf_token(client, path)})
    assert response.status_code == 200
    attendances = db.session.scalars(select(Attendance).where(
        Attendance.registration_id.in_([reg.id for reg in mission.regs.values()]))).all()
    assert [(a.registration_id, a.session_id, a.recorded_by_id) for a in attendances] == [
        (first.id, None, mission.host.id)]


# --------------------------------------------------------------------------- who gets which


def test_a_member_downloads_their_own_approved_badge(client, mission, tmp_path):
    body = download_pdf(client, mission.users["anna"], mission.badge_url("anna"))
    pages = pages_text(body, tmp_path)
    assert len(pages) == 1 and "Anna Zimmer" in pages[0]
    assert_sizes(page_sizes(body, tmp_path), A6_PT, 1)


def test_a_members_badge_comes_on_a4_when_asked(client, mission, tmp_path):
    body = download_pdf(client, mission.users["anna"], mission.badge_url("anna", "?format=a4"))
    assert_sizes(page_sizes(body, tmp_path), A4_PT, 1)
    assert "Anna Zimmer" in pages_text(body, tmp_path)[0]


@pytest.mark.parametrize("key", ["petra", "rita", "walt", "willa", "carl"])
def test_a_registration_that_is_not_approved_has_no_badge(client, mission, key):
    for viewer in (mission.users[key], mission.organizer):
        login(client, viewer)
        assert client.get(mission.badge_url(key)).status_code == 404


def test_nobody_gets_someone_elses_badge_but_its_deciders(client, mission, tmp_path):
    for outsider in (mission.users["bruno"], mission.manager_other, mission.host):
        login(client, outsider)
        assert client.get(mission.badge_url("anna")).status_code == 404
    for decider in (mission.organizer, mission.admin):
        assert "Anna Zimmer" in pages_text(
            download_pdf(client, decider, mission.badge_url("anna")), tmp_path)[0]


def test_a_manager_gets_only_their_clusters_badges(client, mission, tmp_path):
    body = download_pdf(client, mission.manager_alpha,
                    f"{mission.batch_url}?format=a6&partner=all")
    pages = pages_text(body, tmp_path)
    everyone = [name for _, _, name, *_ in (*Mission.APPROVED, *Mission.NOT_APPROVED)]
    assert names_in_order(pages, everyone) == ["Dirk Brown", "Émile Dupont", "Carla Young"]
    assert len(pages) == 3


@pytest.mark.parametrize("viewer", ["organizer", "admin"])
def test_organizers_and_admins_get_everyones_badges_by_cluster_then_surname(
        client, mission, tmp_path, viewer):
    body = download_pdf(client, getattr(mission, viewer),
                    f"{mission.batch_url}?format=a6&partner=all")
    pages = pages_text(body, tmp_path)
    everyone = [name for _, _, name, *_ in (*Mission.APPROVED, *Mission.NOT_APPROVED)]
    assert names_in_order(pages, everyone) == mission.names(Mission.IN_BADGE_ORDER)
    assert len(pages) == len(Mission.APPROVED)
    for page, name in zip(pages, mission.names(Mission.IN_BADGE_ORDER), strict=True):
        assert name in one_line(page)


def test_an_organizer_may_print_one_clusters_badges(client, mission, tmp_path):
    zeta = mission.clusters["zeta"]
    body = download_pdf(client, mission.organizer,
                        f"{mission.batch_url}?format=a6&partner={zeta.id}")
    assert names_in_order(pages_text(body, tmp_path), mission.names(Mission.IN_BADGE_ORDER)) == [
        "Bruno Adams", "Anna Zimmer"]


def test_a_manager_may_not_pick_a_cluster_they_do_not_serve(client, mission):
    login(client, mission.manager_alpha)
    zeta = mission.clusters["zeta"]
    assert client.get(f"{mission.batch_url}?format=a6&partner={zeta.id}").status_code == 400


def test_the_batch_comes_on_a4_sheets_of_four(client, mission, tmp_path):
    body = download_pdf(client, mission.organizer, f"{mission.batch_url}?format=a4&partner=all")
    assert_sizes(page_sizes(body, tmp_path), A4_PT, math.ceil(len(Mission.APPROVED) / 4))
    printed = printed_badges(body, tmp_path, "a4", scan=False)
    assert len(printed) == len(Mission.APPROVED)
    for badge, name in zip(printed, mission.names(Mission.IN_BADGE_ORDER), strict=True):
        assert name in badge.text


def test_the_badge_pages_own_form_downloads_the_badges(client, mission, tmp_path):
    """What a browser sends when the organizer presses the button, whatever the page
    chose to show of the form."""
    for viewer, names in ((mission.manager_alpha, 3), (mission.organizer, 6)):
        login(client, viewer)
        page = client.get(f"/events/{mission.event.id}/badges").get_data(as_text=True)
        fields = form_fields(page, mission.batch_url)
        assert fields, "no form downloads the badges"
        response = client.get(mission.batch_url, query_string=fields)
        assert response.status_code == 200, response.status_code
        assert response.mimetype == "application/pdf"
        assert len(pages_text(response.data, tmp_path)) == names


@pytest.mark.parametrize("url", ["badge", "batch"])
def test_a_paper_no_one_offers_is_a_bad_request(client, mission, url):
    login(client, mission.organizer)
    path = (mission.badge_url("anna", "?format=x") if url == "badge"
            else f"{mission.batch_url}?format=x&partner=all")
    assert client.get(path).status_code == 400


# --------------------------------------------------------------------------- bad input


# The name as stored, and what the badge must show: the markup as text, the marks
# invisible; an override reverses what it spans, inside the name alone.
AWKWARD_NAMES = [
    ("<b>bold</b> Bauer", "<b>bold</b> Bauer"),
    ("<script>alert(1)</script>", "<script>alert(1)</script>"),
    ("\u200fNadia Haddad\u200f", "Nadia Haddad"),
    ("\u200fשרה כהן\u200f", "שרה כהן"),
    ("Eve \u202erevlis\u202c Stone", "Eve silver Stone"),
    (" ".join(["Maximiliana"] * 17)[:200], " ".join(["Maximiliana"] * 17)[:200]),
    ("W" * 200, "W" * 200),
    ("😀😃", "😀😃"),
]


@pytest.fixture
def awkward(make):
    """A mission whose delegates have AWKWARD_NAMES."""
    cluster = make.partner(name="Alpha Smart Cities")
    event = make.event(organizers=[cluster])
    by_code = {}
    for name, shown in AWKWARD_NAMES:
        user = make.user(make.organization(cluster), name=name)
        reg = make.registration(event, user, S.SUBMITTED, S.APPROVED)
        by_code[checkin_url(reg)] = shown
    return event, make.manager(cluster), by_code


@pytest.mark.parametrize("paper, per_page", [("a6", 1), ("a4", 4)])
def test_awkward_names_print_as_text_and_every_qr_still_scans(
        client, awkward, tmp_path, paper, per_page):
    event, organizer, by_code = awkward
    body = download_pdf(client, organizer,
                        f"/events/{event.id}/badges.pdf?format={paper}&partner=all")
    assert len(page_sizes(body, tmp_path)) == math.ceil(len(AWKWARD_NAMES) / per_page)
    printed = printed_badges(body, tmp_path, paper)
    assert len(printed) == len(AWKWARD_NAMES)
    assert sorted(code for badge in printed for code in badge.codes) == sorted(by_code)
    for badge in printed:  # the name is printed on the badge whose QR it scans to
        assert len(badge.codes) == 1
        assert squeezed(by_code[badge.codes[0]]) in squeezed(badge.text), badge
