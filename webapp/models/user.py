"""Users and the roles granted to them."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .organization import Organization
from .partner import Partner
from .search import KEY_LENGTH, Searchable, search_index
from .types import UTCDateTime, str_enum, utcnow


class AlertFrequency(enum.StrEnum):
    """How a partner manager hears of new applications to decide."""

    IMMEDIATE = "immediate"
    DAILY = "daily"


class Role(enum.StrEnum):
    ADMIN = "admin"
    PARTNER_MANAGER = "partner_manager"
    BEACHHEAD_HOST = "beachhead_host"


def normalize_email(email: str) -> str:
    return email.strip().lower()


class User(Searchable, UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        # Emails are stored lower-cased, so the unique constraint is case-insensitive.
        CheckConstraint("email = lower(email)", name="email_lowercase"),
        search_index("users"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(200))
    # The name folded for search (models/search.py), kept current on every write.
    search_key: Mapped[str] = mapped_column(String(KEY_LENGTH), default="")
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="SET NULL"), index=True
    )
    phone: Mapped[str] = mapped_column(String(40), default="")
    # None: as the person's browser says. static/js/timezone.js reports it on the first
    # page after sign-in and it is stored then; until then times are shown in UTC.
    timezone: Mapped[str | None] = mapped_column(String(64))
    # The language the person chose (None: as their browser says, webapp/languages.py),
    # and the one their browser last asked for when they signed up or in: what their mail
    # is written in while they have chosen none.
    locale: Mapped[str | None] = mapped_column(String(10))
    browser_locale: Mapped[str | None] = mapped_column(String(10))
    active: Mapped[bool] = mapped_column(default=True)
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Bumped when the password changes: sessions carrying an older version end.
    session_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The privacy notice the user accepted at sign-up: its version and when.
    privacy_version: Mapped[str] = mapped_column(String(20), default="")
    privacy_accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The personal calendar feed's link is signed with this; a reset bumps it (old link 404).
    calendar_feed_version: Mapped[int] = mapped_column(default=1)
    application_alerts: Mapped[AlertFrequency] = mapped_column(
        str_enum(AlertFrequency, "alert_frequency"), default=AlertFrequency.IMMEDIATE
    )
    # The newest application the last daily digest covered.
    digest_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the manager last opened the desk: applications since then are "new" to them.
    desk_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when the account was deleted: the row stays, anonymized, for the statistics.
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organization: Mapped[Organization | None] = relationship()
    grants: Mapped[list[RoleGrant]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return self.active and self.erased_at is None

    @property
    def is_verified(self) -> bool:
        return self.email_verified_at is not None

    def search_text(self):
        return (self.name,)

    def get_id(self) -> str:
        # The session version travels in the session, so a password change logs out elsewhere.
        return f"{self.id}:{self.session_version}"

    def __repr__(self) -> str:
        return f"<User {self.email}>"


class RoleGrant(db.Model):
    __tablename__ = "role_grants"
    __table_args__ = (
        UniqueConstraint("user_id", "role", "partner_id"),
        # An admin grant is global; the other roles are held for one partner.
        CheckConstraint(
            "(role = 'admin' AND partner_id IS NULL) "
            "OR (role <> 'admin' AND partner_id IS NOT NULL)",
            name="partner_matches_role",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(str_enum(Role, "role"))
    partner_id: Mapped[int | None] = mapped_column(
        ForeignKey("partners.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(back_populates="grants")
    partner: Mapped[Partner | None] = relationship(lazy="joined")
