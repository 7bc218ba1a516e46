//! The narrow face of a call that the steps drive: answer, pre-answer, play, read digits,
//! set, bridge, run an application, hang up, api, and the call's events. The outbound
//! session implements it over the socket; [`super::fake::Fake`] implements it from a script
//! in unit tests, so every step's branches are tested without a socket.
//!
//! Generic rather than `dyn`: a step's future stays one concrete, `Send` type the call's
//! task owns, with no allocation per command.

use std::future::Future;
use std::time::Duration;

use crate::esl::{ApiCommand, Connection, EslError, Event, Events, OutboundSession};

/// A `play_and_get_digits`: what to play, how many keys, how many tries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ask<'a> {
    pub min: u32,
    pub max: u32,
    pub tries: u32,
    pub timeout: Duration,
    pub terminators: &'a str,
    pub prompt: &'a str,
    pub invalid_prompt: &'a str,
    /// What the entry must match (FreeSWITCH's regex syntax).
    pub regex: &'a str,
    pub digit_timeout: Duration,
}

pub trait Channel: Send + Sync {
    /// The controlled channel's UUID.
    fn uuid(&self) -> &str;
    /// The caller hung up (or the switch went away).
    fn hung_up(&self) -> bool;
    fn answer(&self) -> impl Future<Output = Result<(), EslError>> + Send;
    /// Early media: the caller hears what follows without the call being answered.
    fn pre_answer(&self) -> impl Future<Output = Result<(), EslError>> + Send;
    fn play(&self, file: &str) -> impl Future<Output = Result<(), EslError>> + Send;
    /// The digits entered (empty when none were, or none matched after every try).
    fn read_digits(&self, ask: &Ask<'_>) -> impl Future<Output = Result<String, EslError>> + Send;
    /// Sets variables from typed values in one application (`multiset ^^|a=1|b=2`; values
    /// are expanded by the switch, so only checked values go in, and none holds a `|`).
    fn set(&self, vars: &[(&str, String)]) -> impl Future<Output = Result<(), EslError>> + Send;
    /// Runs `bridge` to `dialstring`; its completion (originate_disposition and all).
    fn bridge(&self, dialstring: &str) -> impl Future<Output = Result<Event, EslError>> + Send;
    /// Runs any other application to its end (voicemail, conference, say, intercept …).
    fn run(&self, app: &str, arg: &str) -> impl Future<Output = Result<Event, EslError>> + Send;
    fn hangup(&self, cause: &str) -> impl Future<Output = Result<(), EslError>> + Send;
    /// Waits until the caller hangs up: a conversation the switch carries on by itself.
    fn hangup_wait(&self) -> impl Future<Output = ()> + Send;
    /// The channel's final record (CHANNEL_HANGUP_COMPLETE), waited for at most `within`.
    fn hangup_complete(&self, within: Duration) -> impl Future<Output = Option<Event>> + Send;
    /// An api command's answer.
    fn api(&self, cmd: &ApiCommand) -> impl Future<Output = Result<String, EslError>> + Send;
    /// An api command that answers `+OK` when it worked; anything else is an error.
    fn api_ok(&self, cmd: &ApiCommand) -> impl Future<Output = Result<(), EslError>> + Send;
    /// The call's events from now on (the bridged party's answer and keys among them).
    fn events(&self) -> Events;
    /// The connection, for work that outlives a step: a prepaid call's metering, which
    /// re-arms the switch's hangup while the call is up. None on a fake, which meters
    /// nothing (metering is tested over the socket).
    fn connection(&self) -> Option<&Connection>;
}

impl Channel for OutboundSession {
    fn uuid(&self) -> &str {
        OutboundSession::uuid(self)
    }

    fn hung_up(&self) -> bool {
        self.status().hangup.is_some()
    }

    async fn answer(&self) -> Result<(), EslError> {
        OutboundSession::answer(self).await.map(drop)
    }

    async fn pre_answer(&self) -> Result<(), EslError> {
        self.execute("pre_answer", None).await.map(drop)
    }

    async fn play(&self, file: &str) -> Result<(), EslError> {
        self.playback(file).await.map(drop)
    }

    async fn read_digits(&self, a: &Ask<'_>) -> Result<String, EslError> {
        let got =
            self.play_and_get_digits(a.min, a.max, a.tries, a.timeout, a.terminators, a.prompt, a.invalid_prompt, a.regex, a.digit_timeout).await?;
        Ok(got.digits)
    }

    async fn set(&self, vars: &[(&str, String)]) -> Result<(), EslError> {
        self.execute("multiset", Some(&multiset_arg(vars))).await.map(drop)
    }

    async fn bridge(&self, dialstring: &str) -> Result<Event, EslError> {
        self.execute("bridge", Some(dialstring)).await
    }

    async fn run(&self, app: &str, arg: &str) -> Result<Event, EslError> {
        self.execute(app, Some(arg)).await
    }

    async fn hangup(&self, cause: &str) -> Result<(), EslError> {
        OutboundSession::hangup(self, cause).await
    }

    async fn hangup_wait(&self) {
        OutboundSession::hangup_wait(self).await
    }

    async fn hangup_complete(&self, within: Duration) -> Option<Event> {
        OutboundSession::hangup_complete(self, within).await
    }

    async fn api(&self, cmd: &ApiCommand) -> Result<String, EslError> {
        let body = OutboundSession::connection(self).api_cmd(cmd).await?;
        Ok(String::from_utf8_lossy(&body).into_owned())
    }

    async fn api_ok(&self, cmd: &ApiCommand) -> Result<(), EslError> {
        OutboundSession::connection(self).api_cmd_ok(cmd).await.map(drop)
    }

    fn events(&self) -> Events {
        OutboundSession::connection(self).subscribe()
    }

    fn connection(&self) -> Option<&Connection> {
        Some(OutboundSession::connection(self))
    }
}

/// `^^|a=1|b=2`: multiset's argument with `|` as the separator (a value cannot hold one).
pub fn multiset_arg(vars: &[(&str, String)]) -> String {
    let mut arg = String::from("^^|");
    for (i, (k, v)) in vars.iter().enumerate() {
        debug_assert!(!v.contains('|'), "{k}={v}");
        if i > 0 {
            arg.push('|');
        }
        arg.push_str(k);
        arg.push('=');
        arg.push_str(&v.replace('|', ""));
    }
    arg
}
