//! Which verbs fit which container state.

use vessel_runtime::protocol::{ErrorKind, RemoteError, Status};

/// A verb, as far as the state machine is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Start,
    Exec,
    Pause,
    Resume,
    Signal,
    Update,
    Stats,
}

/// Refuses `verb` in `status` with a typed error naming both.
pub fn check(id: &str, status: Status, verb: Verb) -> Result<(), RemoteError> {
    use Status::*;
    let allowed = match verb {
        Verb::Start => status == Created,
        Verb::Exec | Verb::Pause => status == Running,
        Verb::Resume => status == Paused,
        Verb::Signal => matches!(status, Created | Running | Paused),
        Verb::Update | Verb::Stats => matches!(status, Created | Running | Paused),
    };
    if allowed {
        return Ok(());
    }
    let (kind, why) = match (verb, status) {
        (_, Stopped) if verb != Verb::Start => {
            (ErrorKind::NotRunning, "is not running".to_string())
        }
        (Verb::Exec, Paused) => (ErrorKind::Conflict, "is paused, unpause it first".into()),
        (Verb::Start, Paused) => (
            ErrorKind::Conflict,
            "is paused: it cannot be started, unpause it instead".into(),
        ),
        _ => (ErrorKind::Conflict, format!("is {status}")),
    };
    Err(RemoteError::new(
        kind,
        format!("container {id} {why}: cannot {}", verb_name(verb)),
    ))
}

fn verb_name(verb: Verb) -> &'static str {
    match verb {
        Verb::Start => "start",
        Verb::Exec => "exec",
        Verb::Pause => "pause",
        Verb::Resume => "resume",
        Verb::Signal => "signal",
        Verb::Update => "update",
        Verb::Stats => "read stats",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_into_a_paused_or_stopped_container_is_refused_typed() {
        let e = check("c", Status::Paused, Verb::Exec).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Conflict);
        assert!(e.message.contains("paused"), "{e}");
        let e = check("c", Status::Stopped, Verb::Exec).unwrap_err();
        assert_eq!(e.kind, ErrorKind::NotRunning);
        assert!(check("c", Status::Running, Verb::Exec).is_ok());
    }

    #[test]
    fn each_verb_has_its_states() {
        use Status::*;
        let table = [
            (Verb::Start, [true, false, false, false]),
            (Verb::Pause, [false, true, false, false]),
            (Verb::Resume, [false, false, true, false]),
            (Verb::Signal, [true, true, true, false]),
            (Verb::Update, [true, true, true, false]),
        ];
        for (verb, allowed) in table {
            for (status, ok) in [Created, Running, Paused, Stopped].into_iter().zip(allowed) {
                assert_eq!(check("c", status, verb).is_ok(), ok, "{verb:?} in {status}");
            }
        }
    }
}
