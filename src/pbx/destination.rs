//! [`Destination`]: the one type every route, menu option and fallback points at.
//!
//! Stored as canonical JSON (`{"type":"ring_group","id":4}`) and checked on every write: an id
//! must name an object of the same tenant, a number must be dialable, a hangup cause must be
//! one FreeSWITCH knows.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Destination {
    Extension {
        id: i64,
    },
    RingGroup {
        id: i64,
    },
    Ivr {
        id: i64,
    },
    Queue {
        id: i64,
        /// Callers who come this way go ahead of those with a lower priority (0, the
        /// default, to [`MAX_QUEUE_PRIORITY`]): a VIP DID or IVR option.
        #[serde(default, skip_serializing_if = "is_zero")]
        priority: i64,
    },
    Voicemail {
        id: i64,
    },
    Conference {
        id: i64,
    },
    CallFlow {
        id: i64,
    },
    TimeCondition {
        id: i64,
    },
    /// An extension of type fax.
    Fax {
        id: i64,
    },
    /// A number dialed out through the tenant's outbound routes.
    External {
        number: String,
    },
    Hangup {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cause: Option<String>,
    },
}

/// The highest priority a route into a call queue may give its callers.
pub const MAX_QUEUE_PRIORITY: i64 = 9;

fn is_zero(n: &i64) -> bool {
    *n == 0
}

/// Hangup causes a destination may name (switch_channel.c's cause table, the ones a PBX
/// admin would choose on purpose).
pub const HANGUP_CAUSES: &[&str] = &[
    "NORMAL_CLEARING",
    "USER_BUSY",
    "NO_ANSWER",
    "CALL_REJECTED",
    "UNALLOCATED_NUMBER",
    "NO_ROUTE_DESTINATION",
    "NORMAL_TEMPORARY_FAILURE",
    "SERVICE_UNAVAILABLE",
    "DESTINATION_OUT_OF_ORDER",
];

/// Every destination type name, for documentation and the UI's picker.
pub const TYPES: &[&str] =
    &["extension", "ring_group", "ivr", "queue", "voicemail", "conference", "call_flow", "time_condition", "fax", "external", "hangup"];

impl Destination {
    /// The table and id this destination points at, when it points at an object.
    pub fn target(&self) -> Option<(&'static str, i64)> {
        use Destination::*;
        Some(match *self {
            Extension { id } | Fax { id } => ("extensions", id),
            RingGroup { id } => ("ring_groups", id),
            Ivr { id } => ("ivr_menus", id),
            Queue { id, .. } => ("call_queues", id),
            Voicemail { id } => ("voicemail_boxes", id),
            Conference { id } => ("conferences", id),
            CallFlow { id } => ("call_flows", id),
            TimeCondition { id } => ("time_conditions", id),
            External { .. } | Hangup { .. } => return None,
        })
    }

    /// The destination type that points at rows of `table` (the reverse of [`target`]).
    pub fn types_for_table(table: &str) -> &'static [&'static str] {
        match table {
            "extensions" => &["extension", "fax"],
            "ring_groups" => &["ring_group"],
            "ivr_menus" => &["ivr"],
            "call_queues" => &["queue"],
            "voicemail_boxes" => &["voicemail"],
            "conferences" => &["conference"],
            "call_flows" => &["call_flow"],
            "time_conditions" => &["time_condition"],
            _ => &[],
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a destination always serialises")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_shape_is_tagged_and_strict() {
        let d: Destination = serde_json::from_str(r#"{"type":"ring_group","id":4}"#).unwrap();
        assert_eq!(d, Destination::RingGroup { id: 4 });
        assert_eq!(d.to_json(), r#"{"type":"ring_group","id":4}"#);
        assert_eq!(Destination::Hangup { cause: None }.to_json(), r#"{"type":"hangup"}"#);
        // A queue's priority is said only when it is not the default.
        assert_eq!(Destination::Queue { id: 3, priority: 0 }.to_json(), r#"{"type":"queue","id":3}"#);
        let vip: Destination = serde_json::from_str(r#"{"type":"queue","id":3,"priority":5}"#).unwrap();
        assert_eq!(vip, Destination::Queue { id: 3, priority: 5 });
        assert!(serde_json::from_str::<Destination>(r#"{"type":"ring_group","id":4,"x":1}"#).is_err());
        assert!(serde_json::from_str::<Destination>(r#"{"type":"moon","id":4}"#).is_err());
        // Every documented type name parses (with the payload its kind needs).
        for t in TYPES {
            let body = match *t {
                "external" => format!(r#"{{"type":"{t}","number":"1001"}}"#),
                "hangup" => format!(r#"{{"type":"{t}"}}"#),
                _ => format!(r#"{{"type":"{t}","id":1}}"#),
            };
            let d: Destination = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{t}: {e}"));
            assert_eq!(serde_json::to_value(&d).unwrap()["type"], *t);
        }
        for (table, ty) in [("extensions", "extension"), ("ivr_menus", "ivr"), ("call_flows", "call_flow")] {
            assert!(Destination::types_for_table(table).contains(&ty));
        }
    }
}
