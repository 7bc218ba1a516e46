//! Roles and permission tokens: who may use which feature.
//!
//! A tenant holds a set of tokens; a user may be granted only tokens the tenant holds.
//! `fpbx_extension` is the parent of every PBX token: granting a child grants the parent,
//! revoking the parent revokes the children (the product guide's cascade).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    SuperAdmin,
    TenantAdmin,
    Agent,
    EndUser,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::SuperAdmin, Role::TenantAdmin, Role::Agent, Role::EndUser];
    pub fn as_str(self) -> &'static str {
        match self {
            Role::SuperAdmin => "super_admin",
            Role::TenantAdmin => "tenant_admin",
            Role::Agent => "agent",
            Role::EndUser => "end_user",
        }
    }
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
    pub fn is_admin(self) -> bool {
        matches!(self, Role::SuperAdmin | Role::TenantAdmin)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Token {
    SendFax,
    ReceiveFax,
    FaxSetting,
    Contacts,
    FpbxExtension,
    Devices,
    RingGroups,
    CallQueues,
    IvrMenus,
    Voicemails,
    Conferences,
    FollowMe,
    InboundRoutes,
    Realtime,
    MusicOnHold,
}

impl Token {
    pub const ALL: [Token; 15] = [
        Token::SendFax,
        Token::ReceiveFax,
        Token::FaxSetting,
        Token::Contacts,
        Token::FpbxExtension,
        Token::Devices,
        Token::RingGroups,
        Token::CallQueues,
        Token::IvrMenus,
        Token::Voicemails,
        Token::Conferences,
        Token::FollowMe,
        Token::InboundRoutes,
        Token::Realtime,
        Token::MusicOnHold,
    ];

    /// What the permission unlocks, as the guide's permission table says it.
    pub fn title(self) -> &'static str {
        match self {
            Token::SendFax => "Send fax",
            Token::ReceiveFax => "Receive fax",
            Token::FaxSetting => "Fax settings",
            Token::Contacts => "Fax contacts",
            Token::FpbxExtension => "Extensions",
            Token::Devices => "Devices",
            Token::RingGroups => "Ring groups",
            Token::CallQueues => "Call queues",
            Token::IvrMenus => "IVR menus",
            Token::Voicemails => "Voicemail",
            Token::Conferences => "Conferences",
            Token::FollowMe => "Follow me",
            Token::InboundRoutes => "Inbound routes",
            Token::Realtime => "Realtime monitor",
            Token::MusicOnHold => "Music on hold",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Token::SendFax => "send_fax",
            Token::ReceiveFax => "receive_fax",
            Token::FaxSetting => "fax_setting",
            Token::Contacts => "contacts",
            Token::FpbxExtension => "fpbx_extension",
            Token::Devices => "devices",
            Token::RingGroups => "ring_groups",
            Token::CallQueues => "call_queues",
            Token::IvrMenus => "ivr_menus",
            Token::Voicemails => "voicemails",
            Token::Conferences => "conferences",
            Token::FollowMe => "follow_me",
            Token::InboundRoutes => "inbound_routes",
            Token::Realtime => "realtime",
            Token::MusicOnHold => "music_on_hold",
        }
    }

    pub fn parse(s: &str) -> Option<Token> {
        Token::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// The token this one depends on.
    pub fn parent(self) -> Option<Token> {
        match self {
            Token::SendFax | Token::ReceiveFax | Token::FaxSetting | Token::Contacts | Token::FpbxExtension => None,
            _ => Some(Token::FpbxExtension),
        }
    }

    /// The UI's grouping of the checkboxes.
    pub fn group(self) -> &'static str {
        match self {
            Token::SendFax | Token::ReceiveFax | Token::FaxSetting => "fax",
            Token::Contacts => "contacts",
            _ => "pbx",
        }
    }
}

pub type Tokens = BTreeSet<Token>;

/// Parses a list of token names; the error names the first unknown one.
pub fn parse_tokens<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<Tokens, String> {
    names.into_iter().map(|n| Token::parse(n).ok_or_else(|| format!("unknown permission {n:?}"))).collect()
}

/// Applies the cascade to a requested set, given the set held before: a parent that was held
/// and is now absent takes its children with it; a child whose parent is absent brings the
/// parent in.
pub fn cascade(before: &Tokens, requested: &Tokens) -> Tokens {
    let mut out = requested.clone();
    let revoked_parents: Vec<Token> = before.iter().copied().filter(|t| t.parent().is_none() && !requested.contains(t)).collect();
    out.retain(|t| !t.parent().is_some_and(|p| revoked_parents.contains(&p)));
    let parents: Vec<Token> = out.iter().filter_map(|t| t.parent()).collect();
    out.extend(parents);
    out
}

pub fn names(tokens: &Tokens) -> Vec<&'static str> {
    tokens.iter().map(|t| t.as_str()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(names: &[&str]) -> Tokens {
        parse_tokens(names.iter().copied()).unwrap()
    }

    #[test]
    fn granting_a_child_grants_its_parent() {
        assert_eq!(cascade(&set(&[]), &set(&["devices"])), set(&["devices", "fpbx_extension"]));
        assert_eq!(cascade(&set(&[]), &set(&["send_fax"])), set(&["send_fax"]), "fax tokens stand alone");
    }

    #[test]
    fn revoking_a_parent_revokes_its_children() {
        let before = set(&["fpbx_extension", "devices", "ring_groups", "send_fax"]);
        assert_eq!(cascade(&before, &set(&["devices", "ring_groups", "send_fax"])), set(&["send_fax"]));
        // Dropping one child leaves the parent and the other children.
        assert_eq!(cascade(&before, &set(&["fpbx_extension", "ring_groups", "send_fax"])), set(&["fpbx_extension", "ring_groups", "send_fax"]));
    }

    #[test]
    fn names_round_trip() {
        for t in Token::ALL {
            assert_eq!(Token::parse(t.as_str()), Some(t));
            assert_eq!(serde_json::to_value(t).unwrap(), t.as_str());
        }
        assert!(parse_tokens(["devices", "root"]).unwrap_err().contains("root"));
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
    }
}
