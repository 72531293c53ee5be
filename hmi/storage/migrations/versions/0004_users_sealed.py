"""Users: every row sealed by the audit record that made it (``sealed_by``, checked at sign-in),
an index to find a user's newest sealing record, and on PostgreSQL the one audited write path
(``SECURITY DEFINER`` functions owned by the schema owner): the station role gets EXECUTE on
them and no INSERT or UPDATE on ``users`` (``hmi.storage.admin.grant_statements``).

Existing rows are marked ``pending upgrade`` here (a migration has no audit key); the first
user store to open the database afterwards seals them as they are, with the key
(``UserStore.seal_pending``), and no row marked so later is ever sealed.

Revision ID: 0004_users
Revises: 0001
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_users"
down_revision = "0001"
branch_labels = ("users",)
depends_on = None

# the action a record must have for each change it seals; the record's new_value must name
# the row's new name and role where it describes them (user_add, user_change)
_PG_USER_WRITE = """\
CREATE FUNCTION hmi_user_write(p_user jsonb, p_record jsonb, p_scheme text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    head audit_head%ROWTYPE;
    old users%ROWTYPE;
    new users%ROWTYPE := jsonb_populate_record(NULL::users, p_user);
    rec audit%ROWTYPE := jsonb_populate_record(NULL::audit, p_record);
    act text := rec.action;
    stored bigint;
    why text := NULL;
BEGIN
    SELECT * INTO head FROM audit_head WHERE chain = 'audit' FOR UPDATE;
    SELECT coalesce(max(sequence), 0) INTO stored FROM audit;
    IF rec.sequence IS DISTINCT FROM greatest(head.last_sequence, stored) + 1
       OR rec.prev_hash IS DISTINCT FROM head.last_hash THEN
        why := 'its record is not chained at the audit chain head';
    ELSIF rec.target_address IS DISTINCT FROM 'user:' || new.user_id
          OR new.sealed_by IS DISTINCT FROM rec.uuid OR rec.result <> 'done'
          OR rec.read_back NOT LIKE '["str","users row sha256:%' THEN
        why := 'its record does not seal this user row';
    END IF;
    SELECT * INTO old FROM users WHERE user_id = new.user_id FOR UPDATE;
    IF why IS NULL AND NOT FOUND THEN
        IF act <> 'user_add' OR new.disabled OR new.locked_until_us IS NOT NULL THEN
            why := 'a new user is added by a user_add record, enabled and not locked';
        END IF;
        new.failed_attempts := 0;
    ELSIF why IS NULL THEN
        IF act = 'user_add' THEN
            why := 'the user exists already';
        ELSIF act = 'user_seal' AND old.sealed_by <> 'pending upgrade' THEN
            why := 'only a row from before seals is sealed as it is';
        ELSIF new.created_us <> old.created_us THEN
            why := 'created_us never changes';
        ELSIF (new.full_name, new.role) IS DISTINCT FROM (old.full_name, old.role)
              AND act <> 'user_change' THEN
            why := 'name and role change only with a user_change record';
        ELSIF (new.password_hash, new.password_changed_us, new.must_change_password)
              IS DISTINCT FROM (old.password_hash, old.password_changed_us,
                                old.must_change_password)
              AND act <> 'password_change' THEN
            why := 'the password changes only with a password_change record';
        ELSIF new.disabled AND NOT old.disabled AND act <> 'user_disable' THEN
            why := 'a user is disabled only with a user_disable record';
        ELSIF old.disabled AND NOT new.disabled AND act <> 'user_enable' THEN
            why := 'a user is enabled only with a user_enable record';
        ELSIF new.locked_until_us IS DISTINCT FROM old.locked_until_us AND NOT (
                (act = 'lockout' AND new.locked_until_us > coalesce(old.locked_until_us, 0))
                OR (act IN ('user_unlock', 'user_enable', 'password_change')
                    AND new.locked_until_us IS NULL)) THEN
            why := 'a lock is set only by a lockout record and lifted only by an unlock';
        END IF;
        new.failed_attempts := CASE
            WHEN act IN ('lockout', 'user_unlock', 'user_enable', 'password_change') THEN 0
            ELSE old.failed_attempts END;
    END IF;
    IF why IS NULL AND act IN ('user_add', 'user_change')
       AND rec.new_value::jsonb IS DISTINCT FROM
           jsonb_build_array('str', 'name=' || new.full_name || ', role=' || new.role) THEN
        why := 'its record does not name the new name and role';
    END IF;
    IF why IS NOT NULL THEN
        RAISE EXCEPTION 'user % not written: %', new.user_id, why
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    INSERT INTO audit SELECT rec.*;
    UPDATE audit_head SET last_sequence = rec.sequence, last_hash = rec.hash, scheme = p_scheme
        WHERE chain = 'audit';
    IF old.user_id IS NULL THEN
        INSERT INTO users SELECT new.*;
    ELSE
        UPDATE users SET full_name = new.full_name, role = new.role,
            password_hash = new.password_hash, disabled = new.disabled,
            failed_attempts = new.failed_attempts, locked_until_us = new.locked_until_us,
            password_changed_us = new.password_changed_us,
            must_change_password = new.must_change_password, sealed_by = new.sealed_by
        WHERE user_id = new.user_id;
    END IF;
END $$
"""

_PG_COUNTERS = [
    """\
CREATE FUNCTION hmi_user_failed(p_user_id text) RETURNS integer
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
    UPDATE users SET failed_attempts = failed_attempts + 1 WHERE user_id = p_user_id
    RETURNING failed_attempts
$$
""",
    # a station's clock may say it is earlier than the server's (keeping a lock), never later
    """\
CREATE FUNCTION hmi_user_signed_in(p_user_id text, p_now_us bigint) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
    UPDATE users SET failed_attempts = 0
    WHERE user_id = p_user_id AND (locked_until_us IS NULL OR locked_until_us <= least(
        p_now_us, (extract(epoch FROM clock_timestamp()) * 1000000)::bigint))
$$
""",
]

FUNCTIONS = (
    "hmi_user_write(jsonb, jsonb, text)",
    "hmi_user_failed(text)",
    "hmi_user_signed_in(text, bigint)",
)


def upgrade() -> None:
    op.add_column("users", sa.Column("sealed_by", sa.String(36), nullable=False, server_default=""))
    op.execute("UPDATE users SET sealed_by = 'pending upgrade'")  # user_seal.PENDING
    op.create_index("audit_target", "audit", ["target_address", "sequence"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_USER_WRITE)
        for statement in _PG_COUNTERS:
            op.execute(statement)
        for function in FUNCTIONS:  # EXECUTE goes to PUBLIC by default: to the station only
            op.execute(f"REVOKE ALL ON FUNCTION {function} FROM PUBLIC")


def downgrade() -> None:
    raise NotImplementedError("user seals are never downgraded: rows would be left unsealed")
