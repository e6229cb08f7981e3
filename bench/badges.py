"""Time a 500-badge A6 batch against the floor: WeasyPrint laying out bare pages of the same names.

    .venv/bin/python bench/badges.py
    .venv/bin/python bench/badges.py --badges 500 --runs 3

An app on its own throwaway SQLite file (schema through the migrations) gets one mission
and that many approved registrations: people with names in Latin scripts with diacritics,
Greek, Cyrillic, Chinese, Japanese and Korean, their organizations, their clusters and
their roles on the event. Three measurements, each in a fresh process (so the peak
resident sizes do not mix), interleaved over the runs, medians:
- product: `services.badges.render` of the event's badges in A6, built with `badge_of`
  from the database the way `batch_pdf` builds them (that building is timed apart);
- floor, per 50: a bare loop laying out one minimal page per badge (the name, and the
  badge's QR as segno's inline SVG) with the same names, the same `pdf.Renderer` and its
  fonts stylesheet, writing every 50 pages as one PDF and merging them with pypdf;
- floor, one document: the same minimal pages as one document, for information.
Each process first renders one page of its own kind, so WeasyPrint is imported and the
fonts are loaded before the clock starts, as in a worker that has printed before.
The goal: the product within 1.3x of the floor per 50, its peak RSS under 300 MB.
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import logging
import platform
import random
import resource
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from time import perf_counter

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import segno  # noqa: E402
from flask import Flask  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from markupsafe import escape  # noqa: E402

from webapp import create_app  # noqa: E402
from webapp.extensions import db  # noqa: E402
from webapp.models import (  # noqa: E402
    BadgeFormat,
    Event,
    EventKind,
    EventRole,
    EventStatus,
    Helix,
    Organization,
    OrganizationSize,
    Partner,
    PartnerKind,
    Role,
    RoleGrant,
    User,
    utcnow,
)
from webapp.models import RegistrationStatus as S  # noqa: E402
from webapp.services import badges, pdf, registrations  # noqa: E402

CHUNK_PAGES = badges.CHUNK_PAGES
PRODUCT, FLOOR_CHUNKED, FLOOR_SINGLE = "product", "floor-chunked", "floor-single"
LABELS = {
    PRODUCT: "product: badges.render, A6",
    FLOOR_CHUNKED: f"floor: bare pages, per {CHUNK_PAGES}, merged",
    FLOOR_SINGLE: "floor: bare pages, one document",
}
GOAL_RATIO = 1.3
MISSION_SLUG = "bench-badges-mission"
ADMIN_EMAIL = "admin@bench.example"
GOAL_RSS_MB = 300

# --------------------------------------------------------------------------- the people


@dataclass(frozen=True)
class Names:
    """How one language's people are named: CJK names family name first, as their owners
    write them (Chinese and Korean without a space)."""

    given: tuple[str, ...]
    family: tuple[str, ...]
    family_first: bool = False
    separator: str = " "

    def pick(self, rng: random.Random) -> str:
        given, family = rng.choice(self.given), rng.choice(self.family)
        first, last = (family, given) if self.family_first else (given, family)
        return f"{first}{self.separator}{last}"


@dataclass(frozen=True)
class Companies:
    """Company names of one country: `pattern` with a place and a line of business."""

    country: str
    pattern: str
    places: tuple[str, ...]
    fields: tuple[str, ...]

    def pick(self, rng: random.Random) -> str:
        return self.pattern.format(place=rng.choice(self.places), field=rng.choice(self.fields))


@dataclass(frozen=True)
class Script:
    """People written in one script: each naming custom with the companies they work for."""

    name: str
    share: float
    people: tuple[tuple[Names, tuple[Companies, ...]], ...]


LATIN_FIELDS = ("Urban Sensing", "Smart Grid", "Mobility Data", "Street Lighting",
                "Water Analytics", "GovTech", "Circular Buildings", "Digital Twins")
SCRIPTS = (
    Script("Latin", 0.55, ((Names(
        ("Astrid", "Søren", "Małgorzata", "Jiří", "Ľubomír", "Ástríður", "Anaïs", "Çağla",
         "Dževad", "Eglė", "Håkon", "Ioana", "José María", "Jürgen", "Kristiāna", "Łukasz",
         "Núria", "Örjan", "Răzvan", "Sinéad", "Tõnu", "Václav", "Żaneta", "Đorđe",
         "Maria da Conceição", "Friederike-Charlotte"),
        ("Sønderby", "Brzęczyszczykiewicz", "Dvořák", "Šťastná", "Þórðardóttir", "Lefèvre",
         "Yılmaz", "Hadžić", "Kazlauskienė", "Müller-Lüdenscheidt", "Ó Súilleabháin", "Kõiv",
         "Gonçalves", "Østergård", "Ibáñez Vázquez", "Nguyễn", "Albuquerque de Vasconcelos",
         "von Oberndorff-Hohenberg", "Wiśniewska", "Jørgensen", "Čapek")), (
        Companies("DK", "{place} {field} ApS", ("Limfjord", "Øresund", "Nørresundby", "Ærø"),
                  LATIN_FIELDS),
        Companies("CZ", "{place} {field} s.r.o.", ("Vltava", "Brněnské", "Ústí"), LATIN_FIELDS),
        Companies("PL", "{place} {field} sp. z o.o.", ("Wrocław", "Łódź", "Gdańsk", "Śnieżka"),
                  LATIN_FIELDS),
        Companies("IS", "{place} {field} ehf.", ("Þingvellir", "Akureyri"), LATIN_FIELDS),
        Companies("FR", "{field} {place} SAS", ("Lyon-Croix-Rousse", "Besançon", "Vénissieux"),
                  LATIN_FIELDS),
        Companies("PT", "{field} do {place} Lda.", ("Porto", "Minho", "Guimarães"),
                  LATIN_FIELDS),
        Companies("LT", "{place} {field} UAB", ("Kaunas", "Šiauliai", "Klaipėda"),
                  LATIN_FIELDS),
        Companies("SI", "{place} {field} d.o.o.", ("Ljubljana", "Kranj", "Škofja Loka"),
                  LATIN_FIELDS),
    )),)),
    Script("Greek", 0.15, ((Names(
        ("Γιώργος", "Ελένη", "Κωνσταντίνος", "Αικατερίνη", "Δημήτρης", "Σοφία", "Αθανάσιος",
         "Μαρία"),
        ("Παπαδόπουλος", "Αλεξίου", "Γεωργίου", "Καραμανλή", "Οικονόμου", "Χατζηδάκης",
         "Παπανικολάου")), (
        Companies("GR", "{place} {field} ΙΚΕ", ("Θερμαϊκός", "Όλυμπος", "Λαδάδικα", "Καλαμαριά"),
                  ("Αισθητήρες", "Φωτισμός", "Ψηφιακό Δίδυμο", "Ενέργεια")),
    )),)),
    Script("Cyrillic", 0.15, ((Names(
        ("Александр", "Ольга", "Дмитро", "Снежана", "Іван", "Јована", "Борислав", "Наталья"),
        ("Иванов", "Шевченко", "Петровић", "Костадинова", "Ковальчук", "Чернышёва",
         "Благоев")), (
        Companies("BG", "{place} {field} ЕООД", ("Софийски", "Пловдивски", "Варненски"),
                  ("Сензори", "Градски Данни", "Мобилност")),
        Companies("UA", "ТОВ «{place} {field}»", ("Київ", "Львів", "Харків"),
                  ("Смарт Мобіліті", "Енергія", "Дані міста")),
        Companies("RS", "{place} {field} д.о.о.", ("Нови Сад", "Београд"),
                  ("Паметни Град", "Сензори")),
    )),)),
    Script("CJK", 0.15, (
        (Names(("伟", "娜", "敏", "静", "志明", "美玲"), ("王", "李", "张", "陈", "林"),
               family_first=True, separator=""),
         (Companies("SG", "{place}{field}有限公司", ("新加坡", "裕廊", "榜鹅"),
                    ("智慧城市科技", "城市感知技术", "智能交通")),)),
        (Names(("健", "花子", "さくら", "翔太"), ("佐藤", "鈴木", "高橋", "田中"),
               family_first=True),
         (Companies("JP", "株式会社{place}{field}", ("東京", "大阪", "横浜"),
                    ("スマートシティ", "都市データ", "モビリティ研究所")),)),
        (Names(("민준", "서연", "지훈", "수아"), ("김", "이", "박", "최"), family_first=True,
               separator=""),
         (Companies("KR", "{place}{field} 주식회사", ("서울", "부산", "인천"),
                    ("스마트모빌리티", "도시데이터", "에너지")),)),
    )),
)
CLUSTERS = (
    "Smart City Nord – North Denmark Cluster",
    "Dolnośląski Klaster Inteligentnego Miasta",
    "Smart City Cluster of Central Macedonia",
    "Klastr Chytrá města Brno",
    "Cluster Ville Durable Auvergne-Rhône-Alpes",
    "Clúster Ciutat Digital de Catalunya",
    "Pametna mesta Ljubljana",
    "Išmanusis Kaunas",
)
# Most people are delegates; a few speak, organize, host or staff the event.
ROLES = (EventRole.DELEGATE,) * 16 + (EventRole.SPEAKER, EventRole.SPEAKER,
                                      EventRole.ORGANIZER, EventRole.HOST, EventRole.STAFF)


def build(app: Flask, count: int) -> dict[str, int]:
    """One mission and `count` approved registrations; returns how many names per script."""
    rng = random.Random(20261125)
    scripts: dict[str, int] = {}
    with app.app_context():
        clusters = [Partner(name=name, short_name=f"C{i}", slug=f"cluster-{i}",
                            kind=PartnerKind.CLUSTER, is_member=True, country="DK")
                    for i, name in enumerate(CLUSTERS)]
        beachhead = Partner(name="IPI Singapore", short_name="IPI", slug="ipi",
                            kind=PartnerKind.BEACHHEAD, country="SG")
        db.session.add_all([*clusters, beachhead])
        start = (utcnow() + timedelta(days=90)).replace(hour=1, minute=0, second=0,
                                                        microsecond=0)
        event = Event(kind=EventKind.OUTBOUND_MISSION,
                      title="Outbound mission to Singapore: urban solutions week",
                      slug=MISSION_SLUG, target_country="SG", target_city="Singapore",
                      timezone="Asia/Singapore", starts_at=start,
                      ends_at=start + timedelta(days=4), status=EventStatus.PUBLISHED,
                      requires_approval=True)
        event.organizers, event.hosts = [clusters[0]], [beachhead]
        db.session.add(event)
        admin = User(email=ADMIN_EMAIL, name="Bench Admin", password_hash=None,
                     email_verified_at=utcnow())
        db.session.add(admin)
        db.session.flush()
        db.session.add(RoleGrant(user=admin, role=Role.ADMIN))
        organizations: dict[str, Organization] = {}
        for i in range(count):
            script = rng.choices(SCRIPTS, [s.share for s in SCRIPTS])[0]
            scripts[script.name] = scripts.get(script.name, 0) + 1
            names, employers = rng.choice(script.people)
            companies = rng.choice(employers)
            company = companies.pick(rng)
            organization = organizations.get(company)
            if organization is None:
                organization = organizations[company] = Organization(
                    name=company, country=companies.country, size=OrganizationSize.SMALL,
                    helix=Helix.INDUSTRY, home_cluster=rng.choice(clusters),
                    sector="Smart city")
                db.session.add(organization)
            user = User(email=f"delegate{i}@bench.example",
                        name=names.pick(rng), organization=organization,
                        password_hash=None, email_verified_at=utcnow())
            db.session.add(user)
            registration = registrations.record_history(
                user, event, [(S.SUBMITTED, utcnow(), None, ""), (S.APPROVED, utcnow(), None, "")],
                responsible_partner_id=organization.home_cluster.id)
            registration.role = rng.choice(ROLES)
        db.session.commit()
        db.session.remove()
    return scripts


def bench_app(database: Path) -> Flask:
    return create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{database}")


# --------------------------------------------------------------------------- one measurement

FLOOR_CSS = f"""
@page {{ size: A6; margin: 0; }}
html {{ font-family: {pdf.FONT_STACK}; }}
body {{ margin: 0; }}
.page {{ break-after: page; padding: 7mm; }}
.name {{ font-weight: bold; font-size: 24pt; margin: 0; overflow-wrap: anywhere; }}
.qr {{ width: 34mm; height: 34mm; margin: 10mm auto 0; }}
.qr svg {{ width: 100%; height: 100%; }}
"""
FLOOR_HTML = ('<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Floor</title>'
              "</head><body>{}</body></html>")


def floor_page(badge: badges.Badge) -> str:
    qr = segno.make(badge.url, error="m").svg_inline(omitsize=True)
    return (f'<div class="page"><p class="name">{escape(badge.name)}</p>'
            f'<div class="qr">{qr}</div></div>')


def floor_chunked(renderer: pdf.Renderer, stylesheet, batch: list[badges.Badge]) -> bytes:
    chunks, laid_out = [], []
    for badge in batch:
        laid_out.append(renderer.layout(FLOOR_HTML.format(floor_page(badge)), [stylesheet]))
        if len(laid_out) == CHUNK_PAGES:
            chunks.append(renderer.write([p for d in laid_out for p in d.pages], laid_out[0]))
            laid_out = []
    if laid_out:
        chunks.append(renderer.write([p for d in laid_out for p in d.pages], laid_out[0]))
    return chunks[0] if len(chunks) == 1 else badges.merge(chunks)


def floor_single(renderer: pdf.Renderer, stylesheet, batch: list[badges.Badge]) -> bytes:
    html = FLOOR_HTML.format("".join(floor_page(badge) for badge in batch))
    return renderer.layout(html, [stylesheet]).write_pdf()


class MissingGlyphs(logging.Handler):
    """Counts the characters WeasyPrint found in none of the fonts (it draws a box)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if ".notdef glyph" in record.getMessage():
            self.count += 1


def maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def measure(kind: str, database: Path) -> dict:
    """One measurement of `kind`, in this (fresh) process."""
    app = bench_app(database)
    with app.app_context():
        admin = db.session.query(User).filter_by(email=ADMIN_EMAIL).one()
        event = db.session.query(Event).filter_by(slug=MISSION_SLUG).one()
        start = perf_counter()
        batch = [badges.badge_of(reg) for reg in badges.batch_registrations(admin, event)]
        build_seconds = perf_counter() - start
        rss_before = maxrss_mb()
        missing = MissingGlyphs()
        logging.getLogger("weasyprint").addHandler(missing)
        if kind == PRODUCT:
            badges.render(batch[:1], BadgeFormat.A6)  # warm: WeasyPrint, fonts, templates

            def run() -> bytes:
                return badges.render(batch, BadgeFormat.A6)
        else:
            renderer = pdf.Renderer()
            stylesheet = renderer.stylesheet(FLOOR_CSS)
            floor = floor_chunked if kind == FLOOR_CHUNKED else floor_single
            floor(renderer, stylesheet, batch[:1])

            def run() -> bytes:
                return floor(renderer, stylesheet, batch)
        missing.count = 0
        rss_warm = maxrss_mb()
        gc.collect()
        start = perf_counter()
        document = run()
        seconds = perf_counter() - start
        rss_peak = maxrss_mb()
    from pypdf import PdfReader

    return {"kind": kind, "badges": len(batch), "seconds": seconds,
            "build_seconds": build_seconds, "rss_before": rss_before, "rss_warm": rss_warm,
            "rss_peak": rss_peak, "pages": len(PdfReader(io.BytesIO(document)).pages),
            "kb": len(document) / 1024, "missing_glyphs": missing.count}


def measure_in_fresh_process(kind: str, database: Path) -> dict:
    out = subprocess.run([sys.executable, __file__, "--measure", kind, "--database",
                          str(database)], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"{kind} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- the report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--badges", type=int, default=500, help="approved registrations (500)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each measurement (3)")
    parser.add_argument("--measure", choices=list(LABELS), help=argparse.SUPPRESS)
    parser.add_argument("--database", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.database)))
        return 0

    import pypdf
    import weasyprint

    with tempfile.TemporaryDirectory(prefix="beachhead-bench-badges-") as folder:
        database = Path(folder) / "bench.db"
        app = bench_app(database)
        with app.app_context():
            upgrade()
        scripts = build(app, args.badges)
        with app.app_context():
            db.engine.dispose()
        print(f"Python {platform.python_version()}, WeasyPrint {weasyprint.__version__}, "
              f"pypdf {pypdf.__version__}; {args.badges} A6 badges from a throwaway SQLite "
              f"database ({', '.join(f'{n} {s}' for s, n in scripts.items())} names), "
              f"{args.runs} runs, each measurement in a fresh process, interleaved")
        results: dict[str, list[dict]] = {kind: [] for kind in LABELS}
        for run in range(args.runs):
            for kind in LABELS:
                result = measure_in_fresh_process(kind, database)
                results[kind].append(result)
                print(f"  run {run + 1}: {LABELS[kind]:<38} {result['seconds']:7.2f} s, "
                      f"peak RSS {result['rss_peak']:.0f} MB", flush=True)

    print(f"\n{'measurement':<40}{'median s':>9}{'ms/badge':>10}{'RSS warm MB':>13}"
          f"{'peak MB':>9}{'pages':>7}{'KB':>7}")
    medians = {}
    for kind, label in LABELS.items():
        runs = results[kind]
        seconds = statistics.median(r["seconds"] for r in runs)
        medians[kind] = seconds
        print(f"{label:<40}{seconds:>9.2f}{seconds / args.badges * 1000:>10.1f}"
              f"{statistics.median(r['rss_warm'] for r in runs):>13.0f}"
              f"{max(r['rss_peak'] for r in runs):>9.0f}{runs[0]['pages']:>7}"
              f"{runs[0]['kb']:>7.0f}")
    product = results[PRODUCT]
    ratio = medians[PRODUCT] / medians[FLOOR_CHUNKED]
    peak = max(r["rss_peak"] for r in product)
    print(f"\nratio product / floor per {CHUNK_PAGES}: {ratio:.2f}x (goal: within {GOAL_RATIO}x, "
          f"{'met' if ratio <= GOAL_RATIO else 'missed'}); one document / floor per "
          f"{CHUNK_PAGES}: {medians[FLOOR_SINGLE] / medians[FLOOR_CHUNKED]:.2f}x")
    print(f"product peak RSS: {peak:.0f} MB (goal: under {GOAL_RSS_MB} MB, "
          f"{'met' if peak < GOAL_RSS_MB else 'missed'}); {product[0]['rss_before']:.0f} MB "
          "with the app and the badges built, before WeasyPrint")
    print(f"building the {args.badges} Badge objects (query, badge_of): "
          f"{statistics.median(r['build_seconds'] for r in product) * 1000:.0f} ms; "
          f"characters in no font: {product[0]['missing_glyphs']}")
    wrong = [LABELS[kind] for kind, runs in results.items()
             if any(r["pages"] != args.badges for r in runs)]
    if wrong:
        print(f"not {args.badges} pages: {', '.join(wrong)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
