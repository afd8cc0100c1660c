//! The part of Go's text/template that docker's `--format` is used with,
//! over JSON values.
//!
//! Actions: `{{PIPELINE}}`, `{{if P}}…{{else if P}}…{{else}}…{{end}}`,
//! `{{range P}}…{{else}}…{{end}}` (lists in order, maps by sorted key),
//! `{{with P}}…{{else}}…{{end}}`, and the `{{-`/`-}}` trim markers. A
//! pipeline is commands joined by `|`, each result passed as the next
//! command's last argument. Operands: `.`, `.A.B`, `$` and `$.A`,
//! `"strings"`, numbers, `true`/`false`. Functions: `json`, `index`, `len`,
//! `join`, `split`, `upper`, `lower`, `title`, `printf` (`%s %v %d %q %%`),
//! `print`, `println`, `eq`, `ne`, `lt`, `le`, `gt`, `ge`, `not`, `and`,
//! `or`. Values print as Go prints them (`[a b]`, `map[k:v]`); a missing
//! key prints `<no value>`. Everything else is refused when the template
//! is parsed, before anything is printed.

use anyhow::anyhow;
use serde_json::Value;

const FUNCTIONS: &[&str] = &[
    "json", "index", "len", "join", "split", "upper", "lower", "title", "printf", "print",
    "println", "eq", "ne", "lt", "le", "gt", "ge", "not", "and", "or",
];

#[derive(Debug, Clone, PartialEq)]
enum Operand {
    /// A path from the current value (`.`: empty).
    Dot(Vec<String>),
    /// A path from the top value (`$`).
    Root(Vec<String>),
    Literal(Value),
}

#[derive(Debug, Clone, PartialEq)]
enum Command {
    Operand(Operand),
    Call(String, Vec<Operand>),
}

type Pipeline = Vec<Command>;

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Text(String),
    Print(Pipeline),
    If(Vec<(Pipeline, Vec<Node>)>, Vec<Node>),
    Range(Pipeline, Vec<Node>, Vec<Node>),
    With(Pipeline, Vec<Node>, Vec<Node>),
}

/// A parsed template.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    nodes: Vec<Node>,
}

/// One `{{…}}` or the text between two.
enum Token {
    Text(String),
    Action(String),
}

impl Template {
    /// Parses `format`. docker turns the two-character sequences `\t` and
    /// `\n` into a tab and a newline first, so that they can be typed in a
    /// shell; so does this.
    pub fn parse(format: &str) -> anyhow::Result<Template> {
        let text = format.replace("\\t", "\t").replace("\\n", "\n");
        let fail = |why: String| anyhow!("--format {format:?}: {why}");
        let tokens = tokenize(&text).map_err(fail)?;
        let mut tokens = tokens.into_iter().peekable();
        let (nodes, end) = parse_nodes(&mut tokens).map_err(fail)?;
        if let Some(end) = end {
            return Err(fail(format!(
                "`{{{{{end}}}}}` without an `if`, `range` or `with`"
            )));
        }
        Ok(Template { nodes })
    }

    /// Fills the template from `v`.
    pub fn render(&self, v: &Value) -> String {
        let mut out = String::new();
        render(&self.nodes, v, v, &mut out);
        out
    }

    /// The first key of every path from the top value the template reads
    /// (for checking them against a listing's fields).
    pub fn fields(&self) -> Vec<String> {
        let mut found = Vec::new();
        collect_fields(&self.nodes, &mut found);
        found
    }
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let mut before = &rest[..start];
        let mut inner_start = start + 2;
        if rest[inner_start..].starts_with('-') {
            before = before.trim_end();
            inner_start += 1;
        }
        if !before.is_empty() {
            tokens.push(Token::Text(before.to_string()));
        }
        let Some(len) = find_close(&rest[inner_start..]) else {
            return Err("a `{{` is never closed".into());
        };
        let mut inner = &rest[inner_start..inner_start + len];
        let mut after = &rest[inner_start + len + 2..];
        if let Some(trimmed) = inner.strip_suffix('-') {
            inner = trimmed;
            after = after.trim_start();
        }
        tokens.push(Token::Action(inner.trim().to_string()));
        rest = after;
    }
    if !rest.is_empty() {
        tokens.push(Token::Text(rest.to_string()));
    }
    Ok(tokens)
}

/// Where the action's `}}` is, skipping quoted strings.
fn find_close(s: &str) -> Option<usize> {
    let mut quoted = false;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            '}' if !quoted && s[i..].starts_with("}}") => return Some(i),
            _ => {}
        }
    }
    None
}

type Tokens = std::iter::Peekable<std::vec::IntoIter<Token>>;

/// Nodes up to an `{{end}}` or `{{else…}}` (returned) or the end.
fn parse_nodes(tokens: &mut Tokens) -> Result<(Vec<Node>, Option<String>), String> {
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

/// Words of an action: quoted strings whole, `|` on its own.
fn split_words(text: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '|' {
            chars.next();
            words.push("|".into());
        } else if c == '"' {
            let mut word = String::from('"');
            chars.next();
            let mut closed = false;
            while let Some(c) = chars.next() {
                word.push(c);
                if c == '\\' {
                    word.extend(chars.next());
                } else if c == '"' {
                    closed = true;
                    break;
                }
            }
            if !closed {
                return Err(format!("`{{{{{text}}}}}`: a string is never closed"));
            }
            words.push(word);
        } else {
            let mut word = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() || c == '|' {
                    break;
                }
                word.push(c);
                chars.next();
            }
            words.push(word);
        }
    }
    Ok(words)
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

/// The first keys read from the top value: paths from `.` outside the
/// blocks that move it (range, with), and every `$` path.
fn collect_fields(nodes: &[Node], found: &mut Vec<String>) {
    collect(nodes, true, found);
}

fn collect(nodes: &[Node], dot_is_top: bool, found: &mut Vec<String>) {
    let pipeline = |p: &Pipeline, found: &mut Vec<String>| {
        for command in p {
            let operands = match command {
                Command::Operand(o) => std::slice::from_ref(o),
                Command::Call(_, args) => args.as_slice(),
            };
            for o in operands {
                match o {
                    Operand::Dot(path) if dot_is_top => found.extend(path.first().cloned()),
                    Operand::Root(path) => found.extend(path.first().cloned()),
                    _ => {}
                }
            }
        }
    };
    for node in nodes {
        match node {
            Node::Text(_) => {}
            Node::Print(p) => pipeline(p, found),
            Node::If(branches, otherwise) => {
                for (cond, body) in branches {
                    pipeline(cond, found);
                    collect(body, dot_is_top, found);
                }
                collect(otherwise, dot_is_top, found);
            }
            // Inside, `.` is something else; `$` still is the top value.
            Node::Range(over, body, otherwise) | Node::With(over, body, otherwise) => {
                pipeline(over, found);
                collect(body, false, found);
                collect(otherwise, dot_is_top, found);
            }
        }
    }
}

fn render(nodes: &[Node], dot: &Value, root: &Value, out: &mut String) {
    for node in nodes {
        match node {
            Node::Text(t) => out.push_str(t),
            Node::Print(p) => match eval(p, dot, root) {
                Some(Value::Null) | None => out.push_str("<no value>"),
                Some(v) => go_print(&v, out),
            },
            Node::If(branches, otherwise) => {
                let taken = branches
                    .iter()
                    .find(|(cond, _)| truthy(eval(cond, dot, root).as_ref()));
                match taken {
                    Some((_, body)) => render(body, dot, root, out),
                    None => render(otherwise, dot, root, out),
                }
            }
            Node::Range(over, body, otherwise) => {
                let items: Vec<Value> = match eval(over, dot, root) {
                    Some(Value::Array(a)) => a,
                    Some(Value::Object(m)) => {
                        let mut keys: Vec<&String> = m.keys().collect();
                        keys.sort();
                        keys.into_iter().map(|k| m[k].clone()).collect()
                    }
                    _ => Vec::new(),
                };
                if items.is_empty() {
                    render(otherwise, dot, root, out);
                }
                for item in &items {
                    render(body, item, root, out);
                }
            }
            Node::With(over, body, otherwise) => match eval(over, dot, root) {
                Some(v) if truthy(Some(&v)) => render(body, &v, root, out),
                _ => render(otherwise, dot, root, out),
            },
        }
    }
}

/// A pipeline's value; none for a key that is missing.
fn eval(pipeline: &Pipeline, dot: &Value, root: &Value) -> Option<Value> {
    let mut last: Option<Option<Value>> = None;
    for command in pipeline {
        let value = match command {
            Command::Operand(o) => operand(o, dot, root),
            Command::Call(name, args) => {
                let mut values: Vec<Option<Value>> =
                    args.iter().map(|a| operand(a, dot, root)).collect();
                values.extend(last.take());
                call(name, &values)
            }
        };
        last = Some(value);
    }
    last.flatten()
}

fn operand(o: &Operand, dot: &Value, root: &Value) -> Option<Value> {
    let walk = |from: &Value, path: &[String]| {
        path.iter().try_fold(from, |cur, key| cur.get(key)).cloned()
    };
    match o {
        Operand::Dot(path) => walk(dot, path),
        Operand::Root(path) => walk(root, path),
        Operand::Literal(v) => Some(v.clone()),
    }
}

fn call(name: &str, args: &[Option<Value>]) -> Option<Value> {
    let arg = |i: usize| args.get(i).cloned().flatten().unwrap_or(Value::Null);
    let string = |s: String| Some(Value::String(s));
    match name {
        "json" => string(arg(0).to_string()),
        "index" => {
            let mut cur = arg(0);
            for key in args.iter().skip(1) {
                cur = match (cur, key.clone().unwrap_or(Value::Null)) {
                    (Value::Object(m), Value::String(k)) => m.get(&k).cloned()?,
                    (Value::Array(a), Value::Number(n)) => {
                        a.get(n.as_u64().unwrap_or(u64::MAX) as usize).cloned()?
                    }
                    _ => return None,
                };
            }
            Some(cur)
        }
        "len" => Some(Value::from(match arg(0) {
            Value::Array(a) => a.len(),
            Value::Object(m) => m.len(),
            Value::String(s) => s.len(),
            _ => 0,
        })),
        "join" => {
            let items: Vec<String> = match arg(0) {
                Value::Array(a) => a.iter().map(plain).collect(),
                other => vec![plain(&other)],
            };
            string(items.join(&plain(&arg(1))))
        }
        "split" => Some(Value::Array(
            plain(&arg(0))
                .split(plain(&arg(1)).as_str())
                .map(|s| Value::String(s.to_string()))
                .collect(),
        )),
        "upper" => string(plain(&arg(0)).to_uppercase()),
        "lower" => string(plain(&arg(0)).to_lowercase()),
        "title" => string(
            plain(&arg(0))
                .split(' ')
                .map(|w| {
                    let mut c = w.chars();
                    c.next()
                        .map(|f| f.to_uppercase().chain(c).collect())
                        .unwrap_or_default()
                })
                .collect::<Vec<String>>()
                .join(" "),
        ),
        "print" | "println" => {
            let mut s = args
                .iter()
                .map(|a| a.as_ref().map_or("<nil>".to_string(), plain))
                .collect::<Vec<_>>()
                .join(if name == "println" { " " } else { "" });
            if name == "println" {
                s.push('\n');
            }
            string(s)
        }
        "printf" => string(printf(&plain(&arg(0)), &args[1.min(args.len())..])),
        "not" => Some(Value::Bool(!truthy(args.first().and_then(Option::as_ref)))),
        "and" => args
            .iter()
            .find(|a| !truthy(a.as_ref()))
            .or(args.last())
            .cloned()
            .flatten(),
        "or" => args
            .iter()
            .find(|a| truthy(a.as_ref()))
            .or(args.last())
            .cloned()
            .flatten(),
        "eq" => Some(Value::Bool(
            args.iter()
                .skip(1)
                .any(|a| same(&arg(0), &a.clone().unwrap_or(Value::Null))),
        )),
        "ne" => Some(Value::Bool(!same(&arg(0), &arg(1)))),
        "lt" | "le" | "gt" | "ge" => {
            let order = compare(&arg(0), &arg(1))?;
            use std::cmp::Ordering::*;
            Some(Value::Bool(match name {
                "lt" => order == Less,
                "le" => order != Greater,
                "gt" => order == Greater,
                _ => order != Less,
            }))
        }
        _ => None,
    }
}

fn same(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

fn compare(a: &Value, b: &Value) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        _ => a.as_f64()?.partial_cmp(&b.as_f64()?),
    }
}

/// Go's `printf` for what docker's templates use: the verbs `s v d q`
/// (and `%%`) with the flags `-` and `0`, a width and a precision
/// (`%-20s`, `%.12s`, `%05d`).
fn printf(format: &str, args: &[Option<Value>]) -> String {
    let mut out = String::new();
    let mut args = args.iter();
    let mut chars = format.chars().peekable();
    let number = |chars: &mut std::iter::Peekable<std::str::Chars>| {
        let mut n = String::new();
        while let Some(d) = chars.next_if(char::is_ascii_digit) {
            n.push(d);
        }
        n.parse::<usize>().ok()
    };
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let (mut left, mut zero) = (false, false);
        while let Some(f) = chars.next_if(|f| matches!(f, '-' | '0' | '+' | ' ' | '#')) {
            left |= f == '-';
            zero |= f == '0';
        }
        let width = number(&mut chars);
        let precision = chars
            .next_if_eq(&'.')
            .map(|_| number(&mut chars).unwrap_or(0));
        let Some(verb) = chars.next() else {
            out.push_str("%!(NOVERB)");
            break;
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        let mut text = match args.next() {
            Some(Some(v)) if verb == 'q' => Value::String(plain(v)).to_string(),
            Some(Some(v)) => plain(v),
            Some(None) => "<nil>".to_string(),
            None => format!("%!{verb}(MISSING)"),
        };
        if let (Some(p), 's' | 'v' | 'q') = (precision, verb) {
            text = text.chars().take(p).collect();
        }
        let pad = width.unwrap_or(0).saturating_sub(text.chars().count());
        if left {
            text.push_str(&" ".repeat(pad));
        } else if zero && verb == 'd' {
            let digits = text.trim_start_matches('-').to_string();
            let sign = if text.starts_with('-') { "-" } else { "" };
            text = format!("{sign}{}{digits}", "0".repeat(pad));
        } else {
            text.insert_str(0, &" ".repeat(pad));
        }
        out.push_str(&text);
    }
    out
}

/// `v` as [`go_print`] prints it.
fn plain(v: &Value) -> String {
    let mut s = String::new();
    go_print(v, &mut s);
    s
}

/// Go's truth: false, 0, "", empty lists and maps, and nothing are false.
fn truthy(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_f64() != Some(0.0),
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(m)) => !m.is_empty(),
    }
}

/// `v` as Go's templates print a value decoded from JSON: strings bare,
/// lists as `[a b]`, objects as `map[k:v]` (keys sorted), null as
/// `<nil>`.
pub fn go_print(v: &Value, out: &mut String) {
    match v {
        Value::String(s) => out.push_str(s),
        Value::Null => out.push_str("<nil>"),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                go_print(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push_str("map[");
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(k);
                out.push(':');
                go_print(&map[k], out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn r(t: &str, v: &Value) -> String {
        Template::parse(t).unwrap().render(v)
    }

    #[test]
    fn paths_print_as_go_prints_them() {
        let v = json!({"State": {"ExitCode": 3, "Status": "exited"}, "Name": "/x",
            "Cmd": ["sleep", "60"], "Labels": {"b": "2", "a": "1"}, "Env": [], "Nil": null});
        assert_eq!(r("{{.State.ExitCode}}", &v), "3");
        assert_eq!(r("s={{ .State.Status }}\\t{{.Name}}", &v), "s=exited\t/x");
        assert_eq!(
            r("{{json .State}}", &v),
            r#"{"ExitCode":3,"Status":"exited"}"#
        );
        assert_eq!(
            r("{{.Nope}} {{.State.Nope.Deeper}}", &v),
            "<no value> <no value>"
        );
        assert_eq!(
            r("{{.Cmd}} {{.Labels}} {{.Env}} {{.Nil}}", &v),
            "[sleep 60] map[a:1 b:2] [] <no value>"
        );
        assert_eq!(r("{{json .}}", &v), v.to_string());
    }

    #[test]
    fn blocks_functions_and_pipelines() {
        let v = json!({"Running": true, "Code": 0, "Cmd": ["sleep", "60"],
            "Labels": {"app": "web", "tier": "front"}, "Mounts": [{"Source": "/a"}, {"Source": "/b"}],
            "Name": "/web"});
        assert_eq!(r("{{if .Running}}up{{else}}down{{end}}", &v), "up");
        assert_eq!(
            r("{{if .Code}}bad{{else if .Running}}fine{{end}}", &v),
            "fine"
        );
        assert_eq!(r("{{range .Mounts}}{{.Source}},{{end}}", &v), "/a,/b,");
        assert_eq!(r("{{range .Nothing}}x{{else}}none{{end}}", &v), "none");
        assert_eq!(r("{{range .Labels}}{{.}} {{end}}", &v), "web front ");
        assert_eq!(r("{{with .Labels}}{{.app}}{{end}}", &v), "web");
        assert_eq!(
            r("{{index .Labels \"tier\"}} {{index .Cmd 1}}", &v),
            "front 60"
        );
        assert_eq!(
            r("{{len .Cmd}} {{join .Cmd \"+\"}} {{upper .Name}}", &v),
            "2 sleep+60 /WEB"
        );
        assert_eq!(r("{{.Name | lower | printf \"%q\"}}", &v), "\"/web\"");
        assert_eq!(r("{{printf \"%s=%d\" .Name .Code}}", &v), "/web=0");
        assert_eq!(
            r(
                "[{{printf \"%-6s|%6s|%.2s|%03d\" .Name .Name .Name 7}}]",
                &v
            ),
            "[/web  |  /web|/w|007]"
        );
        assert_eq!(
            r("{{join .Cmd \"\\t\"}}|{{join .Cmd \"\\u00e9\"}}", &v),
            "sleep\t60|sleep\u{e9}60"
        );
        assert_eq!(
            r("{{if eq .Code 0}}zero{{end}}{{if not .Code}}!{{end}}", &v),
            "zero!"
        );
        assert_eq!(
            r("{{range $.Cmd -}}  [{{.}}]  {{- end}}", &v),
            "[sleep][60]"
        );
        assert_eq!(
            Template::parse("{{range .Mounts}}{{.Source}}{{$.Id}}{{end}}{{$.Name}}")
                .unwrap()
                .fields(),
            ["Mounts", "Id", "Name"]
        );
    }

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
