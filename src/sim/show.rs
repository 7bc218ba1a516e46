//! The switch's reports as FreeSWITCH writes them: `show channels` and `show registrations`
//! (text and JSON) and `sofia status gateway` (text and XML).

use super::*;

impl Switch {
    pub(super) fn channel_row(&self, ch: &channel::Channel, held: bool) -> serde_json::Value {
        serde_json::json!({
            "uuid": ch.uuid, "direction": ch.direction, "created_epoch": (ch.created_us / 1_000_000).to_string(),
            "name": ch.name, "state": ch.state, "cid_name": ch.cid_name, "cid_num": ch.cid_number,
            "dest": ch.destination, "application": ch.var("current_application").unwrap_or(""),
            "application_data": ch.var("current_application_data").unwrap_or(""),
            "read_codec": "PCMU", "write_codec": "PCMU", "callstate": ch.call_state,
            "callee_num": "", "context": ch.context, "hostname": self.inner.id.hostname,
            "call_uuid": ch.uuid, "presence_id": ch.var("presence_id").unwrap_or(""),
            "held": held.to_string(),
        })
    }

    pub(super) fn show_channels(&self, json: bool) -> String {
        let mut rows = Vec::new();
        for c in self.live() {
            let st = c.lock();
            let mut chans = vec![&st.ch];
            chans.extend(st.legs.iter());
            for ch in chans {
                if !ch.is_up() {
                    continue;
                }
                rows.push(self.channel_row(ch, st.held));
            }
        }
        let mut gone = self.inner.destroyed.lock().unwrap();
        gone.retain(|(at, _)| at.elapsed() < DESTROY_LAG);
        rows.extend(gone.iter().map(|(_, r)| r.clone()));
        drop(gone);
        if json {
            if rows.is_empty() {
                return "{\"row_count\":0}".into();
            }
            serde_json::json!({"row_count": rows.len(), "rows": rows}).to_string()
        } else {
            let mut out = String::from("uuid,direction,created_epoch,name,state,cid_name,cid_num,dest,callstate\n");
            for r in &rows {
                out.push_str(&format!(
                    "{},{},{},{},{},{},{},{},{}\n",
                    r["uuid"].as_str().unwrap_or(""),
                    r["direction"].as_str().unwrap_or(""),
                    r["created_epoch"].as_str().unwrap_or(""),
                    r["name"].as_str().unwrap_or(""),
                    r["state"].as_str().unwrap_or(""),
                    r["cid_name"].as_str().unwrap_or(""),
                    r["cid_num"].as_str().unwrap_or(""),
                    r["dest"].as_str().unwrap_or(""),
                    r["callstate"].as_str().unwrap_or("")
                ));
            }
            out.push_str(&format!("\n{} total.\n", rows.len()));
            out
        }
    }

    /// mod_commands.c show registrations: `select reg_user,realm,token,url,expires,network_ip,
    /// network_port,network_proto,hostname,metadata from registrations`.
    pub(super) fn show_registrations(&self, json: bool) -> String {
        let regs = self.inner.registrations.lock().unwrap();
        if json {
            if regs.is_empty() {
                return "{\"row_count\":0}".into();
            }
            let rows: Vec<serde_json::Value> = regs
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "reg_user": r.user, "realm": r.realm, "token": format!("{}-{}", r.user, r.realm), "url": r.contact,
                        "expires": "3600", "network_ip": r.network_ip, "network_port": "5060", "network_proto": "udp",
                        "hostname": self.inner.id.hostname, "metadata": r.agent,
                    })
                })
                .collect();
            return serde_json::json!({"row_count": rows.len(), "rows": rows}).to_string();
        }
        let mut out = String::from("reg_user,realm,token,url,expires,network_ip,network_port,network_proto,hostname,metadata\n");
        for r in regs.iter() {
            out.push_str(&format!("{},{},{},{},3600,{},5060,udp,{},\n", r.user, r.realm, r.user, r.contact, r.network_ip, self.inner.id.hostname));
        }
        out.push_str(&format!("\n{} total.\n", regs.len()));
        out
    }

    /// `sofia xmlstatus gateway [<name>]` (mod_sofia.c:3204–3292): every gateway inside
    /// `<gateways>`, or one bare `<gateway>`; each field on its own line.
    pub(super) fn sofia_gateways_xml(&self, name: Option<&str>) -> String {
        let gws = self.inner.gateways.lock().unwrap();
        let one = |g: &Gateway| {
            format!(
                "  <gateway>\n    <name>{}</name>\n    <profile>external</profile>\n    <scheme>Digest</scheme>\n    <realm>{p}</realm>\n    \
                 <proxy>sip:{p}</proxy>\n    <state>{}</state>\n    <status>{}</status>\n    <uptime-usec>0</uptime-usec>\n  </gateway>\n",
                g.name,
                g.state,
                g.status,
                p = g.proxy
            )
        };
        let head = "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n";
        match name {
            Some(n) => match gws.iter().find(|g| g.name == n) {
                Some(g) => format!("{head}{}", one(g)),
                None => "Invalid Gateway!\n".into(),
            },
            None => format!("{head}<gateways>\n{}</gateways>\n", gws.iter().map(one).collect::<String>()),
        }
    }

    pub(super) fn sofia_gateways(&self, name: Option<&str>) -> String {
        let gws = self.inner.gateways.lock().unwrap();
        match name {
            Some(n) => match gws.iter().find(|g| g.name == n) {
                Some(g) => format!("Name    \t{}\nProxy   \t{}\nState   \t{}\nStatus  \t{}\n", g.name, g.proxy, g.state, g.status),
                None => "Invalid Gateway!\n".into(),
            },
            // mod_sofia.c:2947–2990, field widths included.
            None => {
                let line = "=".repeat(97);
                let mut out = format!(
                    "{:>25}\t{:>32}\t{}\t{:>9}\t{}\t{}\n{line}\n",
                    "Profile::Gateway-Name", "    Data    ", "State", "Ping Time", "IB Calls(F/T)", "OB Calls(F/T)"
                );
                for g in gws.iter() {
                    out.push_str(&format!(
                        "{:>25}\t{:>32}\t{}\t{:6.2}\t0/0\t0/0",
                        format!("external::{}", g.name),
                        format!("sip:{}", g.proxy),
                        g.state,
                        0.0
                    ));
                    if matches!(g.state.as_str(), "FAILED" | "FAIL_WAIT" | "TRYING") {
                        out.push_str(" (retry: 30s)");
                    }
                    out.push('\n');
                }
                let c = gws.len();
                out.push_str(&format!(
                    "{line}\n{c} gateway{}: Inbound(Failed/Total): 0/0,Outbound(Failed/Total):0/0\n",
                    if c == 1 { "" } else { "s" }
                ));
                out
            }
        }
    }
}
