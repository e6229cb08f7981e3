"""Static files are linked under an address that carries their content's digest, and a
browser keeps what it fetched at such an address for a year; a changed file gets a new
address, and an address without the digest, or with an old one, is revalidated."""

from __future__ import annotations

import re

import pytest

from webapp import assets


def _linked(page: str) -> list[str]:
    return re.findall(r'(?:href|src)="(/static/[^"]+)"', page)


def test_every_static_file_a_page_links_carries_its_digest_and_is_kept_a_year(client, db):
    page = client.get("/login").get_data(as_text=True)
    linked = _linked(page)
    assert len(linked) >= 4, linked  # the stylesheets, the scripts, the icon
    for url in linked:
        assert re.search(r"\?v=[0-9a-f]{12}$", url), url
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.cache_control.max_age == assets.MAX_AGE, url
        assert response.cache_control.public, url


@pytest.mark.parametrize("query", ["", "?v=000000000000", "?v="])
def test_without_the_files_digest_it_is_revalidated(client, db, query):
    response = client.get(f"/static/css/beachhead.css{query}")
    assert response.status_code == 200
    assert response.cache_control.max_age is None and response.cache_control.no_cache


def test_a_changed_file_gets_a_new_address(app, tmp_path):
    (tmp_path / "site.css").write_text("body { color: black; }")
    before = assets.digest(str(tmp_path), "site.css")
    (tmp_path / "site.css").write_text("body { color: navy; }  ")
    after = assets.digest(str(tmp_path), "site.css")
    assert before and after and before != after


@pytest.mark.parametrize("name", ["nothere.css", "../config.py", ""])
def test_no_digest_for_what_is_not_a_static_file(app, name):
    assert assets.digest(app.static_folder, name) is None


def test_a_missing_file_is_still_not_found(client, db):
    assert client.get("/static/css/nothere.css?v=000000000000").status_code == 404


def test_a_static_file_neither_varies_with_nor_touches_the_session(client, login_as, make):
    login_as(make.user(name="Astrid Static"))
    page = client.get("/account/profile").get_data(as_text=True)
    stylesheet = next(url for url in _linked(page) if url.endswith(".css") or ".css?" in url)

    response = client.get(stylesheet)

    assert response.status_code == 200
    assert "Cookie" not in response.vary and "Set-Cookie" not in response.headers
    # Still signed in afterwards.
    assert "Astrid Static" in client.get("/account/profile").get_data(as_text=True)
