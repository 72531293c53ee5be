"""Persistent stores (audit, historian, alarms, users). No Qt.

Audit and users (docs/audit.md): ``audit.AuditStore`` (the hash chain on SQLite or
PostgreSQL), ``spool.SpoolStore`` (a station's spool), ``trail.AuditTrail`` (async front with
store-and-forward), ``users.UserStore``, ``export`` (CSV/JSON), ``admin`` (what the CLI runs),
``db`` (engines and Alembic migrations in ``migrations/``).
"""
