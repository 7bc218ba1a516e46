//! A simulated call, as plain data (TOML or JSON). Later features extend it with fields;
//! unknown fields are refused so a typo never silently changes a test.
//!
//! ```toml
//! caller_id_number = "1001"
//! destination = "5000"
//! hangup_after_ms = 30000          # the caller hangs up 30 s after the socket connects
//! [[dtmf]]                          # consumed in order by read / play_and_get_digits
//! digits = "1#"
//! after_ms = 800
//! [targets."user/1002@pbx.example.com"]
//! result = "answer"
//! after_ms = 3000
//! talk_ms = 10000
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// What a bridge leg does when it is dialed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case", deny_unknown_fields)]
pub enum Target {
    /// Rings `after_ms`, answers, talks `talk_ms` (None: until the caller hangs up), hangs up.
    Answer {
        #[serde(default)]
        after_ms: u64,
        #[serde(default)]
        talk_ms: Option<u64>,
    },
    /// USER_BUSY after `after_ms`.
    Busy {
        #[serde(default)]
        after_ms: u64,
    },
    /// Rings until the leg or call timeout: NO_ANSWER.
    NoAnswer,
    /// CALL_REJECTED (a 603) after `after_ms`.
    Reject {
        #[serde(default)]
        after_ms: u64,
    },
    /// USER_NOT_REGISTERED at once (a `user/` endpoint with no registration).
    Unregistered,
    /// Any hangup cause, at once or after `after_ms` (a trunk answering 503 is
    /// NORMAL_TEMPORARY_FAILURE; a gateway that is down is GATEWAY_DOWN).
    Fail {
        cause: String,
        #[serde(default)]
        after_ms: u64,
    },
}

/// Where the linger notice goes relative to the hangup events: real FreeSWITCH puts it in
/// different places from run to run (docs/esl-protocol.md §11.7), so tests try each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LingerNotice {
    #[default]
    AfterHangup,
    BeforeHangup,
    AfterSocketComplete,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dtmf {
    pub digits: String,
    #[serde(default)]
    pub after_ms: u64,
}

/// Who presses keys while the call is bridged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Party {
    /// The channel the socket controls.
    Caller,
    /// The leg it is bridged to.
    Callee,
}

/// Keys pressed during the conversation, `after_ms` from the answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Press {
    pub by: Party,
    pub digits: String,
    #[serde(default)]
    pub after_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Scenario {
    pub name: String,
    pub caller_id_number: String,
    pub caller_id_name: String,
    pub destination: String,
    /// The dialplan context the call is in: `public` for trunks, the tenant's domain for phones.
    pub context: String,
    /// The SIP domain of the caller (phones) or of the switch (trunks).
    pub domain: String,
    /// `internal` (phones) or `external` (trunks).
    pub profile: String,
    pub network_addr: String,
    /// Extra channel variables, added after the usual sofia ones.
    pub variables: BTreeMap<String, String>,
    /// `socket … async`: apps are queued and `+OK` comes at once.
    pub async_mode: bool,
    /// `socket … full`.
    pub full: bool,
    /// The caller hangs up this long after the socket connects.
    pub hangup_after_ms: Option<u64>,
    pub dtmf: Vec<Dtmf>,
    /// Keys pressed during the first bridged conversation.
    pub in_call: Vec<Press>,
    /// Keys the caller presses `after_ms` from the socket's connect, whatever is running
    /// (music on hold, a bridge still ringing): a DTMF event each, and nothing else (no
    /// application reads them; `dtmf` is for those that do).
    pub keys: Vec<Dtmf>,
    /// How long whoever started an attended transfer talks to its target before hanging up
    /// (which joins the target to the held party).
    pub consult_ms: u64,
    pub targets: BTreeMap<String, Target>,
    /// What the far fax machine does when the call runs `rxfax` or `txfax`.
    pub fax: Option<super::apps::fax::FaxRun>,
    /// For a leg not listed in `targets`.
    pub default_target: Target,
    /// How long a playback lasts unless `files` says otherwise.
    pub playback_ms: u64,
    /// How long one switch second (call_timeout, leg_timeout, leg_delay_start) lasts here,
    /// so a test of a 35-second cascade runs in a fraction of that.
    pub second_ms: u64,
    pub files: BTreeMap<String, u64>,
    pub missing_files: Vec<String>,
    pub linger_notice: LingerNotice,
    /// How long voicemail records before the caller hangs up (None: until the hangup).
    pub voicemail_ms: Option<u64>,
    /// Instead of hanging up then, the caller ends the recording with a key: mod_voicemail
    /// says goodbye and the app returns with the caller still up (mod_voicemail.c:3703–3707).
    pub voicemail_key_ends: bool,
    /// How long the call may wait for switchboard's first command (FreeSWITCH: 25 s).
    pub first_command_timeout_ms: u64,
    /// The codec the caller's leg settled on (its `originator_codec` for the legs it bridges to).
    pub caller_codec: String,
    /// The codecs a bridged leg's far end accepts, by endpoint; an offer with none of them
    /// is refused (488): INCOMPATIBLE_DESTINATION. Unlisted legs accept any offer.
    pub target_codecs: BTreeMap<String, Vec<String>>,
}

impl Default for Scenario {
    fn default() -> Self {
        Scenario {
            name: "call".into(),
            caller_id_number: "1001".into(),
            caller_id_name: "Extension 1001".into(),
            destination: "1002".into(),
            context: "default".into(),
            domain: "pbx.example.com".into(),
            profile: "internal".into(),
            network_addr: "127.0.0.1".into(),
            variables: BTreeMap::new(),
            async_mode: true,
            full: true,
            hangup_after_ms: None,
            dtmf: Vec::new(),
            in_call: Vec::new(),
            keys: Vec::new(),
            consult_ms: 1000,
            targets: BTreeMap::new(),
            fax: None,
            default_target: Target::Unregistered,
            playback_ms: 1000,
            second_ms: 1000,
            files: BTreeMap::new(),
            missing_files: Vec::new(),
            linger_notice: LingerNotice::AfterHangup,
            voicemail_ms: Some(5000),
            voicemail_key_ends: false,
            first_command_timeout_ms: 25_000,
            caller_codec: "PCMU".into(),
            target_codecs: BTreeMap::new(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("reading {path}: {error}")]
    Read { path: String, error: std::io::Error },
    #[error("{path}: {error}")]
    Parse { path: String, error: String },
}

impl Scenario {
    /// Loads a `.toml` or `.json` scenario.
    pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
        let p = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|error| ScenarioError::Read { path: p.clone(), error })?;
        if path.extension().and_then(|e| e.to_str()) == Some("json") {
            serde_json::from_str(&text).map_err(|e| ScenarioError::Parse { path: p, error: e.to_string() })
        } else {
            toml::from_str(&text).map_err(|e| ScenarioError::Parse { path: p, error: e.to_string() })
        }
    }

    pub fn target(&self, leg: &str) -> Target {
        self.targets.get(leg).cloned().unwrap_or_else(|| self.default_target.clone())
    }

    pub fn playback_duration(&self, file: &str) -> u64 {
        self.files.get(file).copied().unwrap_or(self.playback_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_scenario_with_targets_and_dtmf() {
        let s: Scenario = toml::from_str(
            r#"
            destination = "5000"
            hangup_after_ms = 30000
            [[dtmf]]
            digits = "1#"
            after_ms = 800
            [targets."user/1002@pbx.example.com"]
            result = "answer"
            after_ms = 3000
            [targets."sofia/gateway/t1/15551234567"]
            result = "fail"
            cause = "NORMAL_TEMPORARY_FAILURE"
            "#,
        )
        .unwrap();
        assert_eq!(s.target("user/1002@pbx.example.com"), Target::Answer { after_ms: 3000, talk_ms: None });
        assert_eq!(s.target("user/9"), Target::Unregistered);
        assert_eq!(s.dtmf[0].digits, "1#");
        assert!(toml::from_str::<Scenario>("hangup_after = 1").is_err(), "typos are refused");
    }
}
