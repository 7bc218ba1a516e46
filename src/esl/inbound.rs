//! The control connection switchboard keeps to FreeSWITCH's event socket (port 8021):
//! `auth/request` → `auth <password>` → `+OK accepted`, then api, bgapi and events.
//! A [`Supervisor`] keeps one connected, reconnecting with backoff, and publishes whether
//! the switch is online.

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio_util::codec::FramedRead;

use super::codec::EslCodec;
use super::command::{Command, EventFormat};
use super::connection::{Connection, EslError};
use super::frame::ContentType;

#[derive(Clone)]
pub struct InboundClient {
    conn: Connection,
}

impl InboundClient {
    /// Connects and authenticates. The password never appears in logs or errors.
    pub async fn connect(addr: SocketAddr, password: &str, timeout: Duration) -> Result<InboundClient, EslError> {
        let stream = tokio::time::timeout(timeout, TcpStream::connect(addr))
            .await
            .map_err(|_| EslError::Timeout { what: "connecting to FreeSWITCH", after: timeout })?
            .map_err(|e| EslError::Closed { reason: format!("connect {addr}: {e}") })?;
        let _ = stream.set_nodelay(true);
        let (r, mut w) = stream.into_split();
        let mut reader = FramedRead::new(r, EslCodec::new());
        let greeting = tokio::time::timeout(timeout, reader.next())
            .await
            .map_err(|_| EslError::Timeout { what: "the auth/request greeting", after: timeout })?;
        match greeting {
            Some(Ok(f)) if f.content_type == ContentType::AuthRequest => {}
            Some(Ok(f)) if f.content_type == ContentType::RudeRejection => {
                return Err(EslError::Rejected { command: "connect".into(), reply: "access denied by FreeSWITCH's ACL".into() })
            }
            Some(Ok(f)) => return Err(EslError::Protocol(format!("expected auth/request, got {}", f.content_type))),
            Some(Err(e)) => return Err(EslError::Protocol(e.to_string())),
            None => return Err(EslError::Closed { reason: "closed before auth/request".into() }),
        }
        let wire = Command::Auth { password: password.to_string() }.to_wire()?;
        w.write_all(wire.as_bytes()).await.map_err(|e| EslError::Closed { reason: format!("sending auth: {e}") })?;
        let reply = tokio::time::timeout(timeout, reader.next()).await.map_err(|_| EslError::Timeout { what: "the auth reply", after: timeout })?;
        match reply {
            Some(Ok(f)) if f.content_type == ContentType::CommandReply && f.is_ok() => {}
            Some(Ok(f)) => {
                return Err(EslError::Rejected { command: "auth <redacted>".into(), reply: f.reply_text().unwrap_or_default().into_owned() })
            }
            Some(Err(e)) => return Err(EslError::Protocol(e.to_string())),
            None => return Err(EslError::Closed { reason: "closed after auth".into() }),
        }
        Ok(InboundClient { conn: Connection::start(reader, w, None) })
    }

    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    pub async fn api(&self, command: &str) -> Result<String, EslError> {
        self.conn.api(command).await.map(|b| String::from_utf8_lossy(&b).into_owned())
    }

    /// An api command built as data.
    pub async fn api_cmd(&self, cmd: &super::api::ApiCommand) -> Result<String, EslError> {
        self.api(&cmd.line()?).await
    }

    /// A bgapi command built as data.
    pub async fn bgapi_cmd(&self, cmd: &super::api::ApiCommand) -> Result<String, EslError> {
        self.bgapi(&cmd.line()?).await
    }

    /// bgapi with our own Job-UUID; subscribe BACKGROUND_JOB first with [`events`](Self::events).
    pub async fn bgapi(&self, command: &str) -> Result<String, EslError> {
        let ev = self.conn.bgapi(command).await?;
        Ok(ev.body_str().map(|b| b.into_owned()).unwrap_or_default())
    }

    /// `event plain NAME …`
    pub async fn events(&self, names: &[&str]) -> Result<(), EslError> {
        let names = names.iter().map(|s| s.to_string()).collect();
        self.conn.send_ok(&Command::Event { format: EventFormat::Plain, names }).await.map(|_| ())
    }

    pub async fn exit(&self) {
        let _ = self.conn.send(&Command::Exit).await;
        self.conn.shutdown().await;
    }
}

/// Whether the switch is reachable, for the health endpoint and the UI.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "state", rename_all = "lowercase")]
pub enum SwitchState {
    Connecting,
    Online,
    Offline { error: String, retry_in_ms: u64 },
}

/// Keeps one authenticated control connection, reconnecting with exponential backoff
/// (0.5 s doubling to 30 s). A missing FreeSWITCH is not an error for switchboard: it
/// reports the switch offline and keeps trying.
pub struct Supervisor {
    state: watch::Receiver<SwitchState>,
    client: watch::Receiver<Option<InboundClient>>,
}

impl Supervisor {
    pub fn spawn(addr: SocketAddr, password: String, mut shutdown: watch::Receiver<bool>) -> Supervisor {
        let (state_tx, state) = watch::channel(SwitchState::Connecting);
        let (client_tx, client) = watch::channel(None);
        tokio::spawn(async move {
            let mut backoff = Duration::from_millis(500);
            loop {
                if *shutdown.borrow_and_update() {
                    break;
                }
                match InboundClient::connect(addr, &password, Duration::from_secs(5)).await {
                    Ok(c) => {
                        tracing::info!(%addr, "connected to FreeSWITCH's event socket");
                        backoff = Duration::from_millis(500);
                        let mut st = c.connection().status_watch();
                        client_tx.send_replace(Some(c.clone()));
                        state_tx.send_replace(SwitchState::Online);
                        tokio::select! {
                            _ = async { st.wait_for(|s| s.closed.is_some()).await.map(|_| ()) } => {}
                            _ = shutdown.changed() => { c.exit().await; break; }
                        }
                        client_tx.send_replace(None);
                        let why = c.connection().status().closed.unwrap_or_default();
                        tracing::warn!(%addr, reason = %why, "lost FreeSWITCH's event socket");
                    }
                    Err(e) => {
                        tracing::debug!(%addr, error = %e, "FreeSWITCH's event socket is not reachable");
                        state_tx.send_replace(SwitchState::Offline { error: e.to_string(), retry_in_ms: backoff.as_millis() as u64 });
                        tokio::select! {
                            _ = tokio::time::sleep(backoff) => {}
                            _ = shutdown.changed() => break,
                        }
                        backoff = (backoff * 2).min(Duration::from_secs(30));
                        continue;
                    }
                }
                state_tx.send_replace(SwitchState::Offline { error: "connection lost".into(), retry_in_ms: backoff.as_millis() as u64 });
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = shutdown.changed() => break,
                }
            }
        });
        Supervisor { state, client }
    }

    pub fn state(&self) -> SwitchState {
        self.state.borrow().clone()
    }

    pub fn state_watch(&self) -> watch::Receiver<SwitchState> {
        self.state.clone()
    }

    /// The live client, when the switch is online.
    pub fn client(&self) -> Option<InboundClient> {
        self.client.borrow().clone()
    }

    /// The live client as it comes and goes (for tasks that outlive this handle's owner).
    pub fn client_watch(&self) -> watch::Receiver<Option<InboundClient>> {
        self.client.clone()
    }
}
