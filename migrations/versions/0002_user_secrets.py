"""Create user_secrets with per-user unique name, env_name and file_path.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "user_secrets",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("description", sa.String(1000), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("env_name", sa.String(256), nullable=False, server_default=""),
        sa.Column("file_path", sa.String(4096), nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_user_secrets_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_user_secrets"),
    )
    op.create_index(
        "uq_user_secrets_user_id_name", "user_secrets", ["user_id", "name"], unique=True
    )
    # Empty env_name and file_path mean "not injected that way" and may repeat.
    op.create_index(
        "uq_user_secrets_user_id_env_name",
        "user_secrets",
        ["user_id", "env_name"],
        unique=True,
        sqlite_where=sa.text("env_name != ''"),
        postgresql_where=sa.text("env_name != ''"),
    )
    op.create_index(
        "uq_user_secrets_user_id_file_path",
        "user_secrets",
        ["user_id", "file_path"],
        unique=True,
        sqlite_where=sa.text("file_path != ''"),
        postgresql_where=sa.text("file_path != ''"),
    )


def downgrade() -> None:
    op.drop_index("uq_user_secrets_user_id_file_path", table_name="user_secrets")
    op.drop_index("uq_user_secrets_user_id_env_name", table_name="user_secrets")
    op.drop_index("uq_user_secrets_user_id_name", table_name="user_secrets")
    op.drop_table("user_secrets")
