//! Which verbs fit which container state.

use vessel_runtime::protocol::{ErrorKind, Status};

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

impl Verb {
    fn name(self) -> &'static str {
        match self {
            Verb::Start => "start",
            Verb::Exec => "exec",
            Verb::Pause => "pause",
            Verb::Resume => "resume",
            Verb::Signal => "signal",
            Verb::Update => "update",
            Verb::Stats => "read stats",
        }
    }
}

/// A verb the container's state does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("container {id} {}: cannot {}", why(*.status, *.verb), verb.name())]
pub struct StateError {
    id: String,
    status: Status,
    verb: Verb,
}

impl StateError {
    /// A stopped container is not running; anything else is a conflict
    /// with the state it is in.
    pub fn kind(&self) -> ErrorKind {
        match (self.verb, self.status) {
            (Verb::Start, _) => ErrorKind::Conflict,
            (_, Status::Stopped) => ErrorKind::NotRunning,
            _ => ErrorKind::Conflict,
        }
    }
}

fn why(status: Status, verb: Verb) -> String {
    match (verb, status) {
        (_, Status::Stopped) if verb != Verb::Start => "is not running".to_string(),
        (Verb::Exec, Status::Paused) => "is paused, unpause it first".into(),
        (Verb::Start, Status::Paused) => {
            "is paused: it cannot be started, unpause it instead".into()
        }
        _ => format!("is {status}"),
    }
}

/// Refuses `verb` in `status` with a typed error naming both.
pub fn check(id: &str, status: Status, verb: Verb) -> Result<(), StateError> {
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
    Err(StateError {
        id: id.to_string(),
        status,
        verb,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_into_a_paused_or_stopped_container_is_refused_typed() {
        let e = check("c", Status::Paused, Verb::Exec).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Conflict);
        assert!(e.to_string().contains("paused"), "{e}");
        let e = check("c", Status::Stopped, Verb::Exec).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotRunning);
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
