"""Accounts: signing up, confirming the email address, passwords, roles.

Whatever reveals whether an address has an account (sign-up, password reset, changing
the email to a taken address) answers the same either way; the difference only reaches
the mailbox of the address's owner.

Hashing is slow, so it never runs while the write lock is held: the caller checks a
password (`check_sign_in`, `verify`) and hashes a new one in the unit's read step
(`hash_password` once its input model judged it, `new_password_hash` for a password from
a program), then writes in its write step, which re-reads the account and acts only
while its password is still the one that was checked (`Verified`). A sign-in racing a
password reset therefore either completes first (and the reset ends its session) or is
refused as a wrong password.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, update
from werkzeug.security import check_password_hash, generate_password_hash

from .. import languages
from ..extensions import db
from ..inputs.accounts import MIN_PASSWORD_LENGTH, ProfileIn, SignupIn, weak_password
from ..models import (
    AlertFrequency,
    Organization,
    Partner,
    PartnerKind,
    Role,
    RoleGrant,
    User,
    normalize_email,
    utcnow,
)
from . import audit, notifications, organizations, registration_mail, tokens
from .errors import DomainError
from .fields import Refused

# Purposes of the signed links (a token made for one never passes for another).
VERIFY_EMAIL = "verify-email"
RESET_PASSWORD = "reset-password"  # noqa: S105 - a purpose name, not a password
CHANGE_EMAIL = "change-email"


class EmailTaken(DomainError):
    pass


class WeakPassword(DomainError):
    pass


class WrongPassword(DomainError):
    pass


class AlreadyVerified(DomainError):
    pass


class SameEmail(DomainError):
    pass


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


_dummy_hash: str | None = None


def _burn_time(password: str) -> None:
    """Check against a throwaway hash so unknown emails take as long as known ones."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = hash_password("not-a-real-password")
    check_password_hash(_dummy_hash, password)


@dataclass(frozen=True)
class Verified:
    """An account whose password was checked in the read step; the write step acts only
    while the account's password is still `password_hash`."""

    user_id: int
    password_hash: str


def verify(user: User, password: str) -> Verified | None:
    """Whether `password` is the account's password (slow: run it in a read step)."""
    if not _password_matches(user, password):
        return None
    return Verified(user.id, user.password_hash)


def check_current_password(user: User, password: str) -> Verified:
    """Before a change of password: the current one (slow: in a read step)."""
    verified = verify(user, password)
    if verified is None:
        raise WrongPassword("password.current_wrong")
    return verified


def check_password(user: User, password: str) -> Verified:
    """Before a change of email address: the password (slow: in a read step)."""
    verified = verify(user, password)
    if verified is None:
        raise WrongPassword("password.wrong")
    return verified


def check_sign_in(email: str, password: str) -> Verified | None:
    """The active account with this email and password, checked but not signed in (slow:
    run it in a read step; `sign_in` is the write)."""
    user = find_by_email(email)
    if user is None or not user.password_hash or not user.is_active:
        _burn_time(password)
        return None
    return verify(user, password)


def authenticate(email: str, password: str) -> User | None:
    """The active account with this email and password, or None; writes nothing."""
    verified = check_sign_in(email, password)
    return db.session.get(User, verified.user_id) if verified is not None else None


def _locked_account(user_id: int) -> User | None:
    """The account read afresh in the write step (PostgreSQL: its row locked until the
    commit, so a concurrent password change waits)."""
    return db.session.scalar(
        select(User).where(User.id == user_id).with_for_update()
        .execution_options(populate_existing=True))


def still_verified(verified: Verified) -> User:
    """The account re-read in the write step; WrongPassword when its password changed
    (another device, a reset) or it was closed since the password was checked."""
    user = _locked_account(verified.user_id)
    if user is None or not user.is_active or user.password_hash != verified.password_hash:
        raise WrongPassword("password.not_right")
    return user


def sign_in(verified: Verified) -> User | None:
    """Record the sign-in of a checked account; None (a wrong password) when a password
    reset or change committed since the check: the old password no longer signs in."""
    try:
        user = still_verified(verified)
    except WrongPassword:
        return None
    user.last_login_at = utcnow()
    user.browser_locale = languages.of_browser() or user.browser_locale
    return user


def validate_password(password: str) -> None:
    """The rule of a new password (webapp/inputs/accounts.py), for a password that comes
    from a program rather than a form (the CLI, the demo, tests)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword("password.too_short", min_length=MIN_PASSWORD_LENGTH)
    if weak_password(password):
        raise WeakPassword("password.common")


def find_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalize_email(email)))


def _password_matches(user: User, password: str) -> bool:
    return bool(user.password_hash) and check_password_hash(user.password_hash, password)


def create_user(
    email: str,
    name: str,
    password: str | None,
    *,
    organization: Organization | None = None,
    verified: bool = True,
) -> User:
    email = normalize_email(email)
    if db.session.scalar(select(User.id).where(User.email == email)) is not None:
        raise EmailTaken("account.email_taken")
    user = User(
        email=email,
        name=name,
        organization=organization,
        password_hash=hash_password(password) if password else None,
        email_verified_at=utcnow() if verified else None,
    )
    db.session.add(user)
    return user


def grant(user: User, role: Role, partner: Partner | None = None) -> RoleGrant:
    for existing in user.grants:
        if existing.role == role and existing.partner_id == (partner.id if partner else None):
            return existing
    role_grant = RoleGrant(role=role, partner=partner)
    user.grants.append(role_grant)
    return role_grant


def new_password_hash(password: str) -> str:
    """A new password from a program (the CLI, the demo, tests), validated by the rule
    of `inputs.accounts.NewPassword` and hashed (slow: run it in a read step)."""
    validate_password(password)
    return hash_password(password)


def _store_password(user: User, password_hash: str) -> None:
    """A new password ends every other session of the user (their session version moves)."""
    user.password_hash = password_hash
    user.session_version += 1


def set_password(user: User, password: str) -> None:
    """Validate, hash and store a new password (the CLI, the demo, tests)."""
    _store_password(user, new_password_hash(password))


def create_admin(email: str, name: str, password: str) -> User:
    """`flask create-admin`: a new admin, or an admin grant for an existing account."""
    # Hashed before the first read, so the command's write step does not wait on it.
    password_hash = new_password_hash(password)
    user = find_by_email(email)
    if user is None:
        user = create_user(email, name, None)
        user.password_hash = password_hash
    else:
        _store_password(user, password_hash)
    grant(user, Role.ADMIN)
    return user


def update_profile(user: User, profile: ProfileIn) -> dict:
    """A person's own profile; returns what changed (audited; nothing written when nothing
    did). Switching to the daily digest starts it from now."""
    changes = audit.diff(user, profile.values())
    if changes.get("application_alerts", [None, None])[1] == AlertFrequency.DAILY:
        registration_mail.start_digests(user)
    if changes:
        audit.record(user, "account.updated", user, changes=changes)
    return changes


def choose_language(user: User, language: str) -> bool:
    """The language switcher, signed in: `language` is the person's own choice from now on,
    in every browser and in their mail (audited). True when it changed."""
    changes = audit.diff(user, {"locale": language})
    if changes:
        audit.record(user, "account.updated", user, changes=changes)
    return bool(changes)


def adopt_browser_zone(user: User, zone: str) -> bool:
    """Stores the zone `user`'s browser reported, only while their account has none: a
    zone set meanwhile (chosen on the profile, reported from another tab) is kept. The
    check and the write are one conditional UPDATE, so no request can slip between
    them. True when stored (audited)."""
    stored = db.session.execute(
        update(User).where(User.id == user.id, User.timezone.is_(None)).values(timezone=zone)
    ).rowcount == 1
    if stored:
        audit.record(user, "account.zone_detected", user, changes={"timezone": [None, zone]})
    return stored


# --------------------------------------------------------------------------- sign-up


def _chosen_organization(signup: SignupIn) -> Organization | None:
    """The organization a sign-up asks to join, or None when it registers a new one; its
    new organization's home cluster must be one of the partnership's clusters."""
    if signup.joins:
        return organizations.to_join(signup.join_organization)
    if signup.home_cluster is not None:
        cluster = db.session.get(Partner, signup.home_cluster)
        if cluster is None or cluster.kind != PartnerKind.CLUSTER or not cluster.is_member:
            raise Refused("field.cluster_unknown", "home_cluster")
    return None


def sign_up(signup: SignupIn, password_hash: str, *, privacy_version: str) -> User | None:
    """A new, unverified account that accepted privacy notice `privacy_version`, with
    either a new organization or a request to join one (`signup`); its password comes
    hashed (`hash_password`, in the read step).

    When the address already has an account nothing is created: its owner is told that
    someone tried, and None is returned, so the caller can answer exactly as for a new
    account (the password was hashed either way, so both answers take the same time). The
    mail goes with the unit's commit.
    """
    join = _chosen_organization(signup)
    email = signup.email
    existing = find_by_email(email)
    if existing is not None:
        notifications.queue(existing, lambda: _("Someone tried to sign up with your address"),
                            "auth_signup_exists")
        return None
    user = User(
        email=normalize_email(email),
        name=signup.name,
        password_hash=password_hash,
        timezone=signup.timezone,
        browser_locale=languages.of_browser(),
        privacy_version=privacy_version,
        privacy_accepted_at=utcnow(),
    )
    db.session.add(user)
    audit.record(user, "user.signed_up", user,
                 changes={"privacy_version": [None, privacy_version]})
    if join is None:
        user.organization = organizations.create(user, **signup.new_organization())
    else:
        # The account stays without an organization until the request is accepted.
        organizations.request_membership(user, join)
    _queue_verification(user)
    return user


def _queue_verification(user: User) -> None:
    token = tokens.make(VERIFY_EMAIL, {"user": user.id, "email": user.email})
    notifications.queue(user, lambda: _("Confirm your email address"), "auth_verify", token=token)


def resend_verification(user: User) -> None:
    """A fresh link for an unverified account (the caller throttles)."""
    if user.is_verified:
        raise AlreadyVerified("account.already_verified")
    _queue_verification(user)


def _account_for(payload: Any, *, lock: bool = False) -> User | None:
    """The active account a link is for; `lock` in the write step of the link's use."""
    if not isinstance(payload, dict) or not isinstance(payload.get("user"), int):
        return None
    user = _locked_account(payload["user"]) if lock else db.session.get(User, payload["user"])
    return user if user is not None and user.is_active else None


def _check_verification(payload: Any) -> User:
    user = _account_for(payload)
    # A link for an address the account no longer has proves nothing about the current one.
    if user is None or payload.get("email") != user.email:
        raise tokens.TokenInvalid("link.no_account")
    return user


def verification_account(token: str) -> User:
    """The account a verification link is for, without using it up (for its page)."""
    return _check_verification(
        tokens.read(VERIFY_EMAIL, token, current_app.config["VERIFY_EMAIL_MAX_AGE"]))


def verify_email(token: str) -> User:
    """Use a verification link: the account's address is confirmed."""
    user = _check_verification(
        tokens.consume(VERIFY_EMAIL, token, current_app.config["VERIFY_EMAIL_MAX_AGE"]))
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
        audit.record(user, "user.email_verified", user)
    return user


# --------------------------------------------------------------------------- passwords


def request_password_reset(email: str) -> None:
    """Mail a reset link if an active account has `email`; say nothing either way."""
    user = find_by_email(email)
    if user is None or not user.is_active:
        return
    # The session version in the link kills it as soon as the password changes, by this
    # link or any other way.
    token = tokens.make(RESET_PASSWORD, {"user": user.id, "version": user.session_version})
    notifications.queue(user, lambda: _("Reset your password"), "auth_reset", token=token)


def _check_reset(payload: Any, *, lock: bool = False) -> User:
    user = _account_for(payload, lock=lock)
    if user is None or payload.get("version") != user.session_version:
        raise tokens.TokenInvalid("link.password_changed")
    return user


def reset_account(token: str) -> User:
    """The account a reset link is for, without using it up (for its form)."""
    return _check_reset(
        tokens.read(RESET_PASSWORD, token, current_app.config["RESET_PASSWORD_MAX_AGE"]))


def reset_password(token: str, password_hash: str) -> User:
    """Use a reset link to set a new password (hashed by `hash_password`, in the read
    step); every session of the account ends, one that signed in meanwhile too."""
    user = _check_reset(
        tokens.consume(RESET_PASSWORD, token, current_app.config["RESET_PASSWORD_MAX_AGE"]),
        lock=True)
    _store_password(user, password_hash)
    audit.record(user, "user.password_reset", user)
    return user


class PasswordAlreadySet(DomainError):
    pass


def set_first_password(user_id: int, password_hash: str) -> User:
    """The first password of an account made without one (a quick registration), hashed
    in the read step; the signed-in session proves the account, as the emailed link did.
    The caller signs the current session in again."""
    user = _locked_account(user_id)
    if user is None or user.password_hash:
        raise PasswordAlreadySet("password.already_set")
    _store_password(user, password_hash)
    audit.record(user, "user.password_set", user)
    return user


def change_password(verified: Verified, password_hash: str) -> User:
    """The signed-in user's new password (checked and hashed in the read step); their
    other sessions end. A password changed since the check refuses it as wrong. The caller
    signs the current session in again."""
    try:
        user = still_verified(verified)
    except WrongPassword:
        raise WrongPassword("password.current_wrong") from None
    _store_password(user, password_hash)
    audit.record(user, "user.password_changed", user)
    return user


# --------------------------------------------------------------------------- email address


def request_email_change(verified: Verified, new_email: str) -> None:
    """Mail a confirmation link to `new_email`; the address changes only when it is used.
    The password was checked in the read step (`verify`). A taken address gets a notice
    instead, and the caller answers the same."""
    try:
        user = still_verified(verified)
    except WrongPassword:
        raise WrongPassword("password.wrong") from None
    new_email = normalize_email(new_email)
    if new_email == user.email:
        raise SameEmail("account.same_email")
    if find_by_email(new_email) is not None:
        notifications.queue(new_email, lambda: _("Someone tried to use your address"),
                            "auth_email_taken")
        return
    token = tokens.make(CHANGE_EMAIL, {"user": user.id, "email": new_email,
                                       "version": user.session_version})
    message = notifications.queue(new_email, lambda: _("Confirm your new email address"),
                                  "auth_change_email", token=token, account=user)
    message.user = user  # written for this account, so export and erasure find it


def _check_email_change(payload: Any, *, lock: bool = False) -> tuple[User, str]:
    user = _account_for(payload, lock=lock)
    if user is None or payload.get("version") != user.session_version:
        raise tokens.TokenInvalid("link.password_changed")
    new_email = payload.get("email")
    if not isinstance(new_email, str) or find_by_email(new_email) is not None:
        raise EmailTaken("account.email_now_taken")
    return user, new_email


def email_change_for(token: str) -> tuple[User, str]:
    """The account and new address of a confirmation link, without using it up."""
    return _check_email_change(
        tokens.read(CHANGE_EMAIL, token, current_app.config["VERIFY_EMAIL_MAX_AGE"]))


def confirm_email_change(token: str) -> User:
    """Use a confirmation link: the account takes the new (thereby verified) address and
    the old one is told."""
    user, new_email = _check_email_change(
        tokens.consume(CHANGE_EMAIL, token, current_app.config["VERIFY_EMAIL_MAX_AGE"]),
        lock=True)
    old_email = user.email
    user.email = new_email
    user.email_verified_at = utcnow()
    audit.record(user, "user.email_changed", user, changes={"email": [old_email, new_email]})
    notice = notifications.queue(old_email, lambda: _("Your email address was changed"),
                                 "auth_email_changed", account=user, new_email=new_email)
    notice.user = user
    return user
