//! The flags `create`, `run` and `exec` share: the process's environment,
//! working directory and user.

use clap::Args;
use serde_json::{json, Value};

#[derive(Debug, Args)]
pub struct ProcessFlags {
    /// Set an environment variable (NAME=VALUE, or NAME to copy ours).
    #[arg(long = "env", short = 'e')]
    env: Vec<String>,
    /// Working directory inside the container.
    #[arg(long = "workdir", short = 'w')]
    workdir: Option<String>,
    /// User (name or uid[:gid]).
    #[arg(long, short)]
    user: Option<String>,
}

impl ProcessFlags {
    /// The environment to send: `NAME=VALUE` as given; a bare `NAME` takes
    /// its value from ours, and is left out when we have none (as docker
    /// does).
    pub fn env(&self) -> Vec<String> {
        expand_env(&self.env, |name| std::env::var(name).ok())
    }

    /// Sets `Env`, and `WorkingDir` and `User` when given, in a create or
    /// exec body.
    pub fn apply(&self, body: &mut Value) {
        body["Env"] = json!(self.env());
        if let Some(w) = &self.workdir {
            body["WorkingDir"] = json!(w);
        }
        if let Some(u) = &self.user {
            body["User"] = json!(u);
        }
    }
}

fn expand_env(given: &[String], ours: impl Fn(&str) -> Option<String>) -> Vec<String> {
    given
        .iter()
        .filter_map(|e| match e.contains('=') {
            true => Some(e.clone()),
            false => ours(e).map(|v| format!("{e}={v}")),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_name_is_copied_from_our_environment_or_left_out() {
        let ours = |name: &str| (name == "HOME").then(|| "/home/me".to_string());
        let given = ["A=1", "HOME", "UNSET", "B="].map(String::from);
        assert_eq!(
            expand_env(&given, ours),
            ["A=1", "HOME=/home/me", "B="].map(String::from)
        );
    }
}
