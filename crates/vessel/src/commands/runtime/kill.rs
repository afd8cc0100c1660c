//! `vessel runtime kill ID [SIGNAL]`.

use std::path::Path;

use anyhow::anyhow;
use clap::Args;
use nix::sys::signal::Signal;
use vessel_runtime::protocol::INIT;
use vessel_runtime::Request;

#[derive(Debug, Args)]
pub struct KillArgs {
    /// Signal every process of the container, not only the first.
    #[arg(long, short)]
    all: bool,
    id: String,
    /// A name (TERM, SIGKILL) or a number.
    #[arg(default_value = "SIGTERM")]
    signal: String,
}

pub fn kill(root: &Path, args: KillArgs) -> anyhow::Result<()> {
    let signal = parse_signal(&args.signal)?;
    super::call(
        root,
        &args.id,
        &Request::Signal {
            process: INIT.into(),
            signal,
            all: args.all,
        },
    )?;
    Ok(())
}

/// `9`, `KILL` or `SIGKILL` to 9.
pub fn parse_signal(text: &str) -> anyhow::Result<i32> {
    if let Ok(n) = text.parse::<i32>() {
        return Signal::try_from(n)
            .map(|s| s as i32)
            .map_err(|_| anyhow!("signal: {text:?} is not a signal number"));
    }
    let upper = text.to_ascii_uppercase();
    let name = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    name.parse::<Signal>()
        .map(|s| s as i32)
        .map_err(|_| anyhow!("signal: {text:?} is not a signal name"))
}

#[cfg(test)]
mod tests {
    use super::parse_signal;

    #[test]
    fn signals_parse_by_name_or_number() {
        assert_eq!(parse_signal("9").unwrap(), 9);
        assert_eq!(parse_signal("KILL").unwrap(), 9);
        assert_eq!(parse_signal("sigterm").unwrap(), 15);
        assert!(parse_signal("NOPE").is_err());
        assert!(parse_signal("999").is_err());
    }
}
