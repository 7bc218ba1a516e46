//! Money rules, with no I/O and no SQL: what a call costs ([`rating`]), when the free tier
//! restarts ([`period`]), a tenant's credit and policy ([`credit`]), holding credit ahead
//! for a prepaid call and the meter's decisions ([`hold`]), settling a call, an orphaned
//! reservation or a fax job ([`settle`]) and the transaction limits ([`limits`]).
//!
//! The store reads the figures these rules need inside its transactions and writes what
//! they decide (`store::ledger`, `store::limits`); `call::meter` does a prepaid call's I/O.
//! docs/billing.md says which rule lives where.

pub mod credit;
pub mod hold;
pub mod limits;
pub mod period;
pub mod rating;
pub mod settle;
