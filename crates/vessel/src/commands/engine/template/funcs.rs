//! The built-in functions a pipeline can call, as Go's text/template
//! has them.

use serde_json::Value;

use super::value::{plain, truthy};

/// The names [`call`] knows; the parser refuses any other.
pub(super) const FUNCTIONS: &[&str] = &[
    "json", "index", "len", "join", "split", "upper", "lower", "title", "printf", "print",
    "println", "eq", "ne", "lt", "le", "gt", "ge", "not", "and", "or",
];

/// What the function `name` returns for `args` (a pipeline's previous
/// value last); none for a missing value or a wrong argument.
pub(super) fn call(name: &str, args: &[Option<Value>]) -> Option<Value> {
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

#[cfg(test)]
mod tests {
    use super::super::tests::{container, r};

    #[test]
    fn functions() {
        let v = container();
        assert_eq!(
            r("{{index .Labels \"tier\"}} {{index .Cmd 1}}", &v),
            "front 60"
        );
        assert_eq!(
            r("{{len .Cmd}} {{join .Cmd \"+\"}} {{upper .Name}}", &v),
            "2 sleep+60 /WEB"
        );
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
    }
}
