"""Add user_secrets.value_key_id, the digest of the key that encrypted the value.

NULL means the stored value is plaintext, as every row written before encryption at
rest is; key rotation encrypts such rows.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("user_secrets") as batch:
        batch.add_column(sa.Column("value_key_id", sa.String(64), nullable=True))


def downgrade() -> None:
    # NOTE: encrypted rows keep their ciphertext in `value`, and without this column
    # nothing marks them as encrypted any more. Downgrade only a database whose
    # values were never encrypted.
    with op.batch_alter_table("user_secrets") as batch:
        batch.drop_column("value_key_id")
