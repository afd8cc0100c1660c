//! The `vessel` CLI's client of vesseld's Docker Engine API (a unix
//! socket; `--host` / `VESSEL_HOST`).

use std::path::PathBuf;

use anyhow::{anyhow, bail, Context};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::UnixStream;

/// The API version the CLI speaks.
const VERSION: &str = "v1.45";

/// Default socket of a local vesseld.
pub const DEFAULT_HOST: &str = "unix:///run/vessel/vessel.sock";

#[derive(Debug, Clone)]
pub struct Client {
    socket: PathBuf,
}

type ReqBody = http_body_util::combinators::BoxBody<Bytes, std::io::Error>;

impl Client {
    /// `host` is `unix:///path` (or a bare path).
    pub fn new(host: &str) -> anyhow::Result<Self> {
        let path = host.strip_prefix("unix://").unwrap_or(host);
        if host.contains("://") && !host.starts_with("unix://") {
            bail!("--host {host:?}: only unix:// sockets are supported");
        }
        Ok(Client {
            socket: PathBuf::from(path),
        })
    }

    async fn send(&self, req: Request<ReqBody>) -> anyhow::Result<Response<Incoming>> {
        let stream = UnixStream::connect(&self.socket).await.with_context(|| {
            format!(
                "cannot connect to vesseld at {} (is it running?)",
                self.socket.display()
            )
        })?;
        let (mut sender, conn) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            let _ = conn.with_upgrades().await;
        });
        Ok(sender.send_request(req).await?)
    }

    fn request(method: &str, path: &str, body: ReqBody, content_type: &str) -> Request<ReqBody> {
        Request::builder()
            .method(method)
            .uri(format!("http://vessel/{VERSION}{path}"))
            .header("Host", "vessel")
            .header("Content-Type", content_type)
            .body(body)
            .expect("a valid request")
    }

    /// Sends a request; an error status becomes an error with the
    /// daemon's message.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<(StatusCode, Bytes)> {
        let bytes = body.map(|b| b.to_string()).unwrap_or_default();
        let req = Self::request(
            method,
            path,
            Full::new(Bytes::from(bytes))
                .map_err(|e| match e {})
                .boxed(),
            "application/json",
        );
        let resp = self.send(req).await?;
        let status = resp.status();
        let body = resp.into_body().collect().await?.to_bytes();
        check(status, &body)?;
        Ok((status, body))
    }

    /// `call`, with the answer as JSON.
    pub async fn json(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let (_, bytes) = self.call(method, path, body).await?;
        if bytes.is_empty() {
            return Ok(Value::Null);
        }
        Ok(serde_json::from_slice(&bytes)?)
    }

    /// Sends a request without a body and returns the answer once its
    /// headers are in; an error status becomes an error with the daemon's
    /// message.
    async fn open(
        &self,
        method: &str,
        path: &str,
        header: Option<(&str, &str)>,
    ) -> anyhow::Result<Response<Incoming>> {
        let mut req = Self::request(
            method,
            path,
            Full::new(Bytes::new()).map_err(|e| match e {}).boxed(),
            "application/json",
        );
        if let Some((name, value)) = header {
            req.headers_mut().insert(
                hyper::header::HeaderName::from_bytes(name.as_bytes())?,
                hyper::header::HeaderValue::from_str(value)?,
            );
        }
        let resp = self.send(req).await?;
        let status = resp.status();
        if !status.is_success() {
            let body = resp.into_body().collect().await?.to_bytes();
            check(status, &body)?;
            anyhow::bail!("the daemon answered {status}");
        }
        Ok(resp)
    }

    /// Sends a request and waits for the answer's headers only; the
    /// returned task yields its JSON body when it comes.
    pub async fn pending_json(
        &self,
        method: &str,
        path: &str,
    ) -> anyhow::Result<tokio::task::JoinHandle<anyhow::Result<Value>>> {
        let resp = self.open(method, path, None).await?;
        Ok(tokio::spawn(async move {
            let body = resp.into_body().collect().await?.to_bytes();
            Ok(serde_json::from_slice(&body)?)
        }))
    }

    /// Sends `data` as the body (read in chunks from a blocking reader).
    pub async fn upload(
        &self,
        path: &str,
        data: impl std::io::Read + Send + 'static,
    ) -> anyhow::Result<Bytes> {
        self.upload_with("POST", path, data).await
    }

    /// The value of the answer's header `name` to a `HEAD` of `path`;
    /// `None` for a 404.
    pub async fn head(&self, path: &str, name: &str) -> anyhow::Result<Option<String>> {
        let req = Self::request(
            "HEAD",
            path,
            Full::new(Bytes::new()).map_err(|e| match e {}).boxed(),
            "application/json",
        );
        let resp = self.send(req).await?;
        match resp.status() {
            StatusCode::NOT_FOUND => Ok(None),
            s if s.is_success() => Ok(resp
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(String::from)),
            s => anyhow::bail!("the daemon answered {s} to HEAD {path}"),
        }
    }

    /// [`Client::upload`] with `method`.
    pub async fn upload_with(
        &self,
        method: &str,
        path: &str,
        mut data: impl std::io::Read + Send + 'static,
    ) -> anyhow::Result<Bytes> {
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<Frame<Bytes>, std::io::Error>>(8);
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 256 * 1024];
            loop {
                match data.read(&mut buf) {
                    Ok(0) => return,
                    Ok(n) => {
                        if tx
                            .blocking_send(Ok(Frame::data(Bytes::copy_from_slice(&buf[..n]))))
                            .is_err()
                        {
                            return;
                        }
                    }
                    Err(e) => {
                        let _ = tx.blocking_send(Err(e));
                        return;
                    }
                }
            }
        });
        let stream = tokio_stream(rx);
        let req = Self::request(
            method,
            path,
            StreamBody::new(stream).boxed(),
            "application/x-tar",
        );
        let resp = self.send(req).await?;
        let status = resp.status();
        let body = resp.into_body().collect().await?.to_bytes();
        check(status, &body)?;
        Ok(body)
    }

    /// Streams the answer's body to `each` chunk by chunk, until it ends
    /// or `each` returns false.
    pub async fn stream(
        &self,
        method: &str,
        path: &str,
        each: impl FnMut(&[u8]) -> bool,
    ) -> anyhow::Result<()> {
        self.stream_with(method, path, None, each).await
    }

    /// [`Client::stream`] of a request carrying one more header.
    pub async fn stream_with(
        &self,
        method: &str,
        path: &str,
        header: Option<(&str, &str)>,
        mut each: impl FnMut(&[u8]) -> bool,
    ) -> anyhow::Result<()> {
        let mut body = self.open(method, path, header).await?.into_body();
        while let Some(frame) = body.frame().await {
            if let Ok(data) = frame?.into_data() {
                if !each(&data) {
                    break;
                }
            }
        }
        Ok(())
    }

    /// Upgrades a request to a raw two-way stream (attach).
    pub async fn upgrade(&self, path: &str) -> anyhow::Result<TokioIo<hyper::upgrade::Upgraded>> {
        self.upgrade_body(path, Bytes::new()).await
    }

    /// `upgrade`, with a JSON body (exec start).
    pub async fn upgrade_with(
        &self,
        path: &str,
        body: Value,
    ) -> anyhow::Result<TokioIo<hyper::upgrade::Upgraded>> {
        self.upgrade_body(path, Bytes::from(body.to_string())).await
    }

    async fn upgrade_body(
        &self,
        path: &str,
        body: Bytes,
    ) -> anyhow::Result<TokioIo<hyper::upgrade::Upgraded>> {
        let req = Request::builder()
            .method("POST")
            .uri(format!("http://vessel/{VERSION}{path}"))
            .header("Host", "vessel")
            .header("Content-Type", "application/json")
            .header("Connection", "Upgrade")
            .header("Upgrade", "tcp")
            .body(Full::new(body).map_err(|e| match e {}).boxed())
            .expect("a valid request");
        let resp = self.send(req).await?;
        let status = resp.status();
        if status != StatusCode::SWITCHING_PROTOCOLS {
            let body = resp.into_body().collect().await?.to_bytes();
            check(status, &body)?;
            bail!("the daemon did not upgrade the connection ({status})");
        }
        Ok(TokioIo::new(hyper::upgrade::on(resp).await?))
    }
}

/// A channel as a stream of frames for a request body.
fn tokio_stream(
    mut rx: tokio::sync::mpsc::Receiver<Result<Frame<Bytes>, std::io::Error>>,
) -> impl futures_core::Stream<Item = Result<Frame<Bytes>, std::io::Error>> {
    futures_util_stream(move |cx| rx.poll_recv(cx))
}

fn futures_util_stream<T>(
    f: impl FnMut(&mut std::task::Context<'_>) -> std::task::Poll<Option<T>>,
) -> impl futures_core::Stream<Item = T> {
    struct PollFn<F>(F);
    impl<T, F: FnMut(&mut std::task::Context<'_>) -> std::task::Poll<Option<T>>>
        futures_core::Stream for PollFn<F>
    {
        type Item = T;
        fn poll_next(
            self: std::pin::Pin<&mut Self>,
            cx: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<T>> {
            let this = self.get_mut();
            (this.0)(cx)
        }
    }
    impl<F> Unpin for PollFn<F> {}
    PollFn(f)
}

/// An error status as an error carrying the daemon's message.
fn check(status: StatusCode, body: &[u8]) -> anyhow::Result<()> {
    if status.is_success()
        || status == StatusCode::SWITCHING_PROTOCOLS
        || status == StatusCode::NOT_MODIFIED
    {
        return Ok(());
    }
    let message = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v["message"].as_str().map(String::from))
        .unwrap_or_else(|| String::from_utf8_lossy(body).trim().to_string());
    Err(anyhow!(ApiError {
        status: status.as_u16(),
        message,
    }))
}

/// An error answer of the daemon.
#[derive(Debug)]
pub struct ApiError {
    pub status: u16,
    pub message: String,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Error response from daemon: {}", self.message)
    }
}

impl std::error::Error for ApiError {}
