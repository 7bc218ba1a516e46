//! The HTTP listener: warp's routes served on switchboard's own hyper connections, with
//! limits a stranger cannot outlast. warp's server keeps a silent, half-a-line or trickling
//! connection open for ever and takes every connection it is offered, so 1,000 idle
//! connections used up the process's descriptors and calls failed at `accept`. Here:
//!
//! - connections are capped in total (the share of descriptors [`crate::fds`] gives HTTP)
//!   and per client address (an IPv6 client by its /64; at most a quarter of the total), and
//!   one over either cap is answered 503 and closed at once, without a task or a buffer;
//! - FreeSWITCH's own host (where its event socket is) has [`crate::fds::SWITCH_RESERVE`]
//!   places of its own beyond the total and no per-address cap: mod_xml_curl's lookups
//!   (phones registering, calls finding their context) get through a flood of strangers;
//! - a request's head must arrive within the idle time of the connection opening or of its
//!   last answer (hyper's header-read timer, which also runs between kept-alive requests),
//!   so silent and trickling clients are closed;
//! - an answer the client does not read within the write-stall time ends the connection;
//! - a kept-alive connection serves a bounded number of requests.
//!
//! Request bodies are bounded where the API reads them ([`crate::api`]).

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use warp::http::{header, HeaderValue, Request};
use warp::hyper::body::Incoming;

/// Moved to [`crate::peer`]; kept here for callers of the old path.
pub use crate::peer::address_key;

/// The limits the listener applies (from [`crate::config::HttpLimits`], with the total cap
/// from the descriptor budget).
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_connections: usize,
    pub max_per_address: usize,
    /// FreeSWITCH's host: its connections may also take the reserved places.
    pub switch_host: Option<IpAddr>,
    pub switch_reserve: usize,
    pub idle: Duration,
    pub write_stall: Duration,
    pub max_requests: u32,
}

impl Limits {
    /// The configured limits, with at most `max_connections` open at once (the share of
    /// descriptors [`crate::fds::budget`] gives HTTP).
    pub fn new(cfg: &crate::config::HttpLimits, max_connections: usize, switch_host: Option<IpAddr>) -> Limits {
        Limits {
            max_connections,
            // One address never takes more than a quarter of everyone's places.
            max_per_address: cfg.max_connections_per_address.min((max_connections / 4).max(1)),
            switch_host: switch_host.map(address_key),
            switch_reserve: crate::fds::SWITCH_RESERVE,
            idle: cfg.idle(),
            write_stall: cfg.write_stall(),
            max_requests: cfg.max_requests_per_connection,
        }
    }
}

/// The client's address, on every request this listener serves. warp's `addr::remote()`
/// is filled in only by warp's own server; read this with [`client_addr`].
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub SocketAddr);

/// The address of the client that sent the request (None only outside this listener: warp's
/// test requests).
pub fn client_addr() -> impl warp::Filter<Extract = (Option<SocketAddr>,), Error = Infallible> + Clone {
    use warp::Filter;
    warp::ext::optional::<ClientAddr>().map(|a: Option<ClientAddr>| a.map(|a| a.0))
}

/// What the listener has done, for the log and the tests.
#[derive(Debug, Default)]
pub struct Counters {
    pub accepted: AtomicU64,
    pub refused_total: AtomicU64,
    pub refused_address: AtomicU64,
    pub open: AtomicU64,
}

/// Who may open one more connection.
struct Admission {
    total: Arc<Semaphore>,
    /// Places only FreeSWITCH's host may take once the shared ones are gone.
    reserve: Arc<Semaphore>,
    switch_host: Option<IpAddr>,
    per_address: Mutex<HashMap<IpAddr, usize>>,
    max_per_address: usize,
}

/// A connection's place, given back when it closes.
struct Ticket {
    _permit: OwnedSemaphorePermit,
    /// The address counted against its cap (None: FreeSWITCH's host, not counted).
    key: Option<IpAddr>,
    admission: Arc<Admission>,
}

enum Refusal {
    Total,
    Address,
}

impl Admission {
    fn admit(self: &Arc<Self>, peer: IpAddr) -> Result<Ticket, Refusal> {
        let key = address_key(peer);
        if Some(key) == self.switch_host {
            let permit = self.total.clone().try_acquire_owned().or_else(|_| self.reserve.clone().try_acquire_owned()).map_err(|_| Refusal::Total)?;
            return Ok(Ticket { _permit: permit, key: None, admission: self.clone() });
        }
        // The address is counted first: a client at its own cap must not take, even for a
        // moment, one of the total places others need.
        {
            let mut per = self.per_address.lock().expect("admission lock");
            let n = per.entry(key).or_insert(0);
            if *n >= self.max_per_address {
                return Err(Refusal::Address);
            }
            *n += 1;
        }
        match self.total.clone().try_acquire_owned() {
            Ok(permit) => Ok(Ticket { _permit: permit, key: Some(key), admission: self.clone() }),
            Err(_) => {
                self.release(key);
                Err(Refusal::Total)
            }
        }
    }

    fn release(&self, key: IpAddr) {
        let mut per = self.per_address.lock().expect("admission lock");
        if let Some(n) = per.get_mut(&key) {
            *n -= 1;
            if *n == 0 {
                per.remove(&key);
            }
        }
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        if let Some(key) = self.key {
            self.admission.release(key);
        }
    }
}

/// The answer to a connection over a cap: written if the socket takes it at once (it always
/// can, a fresh socket's buffer is empty), then the socket is closed.
const BUSY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nretry-after: 5\r\ncontent-type: text/plain\r\ncontent-length: 28\r\nconnection: close\r\n\r\ntoo many connections; retry\n";

/// Serves `service` (warp's routes, through `warp::service`) on `listener` until `stop`
/// turns true; then stops accepting and lets open requests finish (the caller bounds how
/// long it waits).
pub async fn serve<S>(listener: TcpListener, service: S, limits: Limits, mut stop: watch::Receiver<bool>, counters: Arc<Counters>)
where
    S: tower_service::Service<Request<Incoming>, Response = warp::reply::Response, Error = Infallible> + Clone + Send + Sync + 'static,
    S::Future: Send + 'static,
{
    let admission = Arc::new(Admission {
        total: Arc::new(Semaphore::new(limits.max_connections.max(1))),
        reserve: Arc::new(Semaphore::new(limits.switch_reserve)),
        switch_host: limits.switch_host,
        per_address: Mutex::new(HashMap::new()),
        max_per_address: limits.max_per_address.max(1),
    });
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut said = Said::default();
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = stop.wait_for(|s| *s) => break,
        };
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // EMFILE/ENFILE: the budget should make this impossible; if it happens
                // anyway, waiting lets connections close instead of spinning on the error.
                said.accept_failed(&e);
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let ticket = match admission.admit(peer.ip()) {
            Ok(t) => t,
            Err(why) => {
                let c = match why {
                    Refusal::Total => &counters.refused_total,
                    Refusal::Address => &counters.refused_address,
                };
                c.fetch_add(1, Ordering::Relaxed);
                let _ = stream.try_write(BUSY);
                said.refused(&counters, limits.max_connections, limits.max_per_address);
                continue;
            }
        };
        counters.accepted.fetch_add(1, Ordering::Relaxed);
        counters.open.fetch_add(1, Ordering::Relaxed);
        let _ = stream.set_nodelay(true);
        let svc =
            PerConnection { inner: service.clone(), client: peer, served: Arc::new(AtomicU32::new(0)), max_requests: limits.max_requests.max(1) };
        let io = hyper_util::rt::TokioIo::new(Stalls::new(stream, limits.write_stall));
        let mut builder = warp::hyper::server::conn::http1::Builder::new();
        builder.timer(hyper_util::rt::TokioTimer::new()).header_read_timeout(limits.idle).keep_alive(true);
        let conn = graceful.watch(builder.serve_connection(io, svc));
        let counters = counters.clone();
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(client = %peer, error = %e, "HTTP connection ended");
            }
            counters.open.fetch_sub(1, Ordering::Relaxed);
            drop(ticket);
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// Rate-limited warnings: a flood must not become a flood of log lines.
#[derive(Default)]
struct Said {
    last: Option<Instant>,
}

impl Said {
    fn due(&mut self) -> bool {
        let due = self.last.is_none_or(|t| t.elapsed() >= Duration::from_secs(10));
        if due {
            self.last = Some(Instant::now());
        }
        due
    }
    fn accept_failed(&mut self, e: &std::io::Error) {
        if self.due() {
            tracing::warn!(error = %e, "HTTP accept failed");
        }
    }
    fn refused(&mut self, c: &Counters, max: usize, per_address: usize) {
        if self.due() {
            tracing::warn!(
                open = c.open.load(Ordering::Relaxed),
                refused_at_total_cap = c.refused_total.load(Ordering::Relaxed),
                refused_at_address_cap = c.refused_address.load(Ordering::Relaxed),
                max_connections = max,
                max_per_address = per_address,
                "HTTP connections refused (503): a cap is reached"
            );
        }
    }
}

/// One connection's service: stamps the client's address on each request and closes the
/// connection after its last allowed request.
#[derive(Clone)]
struct PerConnection<S> {
    inner: S,
    client: SocketAddr,
    served: Arc<AtomicU32>,
    max_requests: u32,
}

impl<S> warp::hyper::service::Service<Request<Incoming>> for PerConnection<S>
where
    S: tower_service::Service<Request<Incoming>, Response = warp::reply::Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = warp::reply::Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<warp::reply::Response, Infallible>> + Send>>;

    fn call(&self, mut req: Request<Incoming>) -> Self::Future {
        req.extensions_mut().insert(ClientAddr(self.client));
        let last = self.served.fetch_add(1, Ordering::Relaxed) + 1 >= self.max_requests;
        let fut = self.inner.clone().call(req);
        Box::pin(async move {
            let mut resp = fut.await?;
            if last {
                // hyper reads this header and does not keep the connection alive.
                resp.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            Ok(resp)
        })
    }
}

/// A socket whose writes fail once they have waited `limit` for the client to read: a
/// client that asks and never reads would otherwise hold its connection (and an answer's
/// buffers) for ever. Reads are bounded by hyper's header timer and the API's body reader.
struct Stalls {
    inner: TcpStream,
    limit: Duration,
    stalled: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl Stalls {
    fn new(inner: TcpStream, limit: Duration) -> Stalls {
        Stalls { inner, limit, stalled: None }
    }

    /// After the socket said Pending: fails once the stall has lasted `limit`.
    fn check_stall(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Error> {
        let limit = self.limit;
        let sleep = self.stalled.get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        match sleep.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(std::io::Error::new(std::io::ErrorKind::TimedOut, "the client stopped reading")),
            Poll::Pending => Poll::Pending,
        }
    }

    fn poll_writing<T>(&mut self, cx: &mut Context<'_>, r: Poll<std::io::Result<T>>) -> Poll<std::io::Result<T>> {
        match r {
            Poll::Pending => match self.check_stall(cx) {
                Poll::Ready(e) => Poll::Ready(Err(e)),
                Poll::Pending => Poll::Pending,
            },
            done => {
                self.stalled = None;
                done
            }
        }
    }
}

impl AsyncRead for Stalls {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Stalls {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.poll_writing(cx, r)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let r = Pin::new(&mut self.inner).poll_flush(cx);
        self.poll_writing(cx, r)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let r = Pin::new(&mut self.inner).poll_shutdown(cx);
        self.poll_writing(cx, r)
    }
    fn poll_write_vectored(mut self: Pin<&mut Self>, cx: &mut Context<'_>, bufs: &[std::io::IoSlice<'_>]) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.poll_writing(cx, r)
    }
    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admission_counts_each_address_and_the_total_and_gives_places_back() {
        let adm = Arc::new(Admission {
            total: Arc::new(Semaphore::new(3)),
            reserve: Arc::new(Semaphore::new(2)),
            switch_host: Some("10.0.0.9".parse().unwrap()),
            per_address: Mutex::new(HashMap::new()),
            max_per_address: 2,
        });
        let one: IpAddr = "10.0.0.1".parse().unwrap();
        let two: IpAddr = "10.0.0.2".parse().unwrap();
        let t1 = adm.admit(one).ok().unwrap();
        let _t2 = adm.admit(one).ok().unwrap();
        assert!(matches!(adm.admit(one), Err(Refusal::Address)));
        let _t3 = adm.admit(two).ok().unwrap();
        assert!(matches!(adm.admit(two), Err(Refusal::Total)));
        // A refusal at the total cap leaves the address's count as it was.
        assert_eq!(adm.per_address.lock().unwrap().get(&two), Some(&1));
        // FreeSWITCH's host gets the reserve when everyone's places are gone, and no more.
        let switch: IpAddr = "10.0.0.9".parse().unwrap();
        let (_s1, _s2) = (adm.admit(switch).ok().unwrap(), adm.admit(switch).ok().unwrap());
        assert!(matches!(adm.admit(switch), Err(Refusal::Total)));
        drop(t1);
        assert!(adm.admit(two).is_ok());
    }

    /// warp's own `addr::remote()` is filled in only by warp's server, so under this
    /// listener it is always None: a loopback check or a per-address throttle built on it
    /// would silently see no address. Every filter must use [`client_addr`].
    #[test]
    fn nothing_reads_the_client_address_through_warp() {
        fn walk(dir: &std::path::Path, found: &mut Vec<String>) {
            for e in std::fs::read_dir(dir).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    walk(&p, found);
                } else if p.extension().is_some_and(|x| x == "rs") {
                    let text = std::fs::read_to_string(&p).unwrap();
                    if text.lines().any(|l| l.contains(concat!("warp::addr::", "remote()")) && !l.trim_start().starts_with("//")) {
                        found.push(p.display().to_string());
                    }
                }
            }
        }
        let mut found = Vec::new();
        walk(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut found);
        assert!(found.is_empty(), "use crate::http::client_addr() in {found:?}");
    }
}
