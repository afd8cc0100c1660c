//! Building a Windows command line from an argument vector.
//!
//! Windows passes a process one string; the C runtime splits it again. An
//! argument survives the round trip if it is quoted when it holds a space
//! or tab, its quotes are backslash-escaped, and the backslashes that end
//! up in front of a quote are doubled.

/// Quotes one argument so the C runtime parses it back unchanged.
pub fn escape_arg(arg: &str) -> String {
    if arg.is_empty() {
        return "\"\"".to_string();
    }
    let needs_quotes = arg.contains([' ', '\t']);
    if !needs_quotes && !arg.contains('"') {
        return arg.to_string();
    }
    let mut out = String::with_capacity(arg.len() + 2);
    if needs_quotes {
        out.push('"');
    }
    let mut backslashes = 0usize;
    for c in arg.chars() {
        match c {
            '\\' => {
                backslashes += 1;
                out.push('\\');
            }
            '"' => {
                // Double the run of backslashes before the quote, then escape it.
                out.extend(std::iter::repeat_n('\\', backslashes + 1));
                out.push('"');
                backslashes = 0;
            }
            other => {
                backslashes = 0;
                out.push(other);
            }
        }
    }
    if needs_quotes {
        out.extend(std::iter::repeat_n('\\', backslashes));
        out.push('"');
    }
    out
}

/// The command line for `args`: each escaped unless the spec says they
/// already are, joined by spaces.
pub fn command_line(args: &[String], already_escaped: bool) -> String {
    if already_escaped {
        return args.join(" ");
    }
    args.iter()
        .map(|a| escape_arg(a))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_are_escaped_by_windows_rules() {
        let cases = [
            ("", r#""""#),
            ("plain", "plain"),
            (r"C:\dir\", r"C:\dir\"),
            ("two words", r#""two words""#),
            ("tab\there", "\"tab\there\""),
            (r#"say "hi""#, r#""say \"hi\"""#),
            (r#"a\"b"#, r#"a\\\"b"#),
            (r"C:\my dir\", r#""C:\my dir\\""#),
        ];
        for (arg, want) in cases {
            assert_eq!(escape_arg(arg), want, "{arg}");
        }
    }

    #[test]
    fn already_escaped_arguments_are_joined_as_they_are() {
        let args = vec!["cmd".to_string(), "/c".into(), r#""a b""#.into()];
        assert_eq!(command_line(&args, true), r#"cmd /c "a b""#);
        assert_eq!(command_line(&args, false), r#"cmd /c "\"a b\"""#);
    }
}
