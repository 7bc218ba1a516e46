//! An extension: its forward-always, do-not-disturb, follow-me or its phones ringing, and
//! when nobody answers, its forward for busy or no answer, else its voicemail.

use tracing::info;

use super::follow_me;
use crate::call::channel::Channel;
use crate::call::state::{Call, Next, RouteError};
use crate::pbx::config::{Extension, FollowMe};
use crate::pbx::dialstring;
use crate::pbx::plan::{self, Fallback};

/// How long an extension's phones ring.
pub(crate) const RING_SECS: i64 = 30;

/// What a call to an extension does first.
#[derive(Debug, PartialEq)]
pub(crate) enum Plan {
    /// Every call is forwarded to this number.
    Forward(String),
    /// Do not disturb: treated as busy.
    DoNotDisturb,
    FollowMe(FollowMe),
    /// Its phones ring.
    Ring {
        dialstring: String,
        timeout: i64,
    },
}

pub(crate) fn decide(e: &Extension, fm: Option<FollowMe>, domain: &str) -> Plan {
    if !e.forward_always.is_empty() {
        Plan::Forward(e.forward_always.clone())
    } else if e.dnd {
        Plan::DoNotDisturb
    } else if let Some(fm) = fm.filter(|f| !f.destinations.is_empty()) {
        Plan::FollowMe(fm)
    } else {
        Plan::Ring { dialstring: dialstring::user(&e.number, domain), timeout: RING_SECS }
    }
}

pub(crate) async fn run<C: Channel>(call: &mut Call<'_, C>, id: i64) -> Result<Next, RouteError> {
    // The first destination's phone was read with the tenant (see `admit`).
    let (e, fm) = match call.first_phone.take().filter(|p| p.0 == id) {
        Some((_, e, fm)) => (e, fm),
        None => call.read(move |st, t| Ok((st.extension(t, id)?, st.follow_me(t, id)?))).await?,
    };
    if e.kind == "fax" {
        // A fax machine's number: nothing rings, the switch receives the pages.
        return Box::pin(super::fax::receive(call, &e)).await;
    }
    match decide(&e, fm, &call.tenant.sip_domain) {
        Plan::Forward(n) => Ok(Next::Go(call.forward_to(&n).await?)),
        Plan::DoNotDisturb => {
            info!(extension = %e.number, "do not disturb");
            unavailable(call, &e, "USER_BUSY").await
        }
        // Boxed, so a call that rings one extension does not carry follow-me's larger state.
        Plan::FollowMe(fm) => Box::pin(follow_me::run(call, &e, fm)).await,
        Plan::Ring { dialstring, timeout } => match ring(call, &e, &dialstring, timeout).await? {
            None => Ok(Next::Done),
            Some(disposition) => {
                info!(extension = %e.number, %disposition, "extension did not answer");
                unavailable(call, &e, &disposition).await
            }
        },
    }
}

/// Rings `dialstring` for the extension `e` (its caller ID, its recording); None when
/// the call was answered (or the caller gave up), else why nobody answered.
pub(crate) async fn ring<C: Channel>(call: &mut Call<'_, C>, e: &Extension, dialstring: &str, timeout: i64) -> Result<Option<String>, RouteError> {
    call.prepare_bridge(timeout, None).await?;
    if e.record_calls {
        if let Some(path) = call.recording_path(call.ch.uuid()).await {
            call.cdr.recording_path = path.clone();
            call.ch.run("record_session", &path).await?;
        }
    }
    // Set before the bridge: when the callee hangs up, hangup_after_bridge can end this
    // channel before the bridge reports back, and the record must still name who answered.
    let before = std::mem::replace(&mut call.cdr.extension, e.number.clone());
    let outcome = call.bridge(dialstring, true).await?;
    if outcome.is_some() {
        call.cdr.extension = before;
    }
    Ok(outcome)
}

/// Busy or no answer: the forward for that case, else voicemail, else the cause.
pub(crate) async fn unavailable<C: Channel>(call: &mut Call<'_, C>, e: &Extension, cause: &str) -> Result<Next, RouteError> {
    let busy = cause == "USER_BUSY";
    fall_back(call, plan::unavailable(e, busy), if busy { "busy" } else { "no_answer" }).await
}

/// Carries out what the plan says follows an unanswered call.
pub(crate) async fn fall_back<C: Channel>(call: &mut Call<'_, C>, f: Fallback, disposition: &'static str) -> Result<Next, RouteError> {
    match f {
        Fallback::Forward(n) => Ok(Next::Go(call.forward_to(&n).await?)),
        Fallback::Voicemail(b) => super::voicemail::leave_message(call, &b).await,
        Fallback::End(cause) => {
            call.cdr.disposition = disposition;
            call.ch.hangup(cause).await?;
            Ok(Next::Done)
        }
    }
}
