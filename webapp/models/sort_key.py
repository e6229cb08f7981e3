"""Names in the order each language's readers sort them, stored for the lists paged in SQL.

ICU's collation key of a name (webapp/collation.py) is a byte string that compares, byte
by byte, as the language orders the names: Greek readers find "Άλφα" before "Alpha",
Danish ones "Ålborg" after "Zeta". SQLite's BLOB and PostgreSQL's bytea compare the same
way, so a list ordered by a name joins this table for the reader's language and pages in
SQL, through its index, instead of sorting every row in Python. One row per named row
and offered language, written with the row (webapp/collation.py keeps them).
"""

from __future__ import annotations

from sqlalchemy import Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class SortKey(db.Model):
    __tablename__ = "sort_keys"
    __table_args__ = (
        Index("ix_sort_keys_order", "subject_type", "language", "key", "subject_id"),
    )

    # What is named: "user", "organization", "partner".
    subject_type: Mapped[str] = mapped_column(String(20), primary_key=True)
    subject_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    language: Mapped[str] = mapped_column(String(10), primary_key=True)
    key: Mapped[bytes] = mapped_column(LargeBinary)
