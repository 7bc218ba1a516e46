-- Zero-touch provisioning: feature keys on device profiles, and a per-device secret that
-- a phone must present (HTTP digest/basic password, or the token in its provisioning URL)
-- before it is given a file with SIP credentials. A MAC alone is never enough.

ALTER TABLE device_profiles ADD COLUMN feature_keys TEXT NOT NULL DEFAULT '[]';

ALTER TABLE devices ADD COLUMN provision_secret TEXT NOT NULL DEFAULT '';
-- Devices created before this migration get a secret now (32 hex characters, 128 bits).
UPDATE devices SET provision_secret = lower(hex(randomblob(16))) WHERE provision_secret = '';
-- The token URL finds its device by the secret.
CREATE UNIQUE INDEX devices_provision_secret ON devices(provision_secret);

-- A device page lists the downloads of its files from the activity log.
CREATE INDEX activity_object ON activity_log(object, at);
