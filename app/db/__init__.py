"""Database engine, session and the declarative base shared by every domain's models."""
