//! A call's money before it rings: its rate, and for a prepaid tenant its credit (held and
//! metered by [`super::meter`]); a call the credit cannot pay for is refused in words.

use tracing::warn;

use super::channel::Channel;
use super::state::{Call, RouteError};
use crate::pbx::destination::Destination;

/// Played before an outbound call the tenant's credit cannot pay for is refused.
const NO_CREDIT: &str = "ivr/ivr-account_balance_is.wav";

impl<C: Channel> Call<'_, C> {
    /// A prepaid tenant's rated call in or between phones (a call out is authorised when it
    /// reaches its trunk) is authorised before anything rings, like a call out: its money
    /// runs from the answer, as its billed seconds do.
    pub(crate) async fn authorize_prepaid_start(&mut self, first: &Destination) -> Result<bool, RouteError> {
        if !self.tenant.prepaid || matches!(first, Destination::External { .. }) {
            return Ok(true);
        }
        let (direction, number) = match self.cdr.direction {
            "inbound" => ("inbound", self.cdr.did.clone()),
            _ => ("internal", self.cdr.callee.clone()),
        };
        self.authorize(direction, &number, None).await
    }

    /// Rates the call (`direction`, `number`, the route's `plan` or the tenant's); a prepaid
    /// tenant's rated call is authorised against its credit (see [`super::meter`]) or
    /// refused with an announcement. False when the call was refused.
    pub(crate) async fn authorize(&mut self, direction: &'static str, number: &str, plan: Option<i64>) -> Result<bool, RouteError> {
        let n = number.to_string();
        let rate = self.read(move |st, t| st.rate_for(t, plan, direction, &n)).await?.filter(|r| !r.is_free());
        self.rate = rate;
        let Some(rate) = rate.filter(|_| self.tenant.prepaid) else { return Ok(true) };
        // A fake channel has no connection to meter over: its calls are not metered.
        let Some(conn) = self.ch.connection() else { return Ok(true) };
        let call = super::meter::MeteredCall {
            store: self.env.store.clone(),
            conn: conn.clone(),
            uuid: self.ch.uuid().to_string(),
            tenant: self.t(),
            rate,
            second: self.env.second,
        };
        match super::meter::authorize(call, 60).await {
            Some(p) => {
                self.prepaid = Some(p);
                Ok(true)
            }
            None => {
                warn!(tenant = self.tenant.id, direction, "no credit left for a rated call");
                self.bar("refused: no credit", NO_CREDIT).await?;
                Ok(false)
            }
        }
    }
}
