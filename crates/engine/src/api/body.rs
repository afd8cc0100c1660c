//! Bodies that bridge hyper's async world and the engine's blocking one:
//! a response body fed from a channel, and a request body read as
//! `std::io::Read`; and a response body of shared pieces.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, Incoming};

/// A response body whose chunks come from a channel; it ends when every
/// sender is gone.
#[derive(Debug)]
pub struct ChannelBody(pub tokio::sync::mpsc::Receiver<Bytes>);

impl Body for ChannelBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.0.poll_recv(cx).map(|c| c.map(|b| Ok(Frame::data(b))))
    }
}

/// A response body of pieces sent as they are (shared ones, such as the
/// daemon's views, are never copied for the request).
#[derive(Debug)]
pub struct Pieces {
    pieces: std::collections::VecDeque<Bytes>,
    left: u64,
}

impl Pieces {
    pub fn new(pieces: Vec<Bytes>) -> Self {
        let left = pieces.iter().map(|p| p.len() as u64).sum();
        Pieces {
            pieces: pieces.into_iter().filter(|p| !p.is_empty()).collect(),
            left,
        }
    }
}

impl Body for Pieces {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let next = self.pieces.pop_front();
        if let Some(piece) = &next {
            self.left -= piece.len() as u64;
        }
        Poll::Ready(next.map(|p| Ok(Frame::data(p))))
    }

    fn is_end_stream(&self) -> bool {
        self.pieces.is_empty()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        hyper::body::SizeHint::with_exact(self.left)
    }
}

/// The sending side: `send` blocks (call it off the async runtime) and
/// fails once the client has gone.
#[derive(Debug, Clone)]
pub struct Sender(pub tokio::sync::mpsc::Sender<Bytes>);

impl Sender {
    pub fn send(&self, chunk: impl Into<Bytes>) -> bool {
        self.0.blocking_send(chunk.into()).is_ok()
    }

    pub fn is_closed(&self) -> bool {
        self.0.is_closed()
    }
}

pub fn channel() -> (Sender, ChannelBody) {
    let (tx, rx) = tokio::sync::mpsc::channel(64);
    (Sender(tx), ChannelBody(rx))
}

/// A request body read synchronously: chunks are forwarded by a task on
/// the runtime.
#[derive(Debug)]
pub struct BodyReader {
    rx: std::sync::mpsc::Receiver<std::io::Result<Bytes>>,
    current: Bytes,
}

impl BodyReader {
    pub fn new(mut body: Incoming) -> Self {
        let (tx, rx) = std::sync::mpsc::sync_channel(16);
        tokio::spawn(async move {
            loop {
                match body.frame().await {
                    None => break,
                    Some(Ok(frame)) => {
                        if let Ok(data) = frame.into_data() {
                            let tx = tx.clone();
                            // The reader may be slow (it writes to disk).
                            let sent =
                                tokio::task::spawn_blocking(move || tx.send(Ok(data)).is_ok())
                                    .await
                                    .unwrap_or(false);
                            if !sent {
                                break;
                            }
                        }
                    }
                    Some(Err(e)) => {
                        let _ = tx.send(Err(std::io::Error::other(e)));
                        break;
                    }
                }
            }
        });
        BodyReader {
            rx,
            current: Bytes::new(),
        }
    }
}

impl std::io::Read for BodyReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.recv() {
                Ok(Ok(b)) => self.current = b,
                Ok(Err(e)) => return Err(e),
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}
