"""Create dbcrypt_keys, the digests of the keys that encrypt secret values.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dbcrypt_keys",
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("test_ciphertext", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("digest", name="pk_dbcrypt_keys"),
    )


def downgrade() -> None:
    op.drop_table("dbcrypt_keys")
