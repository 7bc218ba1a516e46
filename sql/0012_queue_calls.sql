-- Each time a call went to a call queue: written with the call's record, in its
-- transaction, one row per visit (a caller timed out of one queue into another has two).
-- The CDR shows a call's visits; the queue report counts them per queue per day.
CREATE TABLE queue_calls (
    cdr_uuid   TEXT    NOT NULL,           -- cdrs.uuid
    seq        INTEGER NOT NULL,           -- the visit's order within the call
    tenant_id  INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    queue_id   INTEGER NOT NULL,           -- kept when the queue is deleted: the past stays counted
    entered_at TEXT    NOT NULL,
    wait       INTEGER NOT NULL,           -- seconds in line (until an agent answered, or it left)
    agent_id   INTEGER,                    -- the user who answered
    outcome    TEXT    NOT NULL CHECK (outcome IN ('answered', 'abandoned', 'timed_out', 'exited', 'full', 'no_agents')),
    PRIMARY KEY (cdr_uuid, seq)
) WITHOUT ROWID;

CREATE INDEX queue_calls_report ON queue_calls(tenant_id, entered_at, queue_id);
