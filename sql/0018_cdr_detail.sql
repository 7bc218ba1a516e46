-- What the detailed call record shows (issue 31; the agent guide's PBX CDR, 8.1): the
-- codec the caller's leg spoke and its SIP Call-ID, both read from the channel's
-- CHANNEL_HANGUP_COMPLETE (variable_read_codec, variable_sip_call_id).
ALTER TABLE cdrs ADD COLUMN codec TEXT NOT NULL DEFAULT '';
ALTER TABLE cdrs ADD COLUMN sip_call_id TEXT NOT NULL DEFAULT '';
