"""Organizations: SMEs and the other stakeholders of the triple helix."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .partner import Partner
from .types import UTCDateTime, str_enum, utcnow


class OrganizationSize(enum.StrEnum):
    MICRO = "micro"
    SMALL = "small"
    MEDIUM = "medium"
    LARGE = "large"


class Helix(enum.StrEnum):
    INDUSTRY = "industry"
    RESEARCH = "research"
    GOVERNMENT = "government"


class Organization(db.Model):
    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    country: Mapped[str] = mapped_column(String(2))
    city: Mapped[str] = mapped_column(String(120), default="")
    sector: Mapped[str] = mapped_column(String(120), default="")
    size: Mapped[OrganizationSize] = mapped_column(
        str_enum(OrganizationSize, "organization_size")
    )
    helix: Mapped[Helix] = mapped_column(str_enum(Helix, "helix"), default=Helix.INDUSTRY)
    website: Mapped[str] = mapped_column(String(300), default="")
    profile: Mapped[str] = mapped_column(Text, default="")
    home_cluster_id: Mapped[int | None] = mapped_column(
        ForeignKey("partners.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    home_cluster: Mapped[Partner | None] = relationship()

    @property
    def is_sme(self) -> bool:
        return self.helix == Helix.INDUSTRY and self.size != OrganizationSize.LARGE

    def __repr__(self) -> str:
        return f"<Organization {self.name}>"
