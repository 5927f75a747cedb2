"""Alembic migrations of the store (script_location = "incidentdb:migrations")."""
