from __future__ import annotations

import datetime as dt

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, UTCDateTime, utcnow


class DbcryptKey(Base):
    """A known encryption key, by digest. The key itself is never stored."""

    __tablename__ = "dbcrypt_keys"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    activated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    # A known plaintext encrypted with this key; decrypting it proves that a configured
    # key is the key this digest names.
    test_ciphertext: Mapped[str] = mapped_column(Text)

    def __repr__(self) -> str:
        return f"<DbcryptKey digest={self.digest} revoked_at={self.revoked_at}>"
