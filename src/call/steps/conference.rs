//! A conference room of the tenant (mod_conference).

use crate::call::channel::Channel;
use crate::call::state::{Call, Next, RouteError};
use crate::pbx::config::Conference;

/// mod_conference's argument: `<number>-<domain>@default[+<pin>]` — the room is named by
/// number and domain, so two tenants' rooms 3000 never meet; mod_conference asks for the
/// PIN.
pub(crate) fn room(c: &Conference, domain: &str) -> String {
    let mut arg = format!("{}@default", crate::pbx::room::name(&c.number, domain));
    if !c.pin.is_empty() {
        arg.push('+');
        arg.push_str(&c.pin);
    }
    arg
}

/// The member limit the room opens with, when it has one (fewer than 2 is none).
pub(crate) fn max_members(c: &Conference) -> Option<i64> {
    (c.max_participants >= 2).then_some(c.max_participants)
}

/// The limit and the recording are read from the channel that makes the room
/// (mod_conference.c:2178–2197), so every caller sets them and the room opens as
/// configured whoever comes first; a change applies from the room's next opening.
pub(crate) async fn run<C: Channel>(call: &mut Call<'_, C>, id: i64) -> Result<Next, RouteError> {
    let c = call.read(move |st, t| st.conference(t, id)).await?;
    let mut vars = Vec::new();
    if let Some(max) = max_members(&c) {
        vars.push(("conference_max_members", max.to_string()));
    }
    if c.record {
        // Named for the call that opens the room; each member's channel is then given
        // the room's file as conference_recording, which the record keeps.
        if let Some(path) = call.recording_path(&format!("conference-{}-{}", c.number, call.ch.uuid())).await {
            vars.push(("conference_auto_record", path));
        }
    }
    let arg = room(&c, &call.tenant.sip_domain);
    if !vars.is_empty() {
        call.ch.set(&vars).await?;
    }
    call.answer().await?;
    call.cdr.disposition = "answered";
    // mod_conference returns with the caller still up when it turned them away (the
    // PIN wrong three times, a full room: mod_conference.c:2326–2365) or kicked them.
    call.last_app("conference", &arg).await?;
    Ok(Next::Done)
}
