//! Money, without SQL: what a call costs ([`rating`]) and when the free tier restarts
//! ([`period`]). The ledger, reservations and settlement live in `store::ledger`; the live
//! side (caps, metering a call) in `call::caps` and `call::meter`.

pub mod period;
pub mod rating;
