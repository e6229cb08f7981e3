"""Organizations: SMEs and the other stakeholders of the triple helix."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .partner import Partner
from .search import KEY_LENGTH, Searchable, search_index
from .types import UTCDateTime, str_enum, utcnow

if TYPE_CHECKING:
    from .user import User


class OrganizationSize(enum.StrEnum):
    MICRO = "micro"
    SMALL = "small"
    MEDIUM = "medium"
    LARGE = "large"


class Helix(enum.StrEnum):
    INDUSTRY = "industry"
    RESEARCH = "research"
    GOVERNMENT = "government"


class Organization(Searchable, db.Model):
    __tablename__ = "organizations"
    __table_args__ = (search_index("organizations"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    # The name folded for search (models/search.py), kept current on every write.
    search_key: Mapped[str] = mapped_column(String(KEY_LENGTH), default="")
    country: Mapped[str] = mapped_column(String(2))
    city: Mapped[str] = mapped_column(String(120), default="")
    sector: Mapped[str] = mapped_column(String(120), default="")
    # None until someone says: a quick webinar registration asks only for the name and
    # the country.
    size: Mapped[OrganizationSize | None] = mapped_column(
        str_enum(OrganizationSize, "organization_size")
    )
    helix: Mapped[Helix] = mapped_column(str_enum(Helix, "helix"), default=Helix.INDUSTRY)
    website: Mapped[str] = mapped_column(String(300), default="")
    profile: Mapped[str] = mapped_column(Text, default="")
    home_cluster_id: Mapped[int | None] = mapped_column(
        ForeignKey("partners.id", ondelete="SET NULL"), index=True
    )
    # The file name of the re-encoded logo under the upload folder, or "".
    logo_filename: Mapped[str] = mapped_column(String(80), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # New organizations are usable at once; their home cluster's managers review them
    # (correct or merge) and the review clears them from the inbox.
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    home_cluster: Mapped[Partner | None] = relationship()

    @property
    def is_sme(self) -> bool:
        return self.helix == Helix.INDUSTRY and self.size not in (None, OrganizationSize.LARGE)

    def search_text(self):
        return (self.name,)

    def __repr__(self) -> str:
        return f"<Organization {self.name}>"


class MembershipStatus(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REFUSED = "refused"


class MembershipRequest(db.Model):
    """A user asks to join an existing organization; a member of it, or a manager of its
    home cluster, confirms, so nobody attaches themselves to a company unasked."""

    __tablename__ = "membership_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[MembershipStatus] = mapped_column(
        str_enum(MembershipStatus, "membership_status"), default=MembershipStatus.PENDING,
        index=True,
    )
    message: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    organization: Mapped[Organization] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
