"""Accounts: creating users, checking passwords, granting roles."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..models import Organization, Partner, Role, RoleGrant, User, normalize_email, utcnow
from .errors import DomainError

MIN_PASSWORD_LENGTH = 10


class EmailTaken(DomainError):
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


def authenticate(email: str, password: str) -> User | None:
    user = db.session.scalar(select(User).where(User.email == normalize_email(email)))
    if user is None or not user.password_hash or not user.active:
        _burn_time(password)
        return None
    if not check_password_hash(user.password_hash, password):
        return None
    user.last_login_at = utcnow()
    db.session.commit()
    return user


def validate_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise DomainError(f"The password needs at least {MIN_PASSWORD_LENGTH} characters.")


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
        raise EmailTaken("An account with this email already exists.")
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


def set_password(user: User, password: str) -> None:
    """A new password ends every other session of the user (their session version moves)."""
    validate_password(password)
    user.password_hash = hash_password(password)
    user.session_version += 1


def create_admin(email: str, name: str, password: str) -> User:
    """`flask create-admin`: a new admin, or an admin grant for an existing account."""
    validate_password(password)
    user = db.session.scalar(select(User).where(User.email == normalize_email(email)))
    if user is None:
        user = create_user(email, name, password)
    else:
        set_password(user, password)
    grant(user, Role.ADMIN)
    db.session.commit()
    return user
