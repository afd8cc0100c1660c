//! `exec`: run a command in a running container.

use clap::Args;
use serde_json::json;

use super::attach::{console_size, follow_terminal_size, pump, DetachKeys, Ended};
use super::enc;
use super::process::ProcessFlags;
use crate::api_client::Client;
use crate::commands::runtime::stream::RawTerminal;

#[derive(Debug, Args)]
pub struct ExecArgs {
    /// Run in the background.
    #[arg(long, short)]
    detach: bool,
    /// Attach stdin.
    #[arg(long, short)]
    interactive: bool,
    /// Give the command a terminal.
    #[arg(long, short)]
    tty: bool,
    /// Give the command every capability the host allows.
    #[arg(long)]
    privileged: bool,
    /// Override the key sequence for detaching from the command.
    #[arg(long = "detach-keys")]
    detach_keys: Option<String>,
    #[command(flatten)]
    process: ProcessFlags,
    container: String,
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, required = true)]
    command: Vec<String>,
}

pub async fn exec(client: &Client, a: ExecArgs) -> anyhow::Result<()> {
    super::run::check_tty(a.interactive && !a.detach, a.tty)?;
    let keys = DetachKeys::new(a.detach_keys.as_deref())?;
    let mut body = json!({
        "Cmd": a.command,
        "Tty": a.tty,
        "AttachStdin": a.interactive && !a.detach,
        "AttachStdout": !a.detach,
        "AttachStderr": !a.detach,
        "Privileged": a.privileged,
    });
    a.process.apply(&mut body);
    if let Some(keys) = keys.given() {
        body["DetachKeys"] = json!(keys);
    }
    if let Some(size) = console_size(a.tty) {
        body["ConsoleSize"] = json!(size);
    }
    let created = client
        .json(
            "POST",
            &format!("/containers/{}/exec", enc(&a.container)),
            Some(body),
        )
        .await?;
    let id = created["Id"].as_str().unwrap_or_default().to_string();
    let start = format!("/exec/{id}/start");
    if a.detach {
        client
            .call("POST", &start, Some(json!({"Detach": true, "Tty": a.tty})))
            .await?;
        return Ok(());
    }
    let conn = client
        .upgrade_with(&start, json!({"Detach": false, "Tty": a.tty}))
        .await?;
    let _raw = if a.tty && a.interactive {
        RawTerminal::enter()
    } else {
        None
    };
    if a.tty {
        follow_terminal_size(client, format!("/exec/{id}/resize"));
    }
    let ended = pump(conn, a.interactive, a.tty, &keys).await?;
    drop(_raw);
    if ended == Ended::Detached {
        // The command runs on.
        return Ok(());
    }
    // The daemon closes the stream once the exit is recorded; polling is
    // only a fallback.
    loop {
        let info = client
            .json("GET", &format!("/exec/{id}/json"), None)
            .await?;
        if info["Running"] == false {
            if let Some(code) = info["ExitCode"].as_i64() {
                std::process::exit(code as i32);
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
}
