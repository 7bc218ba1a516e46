//! An IVR menu: a greeting, a key (or an extension number when direct dial is on), and
//! where each choice, a timeout or an invalid entry leads.

use std::time::Duration;

use tracing::info;

use crate::call::channel::{Ask, Channel};
use crate::call::state::{Call, Next, RouteError, INVALID};
use crate::pbx::config::Ivr;
use crate::pbx::destination::Destination;

/// What the caller's entry chose.
#[derive(Debug, PartialEq)]
pub(crate) enum Choice<'a> {
    Option(&'a Destination),
    /// Digits that may be an extension's number (direct dial).
    DirectDial,
    Invalid,
}

pub(crate) fn choose<'a>(m: &'a Ivr, digits: &str) -> Choice<'a> {
    if let Some(o) = m.options.iter().find(|o| o.digit == digits) {
        Choice::Option(&o.destination)
    } else if m.direct_dial && digits.len() >= 3 {
        Choice::DirectDial
    } else {
        Choice::Invalid
    }
}

/// Where the menu sends a caller who never chose: the timeout destination after a last
/// try with no entry, the invalid one otherwise.
pub(crate) fn gave_up(m: &Ivr, last_was_timeout: bool) -> &Destination {
    if last_was_timeout {
        &m.timeout_destination
    } else {
        &m.invalid_destination
    }
}

pub(crate) async fn run<C: Channel>(call: &mut Call<'_, C>, id: i64) -> Result<Next, RouteError> {
    let m = call.read(move |st, t| st.ivr(t, id)).await?;
    call.answer().await?;
    let prompt = call.greeting(&m.greeting).await?.unwrap_or_else(|| "silence_stream://250".to_string());
    let ask = Ask {
        min: 1,
        max: if m.direct_dial { 6 } else { 1 },
        tries: 1,
        timeout: Duration::from_secs(m.timeout.max(1) as u64),
        terminators: "",
        prompt: &prompt,
        invalid_prompt: "silence_stream://250",
        regex: r"^(\d+|\*|#)$",
        digit_timeout: Duration::from_secs(m.inter_digit_timeout.max(1) as u64),
    };
    let mut last_timeout = true;
    for _ in 0..m.max_failures.max(1) {
        let digits = call.ch.read_digits(&ask).await?;
        if digits.is_empty() {
            last_timeout = true;
            continue;
        }
        last_timeout = false;
        match choose(&m, &digits) {
            Choice::Option(d) => {
                info!(menu = %m.name, %digits, "IVR choice");
                return Ok(Next::Go(d.clone()));
            }
            Choice::DirectDial => {
                let d = digits.clone();
                if let Some(dest @ Destination::Extension { .. }) = call.read(move |st, t| st.dialable(t, &d)).await? {
                    info!(menu = %m.name, %digits, "IVR direct dial");
                    return Ok(Next::Go(dest));
                }
            }
            Choice::Invalid => {}
        }
        info!(menu = %m.name, %digits, "IVR invalid entry");
        call.ch.play(INVALID).await?;
    }
    Ok(Next::Go(gave_up(&m, last_timeout).clone()))
}
