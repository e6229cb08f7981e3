"""Going through a destructive action's confirmation page (webapp/confirmations.py) as a
browser without JavaScript does: read the page's form as it stands, post it."""

from __future__ import annotations

import html
import re

from werkzeug.datastructures import MultiDict

from tests.live import form_fields

_FORM = re.compile(r'data-testid="confirmation".*?<form method="post" action="([^"]*)"', re.S)


def confirmation_form(page: str) -> tuple[str, list[tuple[str, str]]]:
    """The confirmation page's form: where it posts and the fields it sends."""
    found = _FORM.search(page)
    assert found, "not a confirmation page"
    action = html.unescape(found.group(1))
    return action, form_fields(page, action)


def token_on(page: str) -> str:
    return dict(confirmation_form(page)[1])["confirmation"]


def confirm(client, page, **changes):
    """Confirm on `page` (a response showing a confirmation page, or its URL): its form
    posted as it stands, `changes` replacing fields (a list: several values)."""
    if isinstance(page, str):
        page = client.get(page)
    assert page.status_code == 200, page.status_code
    action, fields = confirmation_form(page.get_data(as_text=True))
    data = MultiDict([(k, v) for k, v in fields if k not in changes])
    for name, value in changes.items():
        for one in value if isinstance(value, list) else [value]:
            data.add(name, one)
    return client.post(action, data=data)
