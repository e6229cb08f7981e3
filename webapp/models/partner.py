"""Partners: the cluster-level organizations the platform works with."""

from __future__ import annotations

import enum

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import str_enum


class PartnerKind(enum.StrEnum):
    CLUSTER = "cluster"
    BEACHHEAD = "beachhead"
    NETWORK = "network"


class Partner(db.Model):
    __tablename__ = "partners"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    short_name: Mapped[str] = mapped_column(String(60))
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    kind: Mapped[PartnerKind] = mapped_column(str_enum(PartnerKind, "partner_kind"))
    # The ten European clusters are members; fellow partnerships' clusters are not,
    # yet their involvement counts in the partnership's reports.
    is_member: Mapped[bool] = mapped_column(default=False)
    country: Mapped[str] = mapped_column(String(2))
    region: Mapped[str] = mapped_column(String(120), default="")
    city: Mapped[str] = mapped_column(String(120), default="")
    website: Mapped[str] = mapped_column(String(300), default="")
    description: Mapped[str] = mapped_column(Text, default="")

    def __repr__(self) -> str:
        return f"<Partner {self.short_name}>"
