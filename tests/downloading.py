"""Files built in the background, fetched as a person does: open the file's old URL
(a page with a button), press the button, follow to the download's page, take the file.

In tests that share the test's rolled-back session (`db`), the build runs right after
the request's commit in that session (tests/conftest.py); tests/test_downloads.py covers
the real thread and the RQ worker on committed apps.
"""

from __future__ import annotations

import html
import re

from werkzeug.datastructures import MultiDict

from tests.conftest import login, private_pdf
from tests.live import form_fields

DOWNLOAD_RE = re.compile(r"^/downloads/(\d+)$")
BUILD_FORM_RE = re.compile(r'<form method="post" action="([^"]+)" class="mb-3">')


def press_build(client, url: str) -> int:
    """Open `url` (it starts nothing), press "Build the file"; the download's id."""
    page = client.get(url)
    assert page.status_code == 200, page.status_code
    body = page.get_data(as_text=True)
    match = BUILD_FORM_RE.search(body)
    assert match, f"{url} offers no file to build"
    action = html.unescape(match.group(1))
    response = client.post(action, data=MultiDict(form_fields(body, action)))
    assert response.status_code == 303, response.status_code
    found = DOWNLOAD_RE.match(response.location)
    assert found, response.location
    return int(found.group(1))


def built_file(client, url: str):
    """The response to the file `url` builds in the background."""
    download_id = press_build(client, url)
    return client.get(f"/downloads/{download_id}/file")


def download_built_pdf(client, user, url: str) -> bytes:
    """`url`'s PDF as `user` gets it: built in the background, then an attachment with a
    plain file name, never cached on the way."""
    login(client, user)
    return private_pdf(built_file(client, url))
