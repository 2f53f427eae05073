from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, UTCDateTime, utcnow

# Index names are part of the API: a violation of each one is reported on its field.
UNIQUE_INDEX_FIELDS = {
    "uq_user_secrets_user_id_name": "name",
    "uq_user_secrets_user_id_env_name": "env_name",
    "uq_user_secrets_user_id_file_path": "file_path",
}


class UserSecret(Base):
    __tablename__ = "user_secrets"
    __table_args__ = (
        Index("uq_user_secrets_user_id_name", "user_id", "name", unique=True),
        # An empty env_name or file_path means "not injected that way", so only
        # non-empty ones must be unique per user.
        Index(
            "uq_user_secrets_user_id_env_name",
            "user_id",
            "env_name",
            unique=True,
            sqlite_where=text("env_name != ''"),
            postgresql_where=text("env_name != ''"),
        ),
        Index(
            "uq_user_secrets_user_id_file_path",
            "user_id",
            "file_path",
            unique=True,
            sqlite_where=text("file_path != ''"),
            postgresql_where=text("file_path != ''"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(String(1000), default="")
    # Ciphertext in the stored format of app.crypto, or plaintext when value_key_id is NULL.
    value: Mapped[str] = mapped_column(Text)
    value_key_id: Mapped[str | None] = mapped_column(String(64), default=None)
    env_name: Mapped[str] = mapped_column(String(256), default="", server_default="")
    file_path: Mapped[str] = mapped_column(String(4096), default="", server_default="")
    # Incremented on every change; exposed as the ETag for optimistic concurrency.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        # The value and its key id stay out of reprs, which end up in logs and tracebacks.
        return f"<UserSecret id={self.id} user_id={self.user_id} name={self.name!r}>"
