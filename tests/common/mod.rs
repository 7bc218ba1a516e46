#![allow(dead_code)]
pub mod api;
pub mod pbx;
pub mod pdf;
pub mod phone;
pub mod process;
pub mod raw;
pub mod smtp;
pub mod switch;
pub mod xml;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use switchboard::call::CallHandler;
use switchboard::esl::{EslError, OutboundOptions, OutboundSession};
use tokio::sync::watch;

pub struct Server {
    pub addr: SocketAddr,
    pub stop: watch::Sender<bool>,
    pub task: tokio::task::JoinHandle<()>,
    pub stats: Arc<switchboard::server::CallStats>,
}

pub async fn start(handler: Arc<dyn CallHandler>) -> Server {
    let opts = OutboundOptions { connect_timeout: Duration::from_secs(5), linger: Duration::from_secs(30), ..OutboundOptions::default() };
    let srv = switchboard::server::OutboundServer::bind("127.0.0.1:0".parse().unwrap(), handler, opts, 1000).await.unwrap();
    let addr = srv.local_addr().unwrap();
    let stats = srv.stats();
    let (stop, rx) = watch::channel(false);
    let task = tokio::spawn(srv.run(rx, Duration::from_secs(5)));
    Server { addr, stop, task, stats }
}

pub type BoxFut<'a> = Pin<Box<dyn Future<Output = Result<(), EslError>> + Send + 'a>>;

/// A handler from a closure over the session.
pub fn handler<F>(f: F) -> Arc<dyn CallHandler>
where
    F: for<'a> std::ops::Fn(&'a OutboundSession) -> BoxFut<'a> + Send + Sync + 'static,
{
    Arc::new(Fn(f))
}

pub struct Fn<F>(pub F);

impl<F> CallHandler for Fn<F>
where
    F: for<'a> std::ops::Fn(&'a OutboundSession) -> Pin<Box<dyn Future<Output = Result<(), EslError>> + Send + 'a>> + Send + Sync + 'static,
{
    fn handle<'a>(&'a self, s: &'a OutboundSession) -> Pin<Box<dyn Future<Output = Result<(), EslError>> + Send + 'a>> {
        (self.0)(s)
    }
}

pub fn corpus(name: &str) -> Vec<u8> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/esl/frames");
    let path =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).find(|p| p.file_name().unwrap().to_str().unwrap().starts_with(name)).unwrap();
    std::fs::read(path).unwrap()
}

/// Reads from `peer` until the far end closes it (true), or gives up after `within`;
/// anything it sends first is skipped.
pub async fn closed_within(peer: &mut tokio::net::TcpStream, within: Duration) -> bool {
    use tokio::io::AsyncReadExt;
    let mut buf = vec![0u8; 4096];
    tokio::time::timeout(within, async {
        loop {
            match peer.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await
    .is_ok()
}

/// A WAV header (8 kHz, 8-bit, mono PCM) for `data` bytes of samples: what an upload of
/// audio the switch can play starts with. Every byte is ASCII, so it also travels as text.
pub fn wav_header(data: u32) -> Vec<u8> {
    let mut w = b"RIFF".to_vec();
    w.extend_from_slice(&(36 + data).to_le_bytes());
    w.extend_from_slice(b"WAVEfmt \x10\0\0\0\x01\0\x01\0\x40\x1f\0\0\x40\x1f\0\0\x01\0\x08\0data");
    w.extend_from_slice(&data.to_le_bytes());
    w
}
