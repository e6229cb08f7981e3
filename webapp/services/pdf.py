"""PDF from HTML and CSS with WeasyPrint: our fonts, and nothing fetched but our files.

Every document (the delegation brochure, badges) is rendered here, in-process. WeasyPrint
is imported on first use (the import costs about half a second, which the app's start
should not pay). Its URL fetcher is ours and reads only our static files and the stored
logos: whatever a name or profile says is escaped text anyway, and should markup ever get
through, nothing is fetched from the network or from any other file on the machine.

The fonts are shipped in `static/fonts` (Noto Sans for Latin, Greek and Cyrillic, Noto
Sans CJK for Chinese, Japanese and Korean, DejaVu Sans for symbols and what else the two
lack), so a machine with no fonts of its own prints the same names. They are loaded once
per thread into a WeasyPrint font configuration that every document of that thread reuses:
reading the 16 MB CJK font for each badge would cost more than drawing the badge.
"""

from __future__ import annotations

import mimetypes
import threading
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

from flask import current_app, render_template

from . import logos

# What `font-family: var(...)` cannot say in WeasyPrint: the stack every document uses.
FONT_STACK = '"Noto Sans", "Noto Sans CJK SC", "DejaVu Sans", sans-serif'


class FetchRefused(ValueError):
    """WeasyPrint asked for something other than our static files or a stored logo."""


@dataclass(frozen=True)
class LocalFiles:
    """The only files a document may read: anything under the static folder (the fonts,
    the favicon) and the logos `services.logos` stored, by the names it gives them."""

    static_folder: Path
    upload_folder: Path

    def path_for(self, url: str) -> Path:
        """The file `url` names, or FetchRefused. Symlinks and `..` are resolved before
        the check, so a path cannot climb out of the two folders."""
        parts = urlsplit(url)
        if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
            raise FetchRefused(f"not a local file: {url[:80]}")
        path = Path(url2pathname(parts.path)).resolve()
        static_root = self.static_folder.resolve()
        if path.is_relative_to(static_root) and path.is_file():
            return path
        if (path.parent == self.upload_folder.resolve() and logos.is_stored_name(path.name)
                and path.is_file()):
            return path
        raise FetchRefused(f"not one of our files: {url[:80]}")

    def static_url(self, filename: str) -> str:
        return (self.static_folder / filename).resolve().as_uri()


def local_files() -> LocalFiles:
    """The current app's static and upload folders."""
    app = current_app
    return LocalFiles(Path(app.static_folder or ""), Path(app.config["UPLOAD_FOLDER"]))


@cache
def weasyprint():
    """WeasyPrint, imported on first use.

    Importing it switches Pillow to accept truncated images for the whole process; logo
    uploads must keep refusing them, and the logos we print are our own re-encoded files,
    so the switch goes back."""
    from PIL import ImageFile

    accept_truncated = ImageFile.LOAD_TRUNCATED_IMAGES
    import weasyprint as module
    import weasyprint.text.fonts
    import weasyprint.urls

    ImageFile.LOAD_TRUNCATED_IMAGES = accept_truncated
    return module


@cache
def _local_fetcher_class() -> type:
    # Defined on first use: subclassing WeasyPrint's fetcher needs WeasyPrint imported.
    # WeasyPrint expects an instance of its class (it reads its options when a fetch fails).
    urls = weasyprint().urls

    class LocalFilesFetcher(urls.URLFetcher):
        def __init__(self, files: LocalFiles) -> None:
            super().__init__(allowed_protocols=("file",), allow_redirects=False)
            self.files = files

        def fetch(self, url, headers=None):
            path = self.files.path_for(url)
            content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return urls.URLFetcherResponse(path.as_uri(), path.read_bytes(),
                                           headers={"Content-Type": content_type})

    return LocalFilesFetcher


def url_fetcher(files: LocalFiles) -> Callable[[str], Any]:
    """A WeasyPrint URL fetcher that serves `files` and raises FetchRefused otherwise."""
    return _local_fetcher_class()(files)


@dataclass
class Fonts:
    """A font configuration with our fonts loaded, and the stylesheet that declares them."""

    config: Any
    stylesheet: Any


_per_thread = threading.local()


def fonts(files: LocalFiles) -> Fonts:
    """This thread's fonts for `files` (pango's font maps are not shared across threads)."""
    cached = getattr(_per_thread, "fonts", {})
    found = cached.get(files)
    if found is None:
        module = weasyprint()
        config = module.text.fonts.FontConfiguration()
        css = render_template("pdf/fonts.css", static_url=files.static_url)
        stylesheet = module.CSS(string=css, font_config=config, url_fetcher=url_fetcher(files))
        found = cached[files] = Fonts(config, stylesheet)
        _per_thread.fonts = cached
    return found


class Renderer:
    """Turns HTML into PDF with our fonts and fetcher; one per batch of documents."""

    def __init__(self, files: LocalFiles | None = None) -> None:
        self.files = files or local_files()
        self.fonts = fonts(self.files)
        self.fetcher = url_fetcher(self.files)

    def layout(self, html: str, stylesheets: Sequence[Any] = ()) -> Any:
        """The laid-out document (its pages can be combined with others' before writing)."""
        module = weasyprint()
        # NFC, whatever was stored: a decomposed letter (e + U+0301) prints as one glyph, but
        # the text layer would copy it out decomposed, unequal to the name as typed.
        document = module.HTML(string=unicodedata.normalize("NFC", html),
                               url_fetcher=self.fetcher, media_type="print")
        return document.render(stylesheets=[self.fonts.stylesheet, *stylesheets],
                               font_config=self.fonts.config)

    def stylesheet(self, css: str) -> Any:
        """A stylesheet parsed once, for many documents."""
        return weasyprint().CSS(string=css, font_config=self.fonts.config,
                                url_fetcher=self.fetcher)

    def write(self, pages: Sequence[Any], first: Any) -> bytes:
        """One PDF of `pages`, laid out by any of this renderer's documents (`first` one)."""
        return first.copy(list(pages)).write_pdf()

    def pdf(self, html: str, stylesheets: Sequence[Any] = ()) -> bytes:
        document = self.layout(html, stylesheets)
        return document.write_pdf()
