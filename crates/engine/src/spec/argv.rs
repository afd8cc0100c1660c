//! What the kernel can start at all. `execve(2)` takes no argument or
//! environment string longer than 32 pages (`MAX_ARG_STRLEN`, with its
//! NUL), and no more of them together (with a pointer each) than a
//! quarter of the stack limit, which is at most three quarters of 8 MiB
//! whatever the limit. A command past either can never start: it is
//! refused when it is given, naming the member, instead of being kept
//! to fail at every start.

use crate::error::{EngineError, Result};

/// The longest argument or environment string, its NUL included.
fn max_string() -> usize {
    32 * rustix::param::page_size()
}

/// The most bytes of strings and pointers any `execve` takes.
const MAX_TOTAL: usize = 6 << 20;

/// Checks that a process with `args` and `env` can be started; `what`
/// names the request's members (`Cmd`, `Env`) in the error.
pub(super) fn check(args: &[String], env: &[String], what: [&str; 2]) -> Result<()> {
    let max = max_string();
    for (strings, field) in [(args, what[0]), (env, what[1])] {
        if let Some((i, long)) = strings.iter().enumerate().find(|(_, s)| s.len() >= max) {
            return Err(EngineError::InvalidParameter(format!(
                "{field}: string {i} of the process is {} bytes; no process can be given one of more than {} bytes",
                long.len(),
                max - 1
            )));
        }
    }
    let pointers = (args.len().max(1) + env.len()) * std::mem::size_of::<usize>();
    let total = pointers + args.iter().chain(env).map(|s| s.len() + 1).sum::<usize>();
    if total > MAX_TOTAL {
        return Err(EngineError::InvalidParameter(format!(
            "{} and {}: the process's arguments and environment come to {total} bytes; no process can be given more than {MAX_TOTAL}",
            what[0], what[1]
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const WHAT: [&str; 2] = ["Cmd", "Env"];

    #[test]
    fn what_execve_can_take_passes_and_the_rest_is_refused_by_name() {
        let max = max_string();
        let longest = "x".repeat(max - 1);
        check(
            std::slice::from_ref(&longest),
            &[format!("A={}", &longest[2..])],
            WHAT,
        )
        .unwrap();

        let e = check(&["echo".into(), "x".repeat(max)], &[], WHAT).unwrap_err();
        assert!(
            e.to_string().starts_with("Cmd: string 1 of the process is"),
            "{e}"
        );
        let e = check(&["true".into()], &[format!("A={}", "x".repeat(max))], WHAT).unwrap_err();
        assert!(e.to_string().starts_with("Env: string 0"), "{e}");

        // Many strings, each short enough, too many together.
        let many = vec!["y".repeat(max / 2); MAX_TOTAL / (max / 2)];
        let e = check(&many, &[], WHAT).unwrap_err();
        assert!(e.to_string().starts_with("Cmd and Env: "), "{e}");
    }
}
