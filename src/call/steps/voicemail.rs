//! Voicemail: the caller leaves a message in a box of the tenant (mod_voicemail).

use crate::call::channel::Channel;
use crate::call::state::{Call, Next, RouteError};

/// mod_voicemail's arguments: `<profile> <domain> <box>`; the domain is a checked host
/// name, the box a checked digit string.
pub(crate) fn arg(domain: &str, mailbox: &str) -> String {
    format!("default {domain} {mailbox}")
}

pub(crate) async fn run<C: Channel>(call: &mut Call<'_, C>, id: i64) -> Result<Next, RouteError> {
    let vm = call.read(move |st, t| st.voicemail_box(t, id)).await?;
    leave_message(call, &vm.number).await
}

/// Takes a message for `mailbox`.
pub(crate) async fn leave_message<C: Channel>(call: &mut Call<'_, C>, mailbox: &str) -> Result<Next, RouteError> {
    let arg = arg(&call.tenant.sip_domain, mailbox);
    // The box's own greeting, a sound under FreeSWITCH's sound prefix: mod_voicemail
    // plays voicemail_greeting_path instead of the box's recorded one when the file
    // exists (mod_voicemail.c:3518–3531). The set expands ${sound_prefix} (a global
    // variable) into the absolute path that existence check needs. Checked again here:
    // the value is written into an application argument.
    let n = mailbox.to_string();
    let greeting = call.read(move |st, t| st.voicemail_greeting(t, &n)).await?;
    if crate::store::sounds::sound_ref(&greeting).is_some() {
        // An uploaded recording: its file, by its absolute path.
        if let Some(path) = call.greeting(&greeting).await? {
            call.ch.set(&[("voicemail_greeting_path", path)]).await?;
        }
    } else if !greeting.is_empty() && crate::store::validate::sound(&greeting).is_ok() {
        call.ch.set(&[("voicemail_greeting_path", format!("${{sound_prefix}}/{greeting}"))]).await?;
    }
    // Set first: the caller usually ends a voicemail call by hanging up mid-app. (A
    // blocked call sent to voicemail stays "blocked".)
    if call.cdr.disposition.is_empty() {
        call.cdr.disposition = "voicemail";
    }
    // The record is the box's, as an answered call is the phone's that answered it
    // (`ring`): a call to 1002 that ends in 1002's voicemail is 1002's call.
    call.cdr.extension = mailbox.to_string();
    // mod_voicemail never answers (it is registered SAF_NONE, so the core only
    // pre-answers the channel: switch_core_session.c:2789–2796, "Requires media!
    // pre_answering channel"): the message would be recorded in early media and the
    // caller never get a 200 OK. The call is answered here, so it is billed and recorded
    // as the conversation it is.
    call.answer().await?;
    call.last_app("voicemail", &arg).await?;
    Ok(Next::Done)
}
