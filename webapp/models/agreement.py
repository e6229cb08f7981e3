"""Agreements: the partnership and collaboration agreements that missions lead to."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .event import Event
from .organization import Organization
from .partner import Partner
from .types import UTCDateTime, str_enum, utcnow


class AgreementKind(enum.StrEnum):
    # Between the partnership (one of its members) and a fellow cluster, partnership
    # or beachhead organization.
    PARTNERSHIP = "partnership"
    # Between an EU organization and an organization of a target region.
    COLLABORATION = "collaboration"


class AgreementType(enum.StrEnum):
    MEMORANDUM = "memorandum_of_understanding"
    BUSINESS_PARTNERSHIP = "business_partnership"
    RESEARCH_COLLABORATION = "research_collaboration"
    JOINT_PROJECT_PROPOSAL = "joint_project_proposal"
    OTHER = "other"


class AgreementStatus(enum.StrEnum):
    IN_NEGOTIATION = "in_negotiation"
    SIGNED = "signed"
    ENDED = "ended"

    @property
    def was_signed(self) -> bool:
        return self in (AgreementStatus.SIGNED, AgreementStatus.ENDED)


class Agreement(db.Model):
    __tablename__ = "agreements"
    __table_args__ = (
        CheckConstraint("ended_on IS NULL OR started_on IS NULL OR ended_on >= started_on",
                        name="ends_after_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[AgreementKind] = mapped_column(str_enum(AgreementKind, "agreement_kind"),
                                                index=True)
    type: Mapped[AgreementType] = mapped_column(str_enum(AgreementType, "agreement_type"))
    status: Mapped[AgreementStatus] = mapped_column(
        str_enum(AgreementStatus, "agreement_status"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    # Short and public: the partnership's reports quote it.
    description: Mapped[str] = mapped_column(Text, default="")
    started_on: Mapped[date | None] = mapped_column(Date)
    signed_on: Mapped[date | None] = mapped_column(Date, index=True)
    ended_on: Mapped[date | None] = mapped_column(Date)
    origin_event_id: Mapped[int | None] = mapped_column(
        ForeignKey("events.id", ondelete="SET NULL"), index=True)
    # The member cluster that records and follows it up: its managers edit it.
    responsible_partner_id: Mapped[int] = mapped_column(
        ForeignKey("partners.id", ondelete="RESTRICT"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    origin_event: Mapped[Event | None] = relationship()
    responsible_partner: Mapped[Partner] = relationship()
    parties: Mapped[list[AgreementParty]] = relationship(
        back_populates="agreement", cascade="all, delete-orphan",
        order_by="AgreementParty.position")

    def __repr__(self) -> str:
        return f"<Agreement {self.title}>"


class AgreementParty(db.Model):
    """One side of an agreement: a partner or an organization (which needs no accounts,
    so a target region's company or city is recorded as it is)."""

    __tablename__ = "agreement_parties"
    __table_args__ = (
        CheckConstraint("(partner_id IS NULL) <> (organization_id IS NULL)",
                        name="partner_or_organization"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(
        ForeignKey("agreements.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    partner_id: Mapped[int | None] = mapped_column(
        ForeignKey("partners.id", ondelete="RESTRICT"), index=True)
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="RESTRICT"), index=True)

    agreement: Mapped[Agreement] = relationship(back_populates="parties")
    partner: Mapped[Partner | None] = relationship()
    organization: Mapped[Organization | None] = relationship()

    @property
    def name(self) -> str:
        return self.partner.name if self.partner else self.organization.name

    @property
    def country(self) -> str:
        return self.partner.country if self.partner else self.organization.country
