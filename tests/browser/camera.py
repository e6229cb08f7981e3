"""A Chromium whose camera films a badge: the product's own badge PDF, rasterized, its QR
code played to the page as a still video through Chromium's fake camera. The door's
check-in and the tables' meeting scanner read badges with it."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Page, Playwright

from webapp.extensions import db
from webapp.models import BadgeFormat, Registration
from webapp.services import badges

from .conftest import CHROMIUM, CHROMIUM_ARGS, VIEWPORT, LiveServer, missing_chromium_message

FRAME = (640, 480)
FRAMES = 5


def badge_qr_frame(live_server: LiveServer, registration_id: int, folder: Path
                   ) -> Image.Image:
    """The QR code of the registration's badge as the product prints it (the A6 PDF,
    rasterized at 100 dpi), doubled in size and centered on a white camera frame."""
    with live_server.app.app_context():
        registration = db.session.get(Registration, registration_id)
        document = badges.render([badges.badge_of(registration)], BadgeFormat.A6)
        db.session.remove()
    (folder / "badge.pdf").write_bytes(document)
    subprocess.run(["pdftoppm", "-r", "100", "-png", "-singlefile", folder / "badge.pdf",
                    folder / "badge"], capture_output=True, check=True)
    with Image.open(folder / "badge.png") as raster:
        badge = raster.convert("L")
    # Only the QR's modules are pure black: the type is dark grey or coloured.
    box = badge.point(lambda value: 255 if value < 16 else 0).getbbox()
    assert box is not None, "no QR code on the badge"
    module = 4  # a little over one module at 100 dpi: the crop keeps a white quiet zone
    qr = badge.crop((box[0] - 4 * module, box[1] - 4 * module,
                     box[2] + 4 * module, box[3] + 4 * module))
    qr = qr.resize((qr.width * 2, qr.height * 2), Image.Resampling.NEAREST)
    assert qr.width < FRAME[0] and qr.height < FRAME[1]
    frame = Image.new("L", FRAME, 255)
    frame.paste(qr, ((FRAME[0] - qr.width) // 2, (FRAME[1] - qr.height) // 2))
    return frame.convert("RGB")


def write_y4m(frame: Image.Image, path: Path, frames: int = FRAMES) -> None:
    """A YUV4MPEG2 (4:2:0) video of `frame` standing still, for Chromium's fake camera."""
    y, u, v = frame.convert("YCbCr").split()
    half = (frame.width // 2, frame.height // 2)
    planes = (y.tobytes() + u.resize(half, Image.Resampling.BOX).tobytes()
              + v.resize(half, Image.Resampling.BOX).tobytes())
    with path.open("wb") as video:
        video.write(f"YUV4MPEG2 W{frame.width} H{frame.height} F10:1 Ip A1:1 C420jpeg\n"
                    .encode())
        for _ in range(frames):
            video.write(b"FRAME\n" + planes)


@contextmanager
def filming_badge(playwright: Playwright, live_server: LiveServer, registration_id: int,
                  folder: Path) -> Iterator[Page]:
    """A page of a Chromium whose camera films the badge of `registration_id`; `folder`
    holds the badge and the video while it runs, and is emptied and removed after."""
    if not CHROMIUM.exists():
        pytest.fail(missing_chromium_message(CHROMIUM), pytrace=False)
    video = folder / "badge.y4m"
    write_y4m(badge_qr_frame(live_server, registration_id, folder), video)
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=[
        *CHROMIUM_ARGS, "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}"])
    context = browser.new_context(base_url=live_server.url, viewport=VIEWPORT)
    context.grant_permissions(["camera"], origin=live_server.url)
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        yield page
    finally:
        context.close()
        browser.close()
        for path in folder.iterdir():
            path.unlink()
        folder.rmdir()
