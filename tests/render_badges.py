"""Render badges for the names in a JSON spec, in a process of its own.

    python -m tests.render_badges SPEC.json OUT_DIR

SPEC is {"documents": [{"file": "a6.pdf", "format": "a6", "names": [...]}, ...]}. Each
document is written to OUT_DIR, and OUT_DIR/missing.json lists, per file, the characters
WeasyPrint found in none of the fonts (it draws a box for each). tests/test_badges.py runs
this with a fontconfig that knows only static/fonts, so no font of the machine can stand
in for one the project fails to ship.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from pathlib import Path

from webapp import create_app
from webapp.models import BadgeFormat
from webapp.models.types import new_badge_code
from webapp.services import badges
from webapp.services.notifications import absolute_url

# WeasyPrint's own words for a character no font has (weasyprint/draw/text.py).
NOTDEF = re.compile(r'\.notdef glyph rendered for Unicode string unsupported by fonts: "(.+)"')


class MissingGlyphs(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.characters: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        found = NOTDEF.match(record.getMessage())
        if found:
            self.characters.append(found.group(1))


def badge(number: int, name: str) -> badges.Badge:
    code = new_badge_code()
    return badges.Badge(
        registration_id=number, name=name, organization="Smart Urbanism Flanders",
        country="Belgium", role="Delegate", role_key="delegate",
        cluster="Smart City Cluster", event_title="Outbound mission to Singapore",
        dates="12–14 Mar 2027", place="Singapore", code=code,
        url=absolute_url("checkin.badge", code=code))


def main(spec_path: str, out_dir: str) -> None:
    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    out = Path(out_dir)
    app = create_app("testing", SQLALCHEMY_DATABASE_URI="sqlite://")
    missing: dict[str, list[str]] = {}
    with app.app_context():
        for document in spec["documents"]:
            handler = MissingGlyphs()
            logger = logging.getLogger("weasyprint")
            logger.addHandler(handler)
            try:
                body = badges.render([badge(n, name) for n, name in
                                      enumerate(document["names"], 1)],
                                     BadgeFormat(document["format"]))
            finally:
                logger.removeHandler(handler)
            (out / document["file"]).write_bytes(body)
            missing[document["file"]] = handler.characters
    (out / "missing.json").write_text(json.dumps(missing, ensure_ascii=False),
                                      encoding="utf-8")


if __name__ == "__main__":
    main(*sys.argv[1:])
