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
