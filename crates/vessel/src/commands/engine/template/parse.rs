//! The tree of a template, read from its tokens: blocks, pipelines,
//! commands and operands. What is not understood is refused here.

use serde_json::Value;

use super::funcs::FUNCTIONS;
use super::lex::{split_words, Token};

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Operand {
    /// A path from the current value (`.`: empty).
    Dot(Vec<String>),
    /// A path from the top value (`$`).
    Root(Vec<String>),
    Literal(Value),
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Command {
    Operand(Operand),
    Call(String, Vec<Operand>),
}

pub(super) type Pipeline = Vec<Command>;

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Node {
    Text(String),
    Print(Pipeline),
    If(Vec<(Pipeline, Vec<Node>)>, Vec<Node>),
    Range(Pipeline, Vec<Node>, Vec<Node>),
    With(Pipeline, Vec<Node>, Vec<Node>),
}

type Tokens = std::iter::Peekable<std::vec::IntoIter<Token>>;

/// Nodes up to an `{{end}}` or `{{else…}}` (returned) or the end.
pub(super) fn parse_nodes(tokens: &mut Tokens) -> Result<(Vec<Node>, Option<String>), String> {
    let mut nodes = Vec::new();
    while let Some(token) = tokens.next() {
        let action = match token {
            Token::Text(t) => {
                nodes.push(Node::Text(t));
                continue;
            }
            Token::Action(a) => a,
        };
        let (word, rest) = match action.split_once(char::is_whitespace) {
            Some((w, r)) => (w, r.trim()),
            None => (action.as_str(), ""),
        };
        match word {
            "end" | "else" => return Ok((nodes, Some(action.clone()))),
            "if" => {
                let mut branches = Vec::new();
                let mut cond = parse_pipeline(rest)?;
                loop {
                    let (body, end) = parse_nodes(tokens)?;
                    branches.push((cond, body));
                    match end.as_deref().map(|e| e.split_once(' ').unwrap_or((e, ""))) {
                        Some(("end", _)) => {
                            nodes.push(Node::If(branches, Vec::new()));
                            break;
                        }
                        Some(("else", "")) => {
                            let otherwise = parse_block_end(tokens, "if")?;
                            nodes.push(Node::If(branches, otherwise));
                            break;
                        }
                        Some(("else", more)) => match more.trim().strip_prefix("if ") {
                            Some(c) => cond = parse_pipeline(c)?,
                            None => return Err(format!("`{{{{else {more}}}}}` is not understood")),
                        },
                        _ => return Err("an `if` has no `{{end}}`".into()),
                    }
                }
            }
            "range" | "with" => {
                let over = parse_pipeline(rest)?;
                let (body, end) = parse_nodes(tokens)?;
                let otherwise = match end.as_deref() {
                    Some("end") => Vec::new(),
                    Some("else") => parse_block_end(tokens, word)?,
                    _ => return Err(format!("a `{word}` has no `{{{{end}}}}`")),
                };
                nodes.push(if word == "range" {
                    Node::Range(over, body, otherwise)
                } else {
                    Node::With(over, body, otherwise)
                });
            }
            _ => nodes.push(Node::Print(parse_pipeline(&action)?)),
        }
    }
    Ok((nodes, None))
}

/// The `{{else}}` part of a block, up to its `{{end}}`.
fn parse_block_end(tokens: &mut Tokens, block: &str) -> Result<Vec<Node>, String> {
    match parse_nodes(tokens)? {
        (nodes, Some(end)) if end == "end" => Ok(nodes),
        _ => Err(format!(
            "a `{block}` has no `{{{{end}}}}` after its `{{{{else}}}}`"
        )),
    }
}

fn parse_pipeline(text: &str) -> Result<Pipeline, String> {
    let words = split_words(text)?;
    if words.is_empty() {
        return Err("an empty action `{{}}`".into());
    }
    let mut pipeline = Vec::new();
    for command in words.split(|w| w == "|") {
        let Some((first, args)) = command.split_first() else {
            return Err(format!(
                "`{{{{{text}}}}}`: an empty command in the pipeline"
            ));
        };
        let not_understood = || format!("`{{{{{text}}}}}` is not understood");
        if FUNCTIONS.contains(&first.as_str()) {
            let args = args
                .iter()
                .map(|a| parse_operand(a).ok_or_else(not_understood))
                .collect::<Result<_, _>>()?;
            pipeline.push(Command::Call(first.clone(), args));
        } else if args.is_empty() {
            pipeline.push(Command::Operand(
                parse_operand(first).ok_or_else(not_understood)?,
            ));
        } else if first.starts_with(|c: char| c.is_ascii_alphabetic()) {
            return Err(format!("`{{{{{text}}}}}`: no function {first:?}"));
        } else {
            return Err(not_understood());
        }
    }
    Ok(pipeline)
}

fn parse_operand(word: &str) -> Option<Operand> {
    let path = |rest: &str| -> Option<Vec<String>> {
        if rest.is_empty() {
            return Some(Vec::new());
        }
        let keys: Vec<String> = rest
            .strip_prefix('.')?
            .split('.')
            .map(String::from)
            .collect();
        let ok = keys
            .iter()
            .all(|k| !k.is_empty() && k.chars().all(|c| c.is_alphanumeric() || c == '_'));
        ok.then_some(keys)
    };
    if word == "." {
        return Some(Operand::Dot(Vec::new()));
    }
    if let Some(rest) = word.strip_prefix('$') {
        return path(rest).map(Operand::Root);
    }
    if word.starts_with('.') {
        return path(word).map(Operand::Dot);
    }
    if let Some(quoted) = word.strip_prefix('"') {
        return unquote(quoted.strip_suffix('"')?).map(|s| Operand::Literal(Value::String(s)));
    }
    match word {
        "true" => return Some(Operand::Literal(Value::Bool(true))),
        "false" => return Some(Operand::Literal(Value::Bool(false))),
        _ => {}
    }
    serde_json::from_str::<serde_json::Number>(word)
        .ok()
        .map(|n| Operand::Literal(Value::Number(n)))
}

/// A Go string literal's text, its escapes read (a raw tab, which
/// docker's `\t` replacement may have put there, is kept).
fn unquote(text: &str) -> Option<String> {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        out.push(match chars.next()? {
            'n' => '\n',
            't' => '\t',
            'r' => '\r',
            'a' => '\u{7}',
            'b' => '\u{8}',
            'f' => '\u{c}',
            'v' => '\u{b}',
            c @ ('\\' | '"' | '\'') => c,
            'x' => {
                let hex: String = chars.by_ref().take(2).collect();
                char::from(u8::from_str_radix(&hex, 16).ok()?)
            }
            'u' => {
                let hex: String = chars.by_ref().take(4).collect();
                char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?
            }
            _ => return None,
        });
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::super::Template;

    #[test]
    fn what_is_not_understood_is_refused() {
        for (t, why) in [
            ("{{.Names", "never closed"),
            ("{{}}", "empty action"),
            ("{{nosuch .Names}}", "no function \"nosuch\""),
            ("{{$x := 1}}", "not understood"),
            ("{{.A..B}}", "not understood"),
            ("{{if .A}}x", "no `{{end}}`"),
            ("x{{end}}", "without an `if`"),
            ("{{printf \"%s}}", "never closed"),
        ] {
            let e = Template::parse(t).unwrap_err().to_string();
            assert!(e.contains(why), "{t}: {e}");
        }
    }
}
