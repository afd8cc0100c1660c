//! Template text into tokens: the text between actions and the inside
//! of each action, trim markers applied; an action's inside into words.

/// One `{{…}}` or the text between two.
pub(super) enum Token {
    Text(String),
    Action(String),
}

/// The texts and actions of `text`, in order.
pub(super) fn tokenize(text: &str) -> Result<Vec<Token>, String> {
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

/// Words of an action: quoted strings whole, `|` on its own.
pub(super) fn split_words(text: &str) -> Result<Vec<String>, String> {
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

#[cfg(test)]
mod tests {
    use super::super::tests::{container, r};

    #[test]
    fn trim_markers_trim_the_text_beside_them() {
        let v = container();
        assert_eq!(
            r("{{range $.Cmd -}}  [{{.}}]  {{- end}}", &v),
            "[sleep][60]"
        );
    }
}
