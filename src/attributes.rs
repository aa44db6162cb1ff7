//! Which line of git's attribute files decides a path's `merge` attribute.
//!
//! git answers the value (`git check-attr merge`) but not which line gave it. So the
//! candidate lines (those that set, unset or unspecify `merge`, directly or through a
//! macro such as `binary`) are read from the files git consults, and git itself is asked
//! which of their patterns match the path: each candidate's pattern becomes an attribute of
//! its own (`runqlint-probe-N`) in one probe file given as `core.attributesFile`, so one
//! `git check-attr -a` answers for all of them with git's own matching. The matching line
//! of highest precedence decides; it is named only when its value is the one git reports.
//!
//! Precedence, highest first (gitattributes(5)): `$GIT_DIR/info/attributes`, the
//! `.gitattributes` of the path's directory, then of each parent up to the root, then the
//! global file (`core.attributesFile`, else `$XDG_CONFIG_HOME/git/attributes`: `git var
//! GIT_ATTR_GLOBAL`), then the system file (`git var GIT_ATTR_SYSTEM`); within a file, the
//! last matching line.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{io, Result};
use crate::gitcli::Git;

/// Where an attributes file sits in git's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Precedence {
    /// `$GIT_DIR/info/attributes`: above every `.gitattributes`.
    Info,
    /// The `.gitattributes` of a directory below the root (repository-relative, no slash
    /// at either end): above the root's.
    Directory(String),
    /// The root's `.gitattributes`, the file `install-hook --gitattributes` writes.
    Root,
    /// The global or the system file: below every `.gitattributes`.
    Outside,
}

/// A line that sets the attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// The file as shown: repository-relative inside the working tree, else absolute.
    pub file: String,
    pub place: Precedence,
    /// 1-based.
    pub number: usize,
    /// The line as written (trimmed).
    pub text: String,
}

/// What git says of a path's attribute, and the line that says it.
#[derive(Debug, Clone)]
pub struct Decision {
    /// `git check-attr`'s value: `unspecified`, `unset`, `set` or the value.
    pub value: String,
    /// The line that decides it, when one does and runqlint could tell which.
    pub line: Option<Line>,
}

/// A file git consults, its place and how it is shown.
struct AttrFile {
    path: PathBuf,
    shown: String,
    place: Precedence,
}

/// The `attr` attribute of `path` (repository-relative) as git decides it, and the line
/// that decides it. `root` is the working tree's root.
pub fn decide(git: &Git, root: &Path, path: &str, attr: &str) -> Result<Decision> {
    let value = git.attribute(path, attr)?;
    let sources = sources(git, root, path)?;
    let files: Vec<(AttrFile, String)> = sources
        .into_iter()
        .filter_map(|s| {
            let text = std::fs::read(&s.path).ok()?;
            Some((s, String::from_utf8_lossy(&text).into_owned()))
        })
        .collect();

    // Macros are defined only in the files that are not a subdirectory's; a later
    // definition (of higher precedence) replaces an earlier one.
    let mut macros: HashMap<String, Vec<String>> = HashMap::new();
    macros.insert(
        "binary".into(),
        vec!["-diff".into(), "-merge".into(), "-text".into()],
    );
    for (source, text) in files.iter().rev() {
        if matches!(source.place, Precedence::Directory(_)) {
            continue;
        }
        for line in text.lines() {
            if let Some(def) = line.trim().strip_prefix("[attr]") {
                let mut words = def.split_whitespace();
                if let Some(name) = words.next() {
                    macros.insert(name.to_string(), words.map(str::to_string).collect());
                }
            }
        }
    }

    // The lines that give `attr` a value, in order of precedence (highest first).
    let mut candidates: Vec<(Line, String, String)> = Vec::new();
    for (source, text) in &files {
        let mut in_file = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with("[attr]") {
                continue;
            }
            let Some((pattern, attrs)) = split_pattern(line) else {
                continue;
            };
            let Some(effect) = effect(attrs.split_whitespace(), attr, &macros, 0) else {
                continue;
            };
            in_file.push((
                Line {
                    file: source.shown.clone(),
                    place: source.place.clone(),
                    number: i + 1,
                    text: line.to_string(),
                },
                probe_pattern(pattern, &source.place),
                effect,
            ));
        }
        in_file.reverse();
        candidates.extend(in_file);
    }
    if candidates.is_empty() {
        return Ok(Decision { value, line: None });
    }

    let mut probe = tempfile::Builder::new()
        .prefix(".runqlint-attributes")
        .tempfile()
        .map_err(|e| io(Path::new("."), "create a temporary file", e))?;
    let mut body = String::new();
    for (n, (_, pattern, _)) in candidates.iter().enumerate() {
        body.push_str(&format!("{pattern} runqlint-probe-{n}\n"));
    }
    probe
        .write_all(body.as_bytes())
        .and_then(|()| probe.flush())
        .map_err(|e| io(probe.path(), "write", e))?;
    let matched = git.attributes_set(path, probe.path())?;
    let winner = candidates
        .into_iter()
        .enumerate()
        .find(|(n, _)| matched.iter().any(|a| *a == format!("runqlint-probe-{n}")))
        .map(|(_, c)| c);
    let line = winner
        .filter(|(_, _, effect)| *effect == value)
        .map(|(line, _, _)| line);
    Ok(Decision { value, line })
}

/// The files git consults for `path`, highest precedence first.
fn sources(git: &Git, root: &Path, path: &str) -> Result<Vec<AttrFile>> {
    // Both sides canonical, so that `/var` and `/private/var` (macOS) compare equal.
    let canonical = |p: &Path| {
        let dir = p.parent().and_then(|d| std::fs::canonicalize(d).ok());
        match (dir, p.file_name()) {
            (Some(d), Some(name)) => d.join(name),
            _ => p.to_path_buf(),
        }
    };
    let root_canonical = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    let shown = |p: &Path| match canonical(p).strip_prefix(&root_canonical) {
        Ok(rel) => rel.to_string_lossy().replace('\\', "/"),
        Err(_) => p.to_string_lossy().into_owned(),
    };
    let mut out = Vec::new();
    if let Some(info) = git.git_path("info/attributes")? {
        out.push(AttrFile {
            shown: shown(&info),
            path: info,
            place: Precedence::Info,
        });
    }
    let dirs: Vec<&str> = path.split('/').collect();
    for n in (1..dirs.len()).rev() {
        let dir = dirs[..n].join("/");
        let file = root.join(&dir).join(".gitattributes");
        out.push(AttrFile {
            shown: format!("{dir}/.gitattributes"),
            path: file,
            place: Precedence::Directory(dir),
        });
    }
    out.push(AttrFile {
        path: root.join(".gitattributes"),
        shown: ".gitattributes".into(),
        place: Precedence::Root,
    });
    for var in ["GIT_ATTR_GLOBAL", "GIT_ATTR_SYSTEM"] {
        if let Some(file) = git.var_path(var)? {
            out.push(AttrFile {
                shown: shown(&file),
                path: file,
                place: Precedence::Outside,
            });
        }
    }
    Ok(out)
}

/// A line's pattern (C-quoted or not) and the rest.
fn split_pattern(line: &str) -> Option<(&str, &str)> {
    if let Some(rest) = line.strip_prefix('"') {
        let mut escaped = false;
        for (i, c) in rest.char_indices() {
            match c {
                '\\' if !escaped => escaped = true,
                '"' if !escaped => return Some((&line[..i + 2], &rest[i + 1..])),
                _ => escaped = false,
            }
        }
        return None;
    }
    let end = line.find(char::is_whitespace).unwrap_or(line.len());
    Some((&line[..end], &line[end..]))
}

/// The value a line's attributes give `attr` (`set`, `unset`, `unspecified` or the value),
/// macros expanded; the last word that touches it counts. `None`: the line leaves it alone.
fn effect<'a>(
    words: impl Iterator<Item = &'a str>,
    attr: &str,
    macros: &'a HashMap<String, Vec<String>>,
    depth: usize,
) -> Option<String> {
    let mut value = None;
    for word in words {
        let v = if word == attr {
            Some("set".to_string())
        } else if word.strip_prefix('-') == Some(attr) {
            Some("unset".to_string())
        } else if word.strip_prefix('!') == Some(attr) {
            Some("unspecified".to_string())
        } else if let Some(v) = word.strip_prefix(attr).and_then(|r| r.strip_prefix('=')) {
            Some(v.to_string())
        } else if let (Some(expansion), true) = (macros.get(word), depth < 8) {
            effect(
                expansion.iter().map(String::as_str),
                attr,
                macros,
                depth + 1,
            )
        } else {
            None
        };
        if v.is_some() {
            value = v;
        }
    }
    value
}

/// `pattern` as a line of a file at the root (the probe file's place) matching what it
/// matches where it is written: a pattern with a slash is relative to its file's directory;
/// one without matches the name at any depth, which below that directory it still does.
fn probe_pattern(pattern: &str, place: &Precedence) -> String {
    let Precedence::Directory(dir) = place else {
        return pattern.to_string();
    };
    let (quote, inner) = match pattern.strip_prefix('"') {
        Some(rest) => ("\"", rest),
        None => ("", pattern),
    };
    if inner.trim_end_matches(['/', '"']).contains('/') {
        format!("{quote}{dir}/{}", inner.trim_start_matches('/'))
    } else {
        pattern.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn effects_follow_the_last_word_and_expand_macros() {
        let mut macros = HashMap::new();
        macros.insert("binary".to_string(), vec!["-diff".into(), "-merge".into()]);
        macros.insert("q".to_string(), vec!["binary".into()]);
        let e = |s: &str| effect(s.split_whitespace(), "merge", &macros, 0);
        assert_eq!(e("merge=runqlint"), Some("runqlint".into()));
        assert_eq!(e("-merge"), Some("unset".into()));
        assert_eq!(e("!merge"), Some("unspecified".into()));
        assert_eq!(e("merge"), Some("set".into()));
        assert_eq!(e("binary"), Some("unset".into()));
        assert_eq!(e("q merge=x"), Some("x".into()));
        assert_eq!(e("merge=x q"), Some("unset".into()));
        assert_eq!(e("text eol=lf mergex"), None);
    }

    #[test]
    fn patterns_of_a_subdirectory_are_anchored_there() {
        let sub = Precedence::Directory("a/b".into());
        assert_eq!(probe_pattern("run_queue.json", &sub), "run_queue.json");
        assert_eq!(probe_pattern("/run_queue.json", &sub), "a/b/run_queue.json");
        assert_eq!(probe_pattern("c/*.json", &sub), "a/b/c/*.json");
        assert_eq!(probe_pattern("\"c/x y.json\"", &sub), "\"a/b/c/x y.json\"");
        assert_eq!(probe_pattern("/x.json", &Precedence::Root), "/x.json");
        assert_eq!(
            split_pattern("\"a \\\" b\" merge"),
            Some(("\"a \\\" b\"", " merge"))
        );
    }
}
