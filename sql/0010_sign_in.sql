-- Sign-in hardening (docs/security.md, "Sign-in, tokens and sessions").
--
-- Failed password proofs are counted per account and client address, not per account: a
-- lock earned from one address must not shut the owner out from another, or anyone could
-- lock any account (the super admin's included) by guessing at it. Rows are keyed by the
-- email as typed, so an unknown account is counted and locked exactly like a real one and
-- the answers do not tell which accounts exist. `failures` is taken before the argon2
-- check runs (a reserved attempt), so parallel guesses cannot all be checked before the
-- first is counted. A row is forgotten at `expires_at` (the lock's end, or the lockout
-- period after the last attempt).
CREATE TABLE login_attempts (
    email        TEXT    NOT NULL COLLATE NOCASE,
    address      TEXT    NOT NULL,   -- an IPv4 address, or an IPv6 /64
    failures     INTEGER NOT NULL DEFAULT 0,
    locked_until TEXT,
    expires_at   TEXT    NOT NULL,
    PRIMARY KEY (email, address)
) WITHOUT ROWID;
CREATE INDEX login_attempts_expiry ON login_attempts(expires_at);

-- The account-wide counter and lock are replaced by the table above.
ALTER TABLE users DROP COLUMN failed_logins;
ALTER TABLE users DROP COLUMN locked_until;

-- One row per sign-in: the family of refresh tokens descended from it. Only the newest
-- refresh token of a family (`refresh_id`, its `jti`) may be used, once; a spent one coming
-- back means two parties hold the family, so the whole family is revoked, and the access
-- tokens issued in it (they carry its id) are refused from then on.
CREATE TABLE sessions (
    id         TEXT    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    refresh_id TEXT    NOT NULL,
    created_at TEXT    NOT NULL,
    expires_at TEXT    NOT NULL,      -- the newest refresh token's expiry; deleted after it
    revoked_at TEXT
) WITHOUT ROWID;
CREATE INDEX sessions_user ON sessions(user_id);
CREATE INDEX sessions_expiry ON sessions(expires_at);
