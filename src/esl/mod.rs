//! The FreeSWITCH event-socket protocol, both directions, and nothing PBX-specific.
//!
//! - [`frame`]: the nom grammar of FreeSWITCH → client frames; headers; percent-decoding.
//! - [`codec`]: the tokio-util codec over it.
//! - [`command`]: client → FreeSWITCH commands as data, encoded to exact bytes.
//! - [`event`]: events (plain, json, xml) and the outbound channel data.
//! - [`connection`]: reader task, FIFO replies, execute/bgapi waiters, hangup detection.
//! - [`outbound`]: one controlled call on an outbound socket.
//! - [`inbound`]: the control connection to FreeSWITCH, with a reconnecting supervisor.
//! - [`switch_side`]: the switch's half of the wire, spoken by the simulator.
//! - [`dump`]: frames as JSON lines, for `switchboard esl decode`.

pub mod api;
pub mod codec;
pub mod command;
pub mod connection;
pub mod dump;
pub mod event;
pub mod frame;
pub mod inbound;
pub mod outbound;
pub mod switch_side;

pub use api::{ApiCommand, ConferenceCmd, Leg};
pub use codec::{CodecError, EslCodec};
pub use command::{Command, CommandError, EventFormat, SendMsg};
pub use connection::{Connection, EslError, Events};
pub use event::{ChannelData, Event};
pub use frame::{ContentType, Frame, FrameError, Headers};
pub use outbound::{OutboundOptions, OutboundSession};
