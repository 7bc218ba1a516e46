-- What settles a reservation a crash left behind on the call's real length instead of the
-- whole window it held: the rate it was held at, and when the call was answered (the meter
-- writes it at the answer). Rows held before this migration have neither and are settled
-- on what they held, as before.
ALTER TABLE reservations ADD COLUMN per_minute INTEGER;
ALTER TABLE reservations ADD COLUMN connection_charge INTEGER;
ALTER TABLE reservations ADD COLUMN first_increment INTEGER;
ALTER TABLE reservations ADD COLUMN next_increment INTEGER;
ALTER TABLE reservations ADD COLUMN answered_at TEXT;
