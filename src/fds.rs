//! The process's file descriptors, shared out so that HTTP clients can never take the ones
//! calls need. Every call is one socket from FreeSWITCH; every HTTP connection is a socket
//! and, while a request runs, maybe one file (a static file, an upload being written). The
//! rest (SQLite's pools and WAL, the control connection to FreeSWITCH, SMTP, logs) is a small
//! fixed set, kept aside as [`RESERVED`]. With the split made at start, an HTTP flood is
//! refused at HTTP's own cap while `accept` on the call listener still finds descriptors.

/// Descriptors kept for everything that is neither a call nor an HTTP connection: the
/// SQLite pools (8 + readers, each with its WAL and shared memory), the control connection,
/// the listeners, mail, the log and the runtime's own.
pub const RESERVED: u64 = 128;
/// What one HTTP connection may hold at once: its socket and a file.
pub const PER_HTTP_CONNECTION: u64 = 2;
/// HTTP connections kept for FreeSWITCH's own host (mod_xml_curl's directory and dialplan
/// lookups), beyond what everyone else may take: a flood of strangers must not stop phones
/// registering or calls finding their context.
pub const SWITCH_RESERVE: usize = 32;
/// HTTP keeps at least this many connections (health checks, an admin's browser), whatever
/// the limit, so that a box short of descriptors can still be looked at.
pub const MIN_HTTP_CONNECTIONS: usize = 16;

/// RLIMIT_NOFILE as found at start and as left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoFile {
    pub was: u64,
    pub soft: u64,
    pub hard: u64,
}

/// Raises the soft limit on open files to the hard one: the soft default (1,024 on most
/// distributions) is far below what a box carrying thousands of calls needs, and only the
/// hard limit is the administrator's decision.
pub fn raise_nofile() -> std::io::Result<NoFile> {
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit and setrlimit only read and write the struct passed.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let was = lim.rlim_cur as u64;
    if lim.rlim_cur < lim.rlim_max {
        let raised = libc::rlimit { rlim_cur: lim.rlim_max, rlim_max: lim.rlim_max };
        // Refused (a hard limit of RLIM_INFINITY on some systems): the soft limit stands.
        // SAFETY: as above.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            lim = raised;
        }
    }
    Ok(NoFile { was, soft: lim.rlim_cur as u64, hard: lim.rlim_max as u64 })
}

/// How the descriptors are shared out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Calls handled at once (at most the configured `max_calls`).
    pub calls: usize,
    /// HTTP connections open at once (at most the configured cap).
    pub http: usize,
}

/// Splits `nofile` descriptors between calls and HTTP. When both configured caps fit, both
/// stand. When they do not, HTTP gets at most an eighth of what is left after
/// [`RESERVED`] and [`SWITCH_RESERVE`] (never fewer than [`MIN_HTTP_CONNECTIONS`]) and calls
/// the rest: calls are what the box is for, and what a stranger can reach is HTTP.
pub fn budget(nofile: u64, max_calls: usize, max_http: usize) -> Budget {
    let usable = nofile.saturating_sub(RESERVED + PER_HTTP_CONNECTION * SWITCH_RESERVE as u64);
    let wanted = max_calls as u64 + PER_HTTP_CONNECTION * max_http as u64;
    if wanted <= usable {
        return Budget { calls: max_calls, http: max_http };
    }
    let http = max_http.min(((usable / 8 / PER_HTTP_CONNECTION) as usize).max(MIN_HTTP_CONNECTIONS));
    let calls = max_calls.min(usable.saturating_sub(PER_HTTP_CONNECTION * http as u64) as usize).max(1);
    Budget { calls, http }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_caps_stand_when_they_fit() {
        assert_eq!(budget(1 << 20, 10_000, 1024), Budget { calls: 10_000, http: 1024 });
        assert_eq!(budget(128 + 64 + 100 + 2 * 10, 100, 10), Budget { calls: 100, http: 10 });
    }

    #[test]
    fn a_short_limit_keeps_calls_first_and_never_overcommits() {
        for nofile in [256u64, 512, 1024, 4096, 20_000] {
            let b = budget(nofile, 10_000, 1024);
            let used = RESERVED + b.calls as u64 + PER_HTTP_CONNECTION * (b.http + SWITCH_RESERVE) as u64;
            assert!(used <= nofile, "{nofile}: {b:?} uses {used}");
            assert!(b.http >= MIN_HTTP_CONNECTIONS, "{nofile}: {b:?}");
            let usable = nofile - RESERVED - PER_HTTP_CONNECTION * SWITCH_RESERVE as u64;
            // Past the smallest limits, where HTTP's floor of 16 weighs most.
            assert!(nofile < 512 || b.calls == 10_000 || b.calls as u64 >= usable * 3 / 4, "{nofile}: calls keep most: {b:?}");
        }
        assert_eq!(budget(1024, 10_000, 1024), Budget { calls: 728, http: 52 });
        assert_eq!(budget(512, 10_000, 1024), Budget { calls: 280, http: 20 });
        assert_eq!(budget(256, 10_000, 1024), Budget { calls: 32, http: 16 });
    }

    #[test]
    fn the_soft_limit_is_raised_to_the_hard_one() {
        let n = raise_nofile().expect("getrlimit");
        assert_eq!(n.soft, n.hard, "Linux raises it");
        assert!(n.was <= n.soft);
    }
}
