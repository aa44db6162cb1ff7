//! Making untrusted text safe to show: item data never reaches a terminal, a CI log or a
//! commit message with its control characters intact.

/// Quotes `s` for a message: JSON-style double quotes, every control, bidi-override and
/// line/paragraph separator character escaped as `\u{…}`, and at most `max` characters
/// kept (the rest elided with `…`).
pub fn quote_max(s: &str, max: usize) -> String {
    let mut out = String::with_capacity(s.len().min(max) + 2);
    out.push('"');
    for (i, c) in s.chars().enumerate() {
        if i == max {
            out.push('…');
            break;
        }
        push_safe(&mut out, c, true);
    }
    out.push('"');
    out
}

/// [`quote_max`] with the default limit used in messages.
pub fn quote(s: &str) -> String {
    quote_max(s, 80)
}

/// How many terminal columns `s` takes (a CJK character takes two, a combining mark none),
/// for aligning tables of item data.
pub fn width(s: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(s)
}

/// `s` followed by spaces up to `columns` display columns (as [`width`] counts them).
pub fn pad(s: &str, columns: usize) -> String {
    let mut out = s.to_string();
    out.extend(std::iter::repeat_n(' ', columns.saturating_sub(width(s))));
    out
}

/// `s` with every unsafe character escaped, unquoted and untruncated (for one-line fields).
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        push_safe(&mut out, c, false);
    }
    out
}

/// Characters a terminal, a log viewer or git could interpret rather than show.
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{200e}' | '\u{200f}' | '\u{061c}'
        )
        || ('\u{202a}'..='\u{202e}').contains(&c)
        || ('\u{2066}'..='\u{2069}').contains(&c)
}

fn push_safe(out: &mut String, c: char, quoting: bool) {
    if is_unsafe(c) {
        out.push_str(&format!("\\u{{{:04x}}}", c as u32));
    } else if quoting && (c == '"' || c == '\\') {
        out.push('\\');
        out.push(c);
    } else {
        out.push(c);
    }
}

/// Whether `s` holds a character [`neutralize_source`] replaces. Printable ASCII, the bulk of
/// a queue file, is checked byte by byte; only other characters are decoded.
fn has_unsafe_source_char(s: &str) -> bool {
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b < 0x80 {
            if (b < 0x20 && !matches!(b, b'\t' | b'\r' | b'\n')) || b == 0x7f {
                return true;
            }
            i += 1;
        } else {
            let c = s[i..].chars().next().expect("i is at a character boundary");
            if is_unsafe(c) {
                return true;
            }
            i += c.len_utf8();
        }
    }
    false
}

/// Replaces unsafe characters in a source text without moving any byte offset: ASCII
/// controls (other than tab, CR and LF) become `?`, two-byte C1 controls become `¿`, longer
/// ones become `?` padded with spaces. Used before a source snippet is rendered.
pub fn neutralize_source(s: &str) -> std::borrow::Cow<'_, str> {
    if !has_unsafe_source_char(s) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if is_unsafe(c) && !matches!(c, '\t' | '\r' | '\n') {
            match c.len_utf8() {
                1 => out.push('?'),
                2 => out.push('¿'),
                n => {
                    out.push('?');
                    out.extend(std::iter::repeat_n(' ', n - 1));
                }
            }
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Escapes, inside serialized JSON, the characters that serde_json leaves raw but a terminal
/// could interpret (C1 controls, DEL, bidi overrides, line separators). The result is the
/// same JSON value.
pub fn json_safe(json: String) -> String {
    if !json.chars().any(|c| is_unsafe(c) && c as u32 >= 0x7f) {
        return json;
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if is_unsafe(c) && c as u32 >= 0x7f {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_byte_scan_for_unsafe_characters_matches_the_char_by_char_one() {
        let slow = |s: &str| {
            s.chars()
                .any(|c| is_unsafe(c) && !matches!(c, '\t' | '\r' | '\n'))
        };
        for c in (0u32..0x3000).filter_map(char::from_u32) {
            let s = format!("ab{c}é\n");
            assert_eq!(has_unsafe_source_char(&s), slow(&s), "U+{:04X}", c as u32);
        }
    }

    #[test]
    fn escapes_what_a_terminal_would_interpret() {
        assert_eq!(quote("a\u{1b}[31mb\n"), r#""a\u{001b}[31mb\u{000a}""#);
        assert_eq!(quote("\u{9b}x\u{202e}"), r#""\u{009b}x\u{202e}""#);
        assert_eq!(quote_max("abcdef", 3), "\"abc…\"");
        let src = "a\u{1b}b\u{9b}c\u{2028}d";
        assert_eq!(neutralize_source(src).len(), src.len());
        assert_eq!(neutralize_source(src), "a?b¿c?  d");
    }
}
