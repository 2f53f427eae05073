"""Encryption of secret values at rest with rotatable keys."""
