"""Confirming a destructive action: a page that says what will happen, and a one-time
token that the action needs.

A destructive endpoint (reject, revoke a token, delete a question, cancel an event...)
first shows `page`: its consequences in plain sentences (who is mailed, how many seats are
freed, what cannot be undone) and a plain POST form that carries the CSRF token and a
confirmation token from `token_for`. The POST then calls `require` before acting: the
token must be correctly signed, younger than MAX_AGE, issued to the signed-in user for
this very action and target, and unused. Otherwise the answer is a 400 page that says to
start again, and nothing is written.

Redeeming records the token's digest (a `UsedToken` row) in the caller's unit of work,
so it commits with the action or not at all, and a token posted twice at once is used
once: the second insert of the same digest fails on the primary key.

The API is not confirmed this way: a call made with an API token is its own
confirmation.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from flask import abort, make_response, render_template, request
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from . import http_cache, unit
from .extensions import db
from .models import UsedToken
from .services import tokens
from .services.errors import DomainError

PURPOSE = "confirmation"
FIELD = "confirmation"  # the name the token is posted under
MAX_AGE = 30 * 60  # seconds: long enough to read the page, short enough to go stale

# Why a token is refused: forged (or missing), stale (older than MAX_AGE), used, or
# issued for another action, target or person.
FORGED, STALE, USED = "forged", "stale", "used"
OTHER_ACTION, OTHER_TARGET, OTHER_USER = "other_action", "other_target", "other_user"

_EXPIRED = "confirmation.expired"
_NOT_THIS = "confirmation.not_this"
CODES = {FORGED: _NOT_THIS, STALE: _EXPIRED, USED: _EXPIRED, OTHER_ACTION: _NOT_THIS,
         OTHER_TARGET: _NOT_THIS, OTHER_USER: _NOT_THIS}


class ConfirmationRefused(DomainError):
    """A confirmation token that cannot confirm this action; `reason` is one of FORGED,
    STALE, USED, OTHER_ACTION, OTHER_TARGET, OTHER_USER."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(CODES[reason], reason=reason)


def token_for(action: str, target_id: int) -> str:
    """A token that confirms `action` on `target_id` once, for the signed-in user, for
    MAX_AGE seconds. The nonce makes each page's token a token of its own, so using one
    leaves another page's unspent. The page that carries it is kept by no cache."""
    http_cache.not_kept()
    return tokens.make(PURPOSE, {"user": current_user.id, "action": action,
                                 "target": target_id, "nonce": secrets.token_urlsafe(12)})


def redeem(token: str, action: str, target_id: int) -> None:
    """Check `token` for `action` on `target_id` by the signed-in user, and mark it used
    in the caller's unit (nothing else is written); raises ConfirmationRefused."""
    try:
        payload = tokens.read(PURPOSE, token, MAX_AGE)
    except tokens.TokenExpired:
        raise ConfirmationRefused(STALE) from None
    except tokens.TokenInvalid:
        raise ConfirmationRefused(FORGED) from None
    except tokens.TokenUsed:
        raise ConfirmationRefused(USED) from None
    if not isinstance(payload, dict):
        raise ConfirmationRefused(FORGED)
    if payload.get("user") != current_user.id:
        raise ConfirmationRefused(OTHER_USER)
    if payload.get("action") != action:
        raise ConfirmationRefused(OTHER_ACTION)
    if payload.get("target") != target_id:
        raise ConfirmationRefused(OTHER_TARGET)
    try:
        # A savepoint: when the same token is posted twice at once, the later insert
        # fails on the digest alone, and the unit stays usable for the refusal's page.
        with db.session.begin_nested():
            db.session.add(UsedToken(digest=hashlib.sha256(token.encode()).hexdigest(),
                                     purpose=PURPOSE))
    except IntegrityError:
        raise ConfirmationRefused(USED) from None


def for_many(action: str, ids: Iterable[int]) -> str:
    """The action on a set of objects (a bulk rejection), as one action name: a token
    issued for one set does not confirm another."""
    listed = ",".join(str(i) for i in sorted(set(ids)))
    return f"{action}:{hashlib.sha256(listed.encode()).hexdigest()[:16]}"


# --------------------------------------------------------------------------- pages


def page(action: str, target_id: int, *, title: str, consequences: Sequence[str],
         action_url: str, confirm_label: str, cancel_url: str, subject: str = "",
         fields: Sequence[Any] = (), carried: Mapping[str, Any] | None = None,
         listed: Sequence[str] = (), links: Sequence[tuple[str, str]] = (),
         status: int = 200):
    """The confirmation page of `action` on `target_id`: `title` (a question), the
    `subject` it is about, its `consequences` (sentences), who or what it concerns
    (`listed`, when there are several), `links` (label, url) to what one may want
    first, the form that posts the token to `action_url` with
    `fields` for the person to fill (bound form fields: a reason; their `description`
    is their help) and `carried` values (name: value or list of values) in hidden
    inputs, and a way back to `cancel_url` that changes nothing."""
    hidden = [(name, value) for name, values in (carried or {}).items()
              for value in (values if isinstance(values, (list, tuple)) else [values])]
    return render_template(
        "confirm/page.html", title=title, subject=subject, consequences=consequences,
        action_url=action_url, token=token_for(action, target_id), token_field=FIELD,
        confirm_label=confirm_label, cancel_url=cancel_url, fields=fields, carried=hidden,
        listed=listed, links=links,
    ), status


def posted() -> bool:
    """Whether this request comes from a confirmation page (it carries a token), not
    from the form that asks for the action."""
    return FIELD in request.form


def require(action: str, target_id: int, *, start_again: str) -> None:
    """In a POST: redeem the posted token for `action` on `target_id`, or end the
    request with the 400 page (the unit rolled back) that links to `start_again`."""
    try:
        redeem(request.form.get(FIELD, ""), action, target_id)
    except ConfirmationRefused as refusal:
        unit.discard()
        abort(refused(refusal, start_again))


def refused(refusal: ConfirmationRefused, start_again: str):
    """The 400 answer to a token that cannot confirm: why, and where to start again."""
    return make_response(render_template(
        "confirm/refused.html", message=refusal.message, reason=refusal.reason,
        start_again=start_again), 400)
