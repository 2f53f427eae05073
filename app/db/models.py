"""Imports every model so that Base.metadata describes the whole schema."""

from app.audit.models import AuditLog
from app.auth.models import ApiKey
from app.crypto.models import DbcryptKey
from app.db.base import Base
from app.orgs.models import Organization, OrganizationMember
from app.secrets.models import UserSecret
from app.users.models import SiteRoleAssignment, User

__all__ = [
    "ApiKey",
    "AuditLog",
    "Base",
    "DbcryptKey",
    "Organization",
    "OrganizationMember",
    "SiteRoleAssignment",
    "User",
    "UserSecret",
]
