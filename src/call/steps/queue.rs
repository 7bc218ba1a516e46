//! A call queue: the caller waits in line with the queue's music while the engine
//! ([`crate::acd`]) offers it to agents. Each offer is this call's own bridge to the
//! agents' phones, with the same music as its ringback, so the caller hears music from the
//! first moment to the agent's hello, and its keys are read all the while (the exit key).

use std::collections::HashMap;
use std::time::Duration;

use tokio::time::{sleep_until, Instant};
use tracing::info;

use crate::acd::{AgentSpec, Left, Offer, OfferEnd, Outcome, QueueSpec, Refused, Status, Ticket};
use crate::call::channel::Channel;
use crate::call::state::{Call, Next, RouteError, QUEUE_AGENT_VAR};
use crate::call::steps::follow_me::{self, Reached};
use crate::esl::ApiCommand;
use crate::pbx::config::{AgentPhones, CallQueue, FollowMe, OutboundRoute};
use crate::pbx::dialstring;
use crate::store::cdr::QueueVisit;

/// FreeSWITCH's own music stream (vanilla local_stream.conf), for a tenant with none.
const DEFAULT_MUSIC: &str = "local_stream://moh";
/// How long the music may take to stop before the break is sent again.
const BREAK_AGAIN: Duration = Duration::from_millis(250);
/// Endless silence (`silence_stream://-1`, switch_ivr_play_file), when no music plays.
const SILENCE: &str = "silence_stream://-1";

/// The engine's view of `q`, with its agents' phones.
pub(crate) fn spec(q: &CallQueue, phones: &[AgentPhones], tenant: i64) -> QueueSpec {
    let agents = q
        .agents
        .iter()
        .enumerate()
        .filter_map(|(position, a)| {
            let p = phones.iter().find(|p| p.user_id == a.user_id)?;
            Some(AgentSpec {
                user_id: a.user_id,
                name: p.name.clone(),
                tier: a.tier.clamp(1, 9) as u8,
                position: position as u32,
                extensions: p.extensions.iter().map(|(n, _)| n.clone()).collect(),
                dnd: !p.extensions.is_empty() && p.extensions.iter().all(|(_, dnd)| *dnd),
                status: Status::parse(&p.status).unwrap_or(Status::LoggedOut),
            })
        })
        .collect();
    let secs = |v: i64| v.max(0) as u64;
    QueueSpec {
        id: q.id,
        tenant_id: tenant,
        strategy: crate::acd::strategy::Strategy::parse(&q.strategy),
        agent_timeout_secs: secs(q.agent_timeout).max(1),
        wrap_up_secs: secs(q.wrap_up),
        reject_delay_secs: secs(q.reject_delay),
        max_no_answer: secs(q.max_no_answer) as u32,
        max_callers: secs(q.max_callers) as usize,
        tier_escalation_secs: secs(q.tier_escalation),
        progressive_step_secs: secs(q.progressive_step).max(1),
        service_level_secs: secs(q.service_level),
        agents,
    }
}

/// How one phone of an offered agent is rung when the queue follows the agents' own rules
/// (`follow_agent_rules`): where its forward-always sends it, or its follow-me. A phone
/// with neither, or any phone when the queue does not follow them, rings itself.
pub(crate) enum Reach {
    Forward(Reached),
    FollowMe(FollowMe, Vec<Reached>),
}

/// The bridge that rings an offer's agents: every phone of every agent at once, each leg
/// held back by its agent's delay (ringing progressively), ringing the offer's time, and
/// tagged with its agent ([`QUEUE_AGENT_VAR`]) so whichever leg answers names them.
pub(crate) fn dial(offer: &Offer, domain: &str, reach: &HashMap<String, Reach>, routes: &[OutboundRoute]) -> String {
    let mut legs = Vec::new();
    for a in &offer.agents {
        let tag = format!("{QUEUE_AGENT_VAR}={}", a.user_id);
        for e in &a.extensions {
            let mut vars = vec![format!("leg_timeout={}", offer.timeout_secs.saturating_sub(a.delay_secs).max(1))];
            if a.delay_secs > 0 {
                vars.push(format!("leg_delay_start={}", a.delay_secs));
            }
            vars.push(tag.clone());
            let endpoint = match reach.get(e) {
                Some(Reach::FollowMe(fm, reached)) => {
                    // The follow-me's own cascade, its delays counted from the offer.
                    legs.extend(follow_me::legs(fm, reached, routes, domain, std::slice::from_ref(&tag)).0);
                    continue;
                }
                Some(Reach::Forward(Reached::Phone(x))) if x.dnd => {
                    info!(extension = %e, to = %x.number, "agent's forward skipped: do not disturb");
                    continue;
                }
                Some(Reach::Forward(Reached::Phone(x))) => dialstring::user(&x.number, domain),
                Some(Reach::Forward(Reached::Outside(n))) => {
                    let Some((trunk_vars, endpoint)) = follow_me::outside_leg(routes, n) else { continue };
                    vars.extend(trunk_vars);
                    endpoint
                }
                // A forward to what is not a phone (a ring group, an IVR) cannot be a leg:
                // the agent's own phone rings.
                Some(Reach::Forward(Reached::Other(_))) | None => dialstring::user(e, domain),
            };
            legs.push(dialstring::leg(&vars, &endpoint));
        }
    }
    dialstring::at_once(&legs)
}

/// Where each phone of the offer's agents is reached, by the agents' own rules, and the
/// tenant's outbound routes when one of them is outside.
fn agents_rules(
    st: &crate::store::Store,
    t: crate::store::TenantId,
    offer: &Offer,
) -> Result<(HashMap<String, Reach>, Vec<OutboundRoute>), crate::store::StoreError> {
    let mut reach = HashMap::new();
    let mut routes = Vec::new();
    for e in offer.agents.iter().flat_map(|a| &a.extensions) {
        let Some(x) = st.extension_by_number(t, e)? else { continue };
        let how = if !x.forward_always.is_empty() {
            let (mut r, rs) = follow_me::reach(st, t, std::slice::from_ref(&x.forward_always))?;
            routes = if rs.is_empty() { routes } else { rs };
            Reach::Forward(r.remove(0))
        } else if let Some(fm) = st.follow_me(t, x.id)? {
            let numbers: Vec<String> = fm.destinations.iter().map(|d| d.number.clone()).collect();
            let (r, rs) = follow_me::reach(st, t, &numbers)?;
            routes = if rs.is_empty() { routes } else { rs };
            Reach::FollowMe(fm, r)
        } else {
            continue;
        };
        reach.insert(e.clone(), how);
    }
    Ok((reach, routes))
}

/// How a bridge that did not connect the caller ended, for the engine: one agent's busy
/// or rejecting phone is that agent's refusal; anything else rang out or failed.
fn unanswered(cause: &str, offer: &Offer) -> OfferEnd {
    match cause {
        "USER_BUSY" | "CALL_REJECTED" if offer.agents.len() == 1 => OfferEnd::Rejected { user_id: offer.agents[0].user_id },
        "NO_ANSWER" | "ALLOTTED_TIMEOUT" | "NO_USER_RESPONSE" | "ORIGINATOR_CANCEL" | "USER_BUSY" | "CALL_REJECTED" => OfferEnd::NoAnswer,
        _ => OfferEnd::Failed,
    }
}

/// What ended a stretch of music.
enum Wake {
    /// The switch ended it (the caller hung up; or a break that was not ours).
    Ended,
    Offer(Offer),
    TimedOut,
    Announce,
    Exit,
}

/// `priority`: the route's (callers of a higher one go ahead in line).
pub(crate) async fn run<C: Channel>(call: &mut Call<'_, C>, id: i64, priority: i64) -> Result<Next, RouteError> {
    let q = call.read(move |st, t| st.call_queue(t, id)).await?;
    let users: Vec<i64> = q.agents.iter().map(|a| a.user_id).collect();
    let phones = call.read(move |st, t| st.queue_agents(t, &users)).await?;
    let spec = spec(&q, &phones, call.tenant.id);
    let entered_at = crate::store::now();
    let mut ticket = match call.env.acd.join(&spec, &call.caller.number, priority, q.wait_without_agents) {
        Ok(t) => t,
        Err(refused) => {
            call.cdr.queue_visits.push(QueueVisit { queue_id: q.id, entered_at, wait: 0, agent_id: None, outcome: refused.into() });
            let (why, next) = match refused {
                Refused::Full => ("full", q.full_destination),
                Refused::NoAgents => ("no agents", q.no_agents_destination),
            };
            info!(queue = %q.name, why, "caller turned away");
            call.path.push(format!("queue {}: {why}", q.name));
            return Ok(Next::Go(next));
        }
    };
    call.path.push(format!("queue {}", q.name));
    let started = Instant::now();
    let done = in_line(call, &mut ticket, &q, started).await;
    // The visit as the call's record keeps it, whatever ended it (an error here is the
    // caller gone mid-command: abandoned, as the ticket's drop counts it).
    let left = done.as_ref().ok().and_then(|(_, left)| *left);
    let (outcome, waited, agent_id) = match ticket.answered() {
        Some((agent, waited)) => (Outcome::Answered, waited, Some(agent)),
        None => (left.map_or(Outcome::Abandoned, Outcome::from), started.elapsed(), None),
    };
    // In the switch's seconds (a test's are shorter, as its simulator's are).
    let wait = (waited.as_secs_f64() / call.env.second.as_secs_f64()).round() as i64;
    call.cdr.queue_visits.push(QueueVisit { queue_id: q.id, entered_at, wait, agent_id, outcome });
    if let Some(how) = left {
        ticket.leave(how);
    }
    done.map(|(next, _)| next)
}

/// The caller in line until an agent's conversation with it ends (`Next::Done`) or it
/// leaves the line (how, and where to).
async fn in_line<C: Channel>(
    call: &mut Call<'_, C>,
    ticket: &mut Ticket,
    q: &CallQueue,
    started: Instant,
) -> Result<(Next, Option<Left>), RouteError> {
    call.answer().await?;
    let mut music = match q.moh_class_id.or(call.tenant.moh_class) {
        Some(class) => crate::pbx::plan::moh_stream(call.tenant.id, class),
        None => DEFAULT_MUSIC.to_string(),
    };
    // Once, for every offer: the agents see the caller; the conversation's end ends the
    // call; the caller hears the music while agents ring (transfer_ringback is an answered
    // call's ringback, switch_ivr_originate.c); no key ends the music by itself.
    let mut vars = call.caller_id();
    vars.push(("continue_on_fail", "true".into()));
    vars.push(("hangup_after_bridge", "true".into()));
    vars.push(("transfer_ringback", music.clone()));
    vars.push(("playback_terminators", "none".into()));
    vars.extend(call.hold_music_vars(q.moh_class_id));
    call.ch.set(&vars).await?;
    // In the switch's seconds (a test's are shorter, as its simulator's are).
    let second = call.env.second;
    let deadline = started + second * q.max_wait.max(1) as u32;
    let every = (q.announce_every > 0).then(|| second * q.announce_every as u32);
    let mut announce_at = every.map(|e| started + e);
    loop {
        if call.ch.hung_up() {
            // The ticket's drop counts the caller as abandoned, with its wait.
            call.cdr.disposition = "no_answer";
            return Ok((Next::Done, None));
        }
        let since = Instant::now();
        match wait_in_line(call, ticket, &music, &q.exit_key, deadline, announce_at).await? {
            Wake::Ended => {
                // Music that stops at once is music the switch cannot play (a class it has
                // no stream for): its own default, then endless silence, never a spin.
                if since.elapsed() < Duration::from_secs(1) && !call.ch.hung_up() {
                    info!(%music, "queue music did not play");
                    if music == SILENCE {
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                    music = if music == DEFAULT_MUSIC || music == SILENCE { SILENCE } else { DEFAULT_MUSIC }.to_string();
                }
            }
            Wake::TimedOut => {
                info!(queue = %q.name, "caller waited the queue's longest");
                call.path.push("queue timeout".into());
                return Ok((Next::Go(q.timeout_destination.clone()), Some(Left::TimedOut)));
            }
            Wake::Exit => {
                call.path.push("queue exit key".into());
                return Ok((Next::Go(q.exit_destination.clone()), Some(Left::Exited)));
            }
            Wake::Announce => {
                announce(call, ticket, q).await;
                announce_at = every.map(|e| Instant::now() + e);
            }
            Wake::Offer(offer) => {
                if offered(call, ticket, offer, q.follow_agent_rules).await? {
                    return Ok((Next::Done, None));
                }
            }
        }
    }
}

/// Plays the music until an offer, the wait's end, an announcement, the exit key or the
/// hangup; the music is stopped before whatever comes next.
async fn wait_in_line<C: Channel>(
    call: &mut Call<'_, C>,
    ticket: &mut Ticket,
    music: &str,
    exit_key: &str,
    deadline: Instant,
    announce_at: Option<Instant>,
) -> Result<Wake, RouteError> {
    let ch = call.ch;
    // An agent free at once: straight to the offer (the caller hears the music as its
    // ringback), with no music to start and stop first.
    if let Some(offer) = ticket.try_offer() {
        return Ok(Wake::Offer(offer));
    }
    let play = ch.play(music);
    tokio::pin!(play);
    let wake = loop {
        tokio::select! {
            r = &mut play => {
                // A caller who hangs up ends the music with an error: the line's loop
                // records the abandon; any other error ends the call.
                if r.is_err() && !ch.hung_up() {
                    r?;
                }
                return Ok(Wake::Ended);
            }
            Some(offer) = ticket.offer() => break Wake::Offer(offer),
            _ = sleep_until(deadline) => break Wake::TimedOut,
            _ = async { match announce_at { Some(at) => sleep_until(at).await, None => std::future::pending().await } } => break Wake::Announce,
            Some(ev) = call.events.recv() => {
                let own = ev.unique_id().is_some_and(|u| u == ch.uuid());
                if own && ev.is("DTMF") && !exit_key.is_empty() && ev.get("DTMF-Digit").as_deref() == Some(exit_key) {
                    break Wake::Exit;
                }
            }
        }
    };
    // Not `all`: that would also drop what is queued after the music (mod_commands.c
    // break_function); the playback then completes as played. A break that reaches the
    // switch before it has started the music is lost (seen on 1.10.12: the playback then
    // plays on), so it is sent again until the music has ended.
    loop {
        let _ = ch.api_ok(&ApiCommand::UuidBreak { uuid: ch.uuid().to_string(), all: false }).await;
        if tokio::time::timeout(BREAK_AGAIN, &mut play).await.is_ok() || ch.hung_up() {
            break;
        }
    }
    Ok(wake)
}

/// Rings an offer's agents. True when the call is over: an agent answered (and the
/// conversation has ended, `hangup_after_bridge`), or the caller hung up while it rang.
async fn offered<C: Channel>(call: &mut Call<'_, C>, ticket: &Ticket, offer: Offer, follow_rules: bool) -> Result<bool, RouteError> {
    let (reach, routes) = if follow_rules {
        let o = offer.clone();
        call.read(move |st, t| agents_rules(st, t, &o)).await?
    } else {
        Default::default()
    };
    let dialstring = dial(&offer, &call.tenant.sip_domain, &reach, &routes);
    call.in_call.members_ringing = offer.agents.iter().flat_map(|a| a.extensions.iter().cloned()).collect();
    let reporter = ticket.reporter();
    call.in_call.on_answer = Some(Box::new(move |agent| reporter.answered(agent)));
    call.ch.set(&[("call_timeout", offer.timeout_secs.to_string())]).await?;
    let bridged = call.bridge(&dialstring, false).await;
    call.in_call.on_answer = None;
    call.in_call.members_ringing.clear();
    match bridged? {
        None => {
            // The bridge connected (`SUCCESS`; not the caller giving up while it rang, which
            // the bridge records as no answer) even if the caller hung up the moment after.
            if ticket.agent().is_none() && call.cdr.disposition == "answered" {
                // Connected without a member's answer seen (a phone's own forwarding, or a
                // caller who hung up as the agent answered): the first agent offered is the
                // one the caller reached.
                if let Some(first) = offer.agents.first() {
                    ticket.offer_ended(OfferEnd::Answered { user_id: first.user_id });
                }
            }
            if ticket.agent().is_some() {
                call.cdr.disposition = "answered";
            }
            Ok(true)
        }
        Some(cause) => {
            info!(%cause, agents = offer.agents.len(), "queue offer not answered");
            ticket.offer_ended(unanswered(&cause, &offer));
            Ok(false)
        }
    }
}

/// "You are number N in line", then the estimated wait when there is one to give.
async fn announce<C: Channel>(call: &mut Call<'_, C>, ticket: &Ticket, q: &CallQueue) {
    let Some((position, _)) = ticket.position() else { return };
    if q.announce_position {
        let _ = call.ch.play("ivr/ivr-you_are_number.wav").await;
        let _ = call.ch.run("say", &format!("en number pronounced {position}")).await;
        let _ = call.ch.play("ivr/ivr-in_line.wav").await;
    }
    if q.announce_wait {
        if let Some(wait) = ticket.estimated_wait() {
            // Whole minutes, at least one: a caller is told a wait, not a stopwatch.
            let secs = wait.as_secs().div_ceil(60).max(1) * 60;
            let _ = call.ch.run("say", &format!("en time_measurement pronounced {secs}")).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acd::Offered;

    #[test]
    fn an_offer_rings_every_phone_of_every_agent_with_its_delay() {
        let offer = Offer {
            agents: vec![
                Offered { user_id: 1, extensions: vec!["1001".into(), "1011".into()], delay_secs: 0 },
                Offered { user_id: 2, extensions: vec!["1002".into()], delay_secs: 5 },
            ],
            timeout_secs: 25,
        };
        assert_eq!(
            dial(&offer, "acme.test", &HashMap::new(), &[]),
            "[leg_timeout=25,sb_queue_agent=1]user/1001@acme.test,[leg_timeout=25,sb_queue_agent=1]user/1011@acme.test,\
             [leg_timeout=20,leg_delay_start=5,sb_queue_agent=2]user/1002@acme.test"
        );
    }

    #[test]
    fn a_single_agent_s_busy_phone_is_a_refusal_and_several_ringing_out_is_no_answer() {
        let one = Offer { agents: vec![Offered { user_id: 4, extensions: vec!["1004".into()], delay_secs: 0 }], timeout_secs: 20 };
        assert_eq!(unanswered("USER_BUSY", &one), OfferEnd::Rejected { user_id: 4 });
        assert_eq!(unanswered("NO_ANSWER", &one), OfferEnd::NoAnswer);
        assert_eq!(unanswered("DESTINATION_OUT_OF_ORDER", &one), OfferEnd::Failed);
        let two = Offer { agents: vec![one.agents[0].clone(), Offered { user_id: 5, extensions: vec![], delay_secs: 0 }], timeout_secs: 20 };
        assert_eq!(unanswered("CALL_REJECTED", &two), OfferEnd::NoAnswer);
    }
}
