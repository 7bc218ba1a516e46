-- Call queues run by switchboard's own engine (src/acd/): what a queue says about offering
-- its callers, and each agent's own choice (logged out, available, on break), which
-- survives a restart. Offered, in a queue call and wrap-up are never stored: the engine
-- derives them from the calls it holds.
ALTER TABLE call_queues ADD COLUMN agent_timeout         INTEGER NOT NULL DEFAULT 20;
ALTER TABLE call_queues ADD COLUMN wrap_up               INTEGER NOT NULL DEFAULT 10;
ALTER TABLE call_queues ADD COLUMN reject_delay          INTEGER NOT NULL DEFAULT 30;
ALTER TABLE call_queues ADD COLUMN max_no_answer         INTEGER NOT NULL DEFAULT 3;
ALTER TABLE call_queues ADD COLUMN max_callers           INTEGER NOT NULL DEFAULT 0;
ALTER TABLE call_queues ADD COLUMN full_destination      TEXT    NOT NULL DEFAULT '{"type":"hangup"}';
ALTER TABLE call_queues ADD COLUMN wait_without_agents   INTEGER NOT NULL DEFAULT 1;
ALTER TABLE call_queues ADD COLUMN no_agents_destination TEXT    NOT NULL DEFAULT '{"type":"hangup"}';
ALTER TABLE call_queues ADD COLUMN exit_key              TEXT    NOT NULL DEFAULT '';
ALTER TABLE call_queues ADD COLUMN exit_destination      TEXT    NOT NULL DEFAULT '{"type":"hangup"}';
ALTER TABLE call_queues ADD COLUMN announce_every        INTEGER NOT NULL DEFAULT 0;
ALTER TABLE call_queues ADD COLUMN announce_position     INTEGER NOT NULL DEFAULT 1;
ALTER TABLE call_queues ADD COLUMN announce_wait         INTEGER NOT NULL DEFAULT 1;
ALTER TABLE call_queues ADD COLUMN tier_escalation       INTEGER NOT NULL DEFAULT 0;
ALTER TABLE call_queues ADD COLUMN progressive_step      INTEGER NOT NULL DEFAULT 5;
ALTER TABLE call_queues ADD COLUMN service_level         INTEGER NOT NULL DEFAULT 20;
ALTER TABLE call_queues ADD COLUMN follow_agent_rules    INTEGER NOT NULL DEFAULT 0;

CREATE TABLE queue_agent_status (
    user_id    INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    status     TEXT    NOT NULL CHECK (status IN ('logged_out', 'available', 'on_break')),
    changed_at TEXT    NOT NULL
);
