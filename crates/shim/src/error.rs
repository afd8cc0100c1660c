//! How the shim's errors read where they leave it.

/// `error` and its sources, as one line (`what: why: ...`). A source whose
/// text the line already ends with (an error that repeats its source's
/// text in its own) is not repeated.
pub fn chain(error: &dyn std::error::Error) -> String {
    let mut line = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        let text = e.to_string();
        if !line.ends_with(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
        source = e.source();
    }
    line
}
