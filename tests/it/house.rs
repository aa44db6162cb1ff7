//! The house's layers: no import circle between the files of `src/`, and no import from a
//! lower floor to a higher one. The floors are the table [`FLOORS`] (ARCHITECTURE.md, "Layers",
//! says why each module stands where it does).
//!
//! An import is a path through `crate::` or `super::` (`runqlint::` in `src/main.rs`), in a
//! `use` or inline, resolved to the longest module path that is a file (`x.rs` and
//! `x/mod.rs` are `x`); a `use crate::a::b;` of a module makes later `b::…` paths imports of
//! `a::b` too. `mod x;` declarations are not imports, and a file's `#[cfg(test)] mod tests`
//! may import anything.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Top floor first. A module may import its own floor and the floors below it. The floor of
/// `a::b` is the floor of `a`.
const FLOORS: &[(&str, &[&str])] = &[
    ("entry", &["main"]),
    ("commands", &["commands"]),
    ("command line", &["cli"]),
    ("printers", &["output"]),
    ("engines", &["lint", "merge", "receipt", "liveness"]),
    ("policies", &["scan", "repair"]),
    ("settings", &["schema", "config"]),
    (
        "rules and git",
        &["rules", "git", "history", "attributes", "itemdiff", "amend"],
    ),
    (
        "models and doors",
        &["queue", "edit", "atomic", "journal", "trust", "gitcli"],
    ),
    (
        "ground",
        &["text", "error", "fields", "document", "failpoint"],
    ),
];

/// The circles that stand today, each as its sorted modules. THIS LIST MAY ONLY SHRINK: a
/// circle that is gone must leave it, and no new one may join it.
const KNOWN_CIRCLES: &[&[&str]] = &[];

/// The imports from a lower floor to a higher one that stand today (importer, imported).
/// THIS LIST MAY ONLY SHRINK, like [`KNOWN_CIRCLES`].
const KNOWN_UPWARD: &[(&str, &str)] = &[];

#[test]
fn every_module_stands_on_one_floor() {
    let graph = Graph::read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    let tops: BTreeSet<&str> = graph.files.keys().map(|m| top(m)).collect();
    let mut placed = BTreeSet::new();
    for (_, mods) in FLOORS {
        for m in *mods {
            assert!(placed.insert(*m), "{m} stands on two floors");
        }
    }
    let unplaced: Vec<_> = tops.difference(&placed).collect();
    assert!(
        unplaced.is_empty(),
        "put each on a floor of FLOORS: {unplaced:?}"
    );
    let gone: Vec<_> = placed.difference(&tops).collect();
    assert!(
        gone.is_empty(),
        "no such module, strike from FLOORS: {gone:?}"
    );
}

#[test]
fn no_new_import_circle() {
    let graph = Graph::read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    let found: BTreeSet<Vec<String>> = graph.circles().into_iter().collect();
    let known: BTreeSet<Vec<String>> = KNOWN_CIRCLES
        .iter()
        .map(|c| c.iter().map(|m| m.to_string()).collect())
        .collect();
    let new: Vec<String> = found
        .difference(&known)
        .map(|c| graph.describe(c))
        .collect();
    assert!(new.is_empty(), "new import circle(s):\n{}", new.join("\n"));
    let gone: Vec<_> = known.difference(&found).collect();
    assert!(
        gone.is_empty(),
        "circle(s) gone, strike them from KNOWN_CIRCLES: {gone:?}"
    );
}

#[test]
fn no_new_upward_import() {
    let graph = Graph::read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    let floor: BTreeMap<&str, usize> = FLOORS
        .iter()
        .enumerate()
        .flat_map(|(i, (_, mods))| mods.iter().map(move |m| (*m, i)))
        .collect();
    let mut found = BTreeSet::new();
    for ((from, to), names) in &graph.edges {
        let (Some(a), Some(b)) = (floor.get(top(from)), floor.get(top(to))) else {
            continue; // every_module_stands_on_one_floor names it
        };
        if b < a {
            found.insert((from.clone(), to.clone(), names.clone()));
        }
    }
    let known: BTreeSet<(String, String)> = KNOWN_UPWARD
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    let new: Vec<String> = found
        .iter()
        .filter(|(a, b, _)| !known.contains(&(a.clone(), b.clone())))
        .map(|(a, b, names)| format!("{a} -> {b}: {}", join(names)))
        .collect();
    assert!(
        new.is_empty(),
        "import(s) from a lower floor to a higher one:\n{}",
        new.join("\n")
    );
    let gone: Vec<_> = known
        .iter()
        .filter(|(a, b)| !found.iter().any(|(x, y, _)| x == a && y == b))
        .collect();
    assert!(
        gone.is_empty(),
        "upward import(s) gone, strike them from KNOWN_UPWARD: {gone:?}"
    );
}

/// The reader must see what it claims to see: a circle written into a copy of a small tree
/// is found, and so is an upward import.
#[test]
fn the_reader_finds_a_planted_circle() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path();
    std::fs::create_dir_all(src.join("a")).unwrap();
    std::fs::write(src.join("lib.rs"), "pub mod a;\npub mod b;\n").unwrap();
    std::fs::write(
        src.join("a/mod.rs"),
        "pub mod c;\nuse crate::b::{self, B};\nfn f() { b::g(); }\n",
    )
    .unwrap();
    std::fs::write(
        src.join("a/c.rs"),
        "// crate::b::Nope in a comment\nconst S: &str = \"crate::b\";\nuse super::A;\n",
    )
    .unwrap();
    std::fs::write(
        src.join("b.rs"),
        "#[cfg(test)]\nmod tests { use crate::a::A; }\npub fn g() { crate::a::c::h() }\n",
    )
    .unwrap();
    let graph = Graph::read(src);
    let edges: BTreeSet<(&str, &str)> = graph
        .edges
        .keys()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    assert_eq!(
        edges,
        BTreeSet::from([("a", "b"), ("a::c", "a"), ("b", "a::c")])
    );
    assert_eq!(
        graph.edges[&("a".into(), "b".into())],
        ["B", "b", "g"].map(String::from).into()
    );
    assert_eq!(graph.circles(), vec![vec!["a", "a::c", "b"]]);
}

fn top(module: &str) -> &str {
    module.split("::").next().unwrap_or(module)
}

fn join(names: &BTreeSet<String>) -> String {
    names.iter().cloned().collect::<Vec<_>>().join(", ")
}

struct Graph {
    /// Module path → file.
    files: BTreeMap<String, PathBuf>,
    /// (importer, imported) → the names it takes.
    edges: BTreeMap<(String, String), BTreeSet<String>>,
}

impl Graph {
    fn read(src: &Path) -> Graph {
        let mut files = BTreeMap::new();
        let mut stack = vec![src.to_path_buf()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let rel = path.strip_prefix(src).unwrap().with_extension("");
                    let mut parts: Vec<String> = rel
                        .components()
                        .map(|c| c.as_os_str().to_string_lossy().into_owned())
                        .collect();
                    match parts.last().map(String::as_str) {
                        Some("lib") if parts.len() == 1 => continue,
                        Some("mod") => {
                            parts.pop();
                        }
                        _ => {}
                    }
                    files.insert(parts.join("::"), path);
                }
            }
        }
        let mut graph = Graph {
            files,
            edges: BTreeMap::new(),
        };
        let modules: Vec<String> = graph.files.keys().cloned().collect();
        for module in modules {
            graph.read_file(&module);
        }
        graph
    }

    fn read_file(&mut self, module: &str) {
        let path = &self.files[module];
        let text = code_only(&std::fs::read_to_string(path).unwrap());
        let text = &cut_tests(&text);
        let roots: &[&str] = if module == "main" {
            &["runqlint", "super"]
        } else {
            &["crate", "super"]
        };
        let here: Vec<&str> = module.split("::").collect();
        let mut paths = Vec::new();
        for root in roots {
            for at in word_starts(text, &format!("{root}::")) {
                let mut out = Vec::new();
                expand(&text[at + root.len() + 2..], String::new(), &mut out);
                for p in out {
                    let full = if *root == "super" {
                        let parent = &here[..here.len().saturating_sub(1)];
                        parent
                            .iter()
                            .map(|s| s.to_string())
                            .chain(std::iter::once(p))
                            .collect::<Vec<_>>()
                            .join("::")
                    } else {
                        p
                    };
                    paths.push(full);
                }
            }
        }
        // `use crate::a::b;` of a module: `b::X` later is `a::b::X`.
        let aliases: BTreeSet<String> = paths
            .iter()
            .filter(|p| self.files.contains_key(p.as_str()))
            .cloned()
            .collect();
        for full in aliases {
            let alias = full.rsplit("::").next().unwrap().to_string();
            for at in word_starts(text, &format!("{alias}::")) {
                if text[..at].ends_with("::") {
                    continue;
                }
                let mut out = Vec::new();
                expand(&text[at + alias.len() + 2..], String::new(), &mut out);
                paths.extend(out.into_iter().map(|p| format!("{full}::{p}")));
            }
        }
        for full in paths {
            if let Some((target, name)) = self.resolve(&full) {
                if target != module {
                    self.edges
                        .entry((module.to_string(), target))
                        .or_default()
                        .insert(name);
                }
            }
        }
    }

    /// The longest module that prefixes `path`, and the name taken from it.
    fn resolve(&self, path: &str) -> Option<(String, String)> {
        let segs: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
        (1..=segs.len()).rev().find_map(|k| {
            let m = segs[..k].join("::");
            self.files.contains_key(&m).then(|| {
                // The name taken, or the module's own for the module itself.
                let name = segs.get(k).unwrap_or(&segs[k - 1]).to_string();
                (m, name)
            })
        })
    }

    /// Tarjan's strongly connected components of two modules or more, each sorted.
    fn circles(&self) -> Vec<Vec<String>> {
        struct Walk<'a> {
            next: BTreeMap<&'a str, Vec<&'a str>>,
            index: BTreeMap<&'a str, usize>,
            low: BTreeMap<&'a str, usize>,
            stack: Vec<&'a str>,
            on: BTreeSet<&'a str>,
            found: Vec<Vec<String>>,
        }
        fn strong<'a>(w: &mut Walk<'a>, v: &'a str) {
            let i = w.index.len();
            w.index.insert(v, i);
            w.low.insert(v, i);
            w.stack.push(v);
            w.on.insert(v);
            for u in w.next.get(v).cloned().unwrap_or_default() {
                if !w.index.contains_key(u) {
                    strong(w, u);
                    let l = w.low[v].min(w.low[u]);
                    w.low.insert(v, l);
                } else if w.on.contains(u) {
                    let l = w.low[v].min(w.index[u]);
                    w.low.insert(v, l);
                }
            }
            if w.low[v] == w.index[v] {
                let mut comp = Vec::new();
                loop {
                    let u = w.stack.pop().unwrap();
                    w.on.remove(u);
                    comp.push(u.to_string());
                    if u == v {
                        break;
                    }
                }
                if comp.len() > 1 {
                    comp.sort();
                    w.found.push(comp);
                }
            }
        }
        let mut walk = Walk {
            next: BTreeMap::new(),
            index: BTreeMap::new(),
            low: BTreeMap::new(),
            stack: Vec::new(),
            on: BTreeSet::new(),
            found: Vec::new(),
        };
        for (a, b) in self.edges.keys() {
            walk.next.entry(a.as_str()).or_default().push(b.as_str());
        }
        for v in self.files.keys() {
            if !walk.index.contains_key(v.as_str()) {
                strong(&mut walk, v);
            }
        }
        walk.found.sort();
        walk.found
    }

    /// A circle with the names that tie it, as modcycles.py prints it.
    fn describe(&self, circle: &[String]) -> String {
        let mut out = format!("circle: {}", circle.join(", "));
        for a in circle {
            for b in circle {
                if let Some(names) = self.edges.get(&(a.clone(), b.clone())) {
                    out.push_str(&format!("\n  {a} -> {b}: {}", join(names)));
                }
            }
        }
        out
    }
}

/// The text with comments, string and character literals blanked out (same length).
fn code_only(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = b.to_vec();
    let mut i = 0;
    let blank = |out: &mut Vec<u8>, from: usize, to: usize| {
        for c in &mut out[from..to.min(b.len())] {
            if *c != b'\n' {
                *c = b' ';
            }
        }
    };
    while i < b.len() {
        let rest = &b[i..];
        if rest.starts_with(b"//") {
            let end = rest
                .iter()
                .position(|&c| c == b'\n')
                .map_or(b.len(), |n| i + n);
            blank(&mut out, i, end);
            i = end;
        } else if rest.starts_with(b"/*") {
            let end = text[i + 2..].find("*/").map_or(b.len(), |n| i + 2 + n + 2);
            blank(&mut out, i, end);
            i = end;
        } else if rest.starts_with(b"r#") || rest.starts_with(b"r\"") {
            let hashes = rest[1..].iter().take_while(|&&c| c == b'#').count();
            if rest.get(1 + hashes) != Some(&b'"') || (i > 0 && is_ident(b[i - 1])) {
                i += 1;
                continue;
            }
            let close = format!("\"{}", "#".repeat(hashes));
            let start = i + 2 + hashes;
            let end = text[start..]
                .find(&close)
                .map_or(b.len(), |n| start + n + close.len());
            blank(&mut out, i, end);
            i = end;
        } else if rest[0] == b'"' {
            let mut j = i + 1;
            while j < b.len() && b[j] != b'"' {
                j += if b[j] == b'\\' { 2 } else { 1 };
            }
            blank(&mut out, i, j + 1);
            i = j + 1;
        } else if rest[0] == b'\'' && (rest.get(1) == Some(&b'\\') || rest.get(2) == Some(&b'\'')) {
            let from = if rest[1] == b'\\' { i + 3 } else { i + 2 };
            let end = text[from..].find('\'').map_or(b.len(), |n| from + n + 1);
            blank(&mut out, i, end);
            i = end;
        } else {
            i += 1;
        }
    }
    String::from_utf8(out).unwrap_or_default()
}

/// The text with each `#[cfg(test)] mod … { … }` blanked out (test modules may import
/// anything); `text` holds no comment or literal, so braces match.
fn cut_tests(text: &str) -> String {
    let mut out = text.to_string();
    let mut from = 0;
    while let Some(n) = text[from..].find("#[cfg(test)]") {
        let at = from + n;
        from = at + 12;
        let after = text[from..].trim_start();
        let Some(open) = after.find('{').filter(|_| after.starts_with("mod ")) else {
            continue;
        };
        let body = text.len() - after.len() + open;
        let mut depth = 0;
        let mut end = text.len();
        for (i, c) in text[body..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = body + i + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        out.replace_range(at..end, &" ".repeat(end - at));
        from = end;
    }
    out
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// Where `word` starts in `text` with no identifier character before it.
fn word_starts(text: &str, word: &str) -> Vec<usize> {
    text.match_indices(word)
        .map(|(at, _)| at)
        .filter(|&at| at == 0 || !is_ident(text.as_bytes()[at - 1]))
        .collect()
}

/// The paths written at the start of `rest` (after a `root::`), with groups expanded:
/// `a::{b, c::{d, self}}` → `a::b`, `a::c::d`, `a::c`.
fn expand(rest: &str, prefix: String, out: &mut Vec<String>) {
    let mut path = prefix;
    let mut s = rest.trim_start();
    loop {
        let len = s.bytes().take_while(|&c| is_ident(c)).count();
        if len > 0 {
            let seg = &s[..len];
            if seg != "self" {
                if !path.is_empty() {
                    path.push_str("::");
                }
                path.push_str(seg);
            }
            s = &s[len..];
            if let Some(after) = s.strip_prefix("::") {
                s = after.trim_start();
                continue;
            }
            out.push(path);
            return;
        }
        if let Some(group) = s.strip_prefix('{') {
            let mut depth = 0;
            let mut start = 0;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => {
                        expand(&group[start..i], path.clone(), out);
                        return;
                    }
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        expand(&group[start..i], path.clone(), out);
                        start = i + 1;
                    }
                    _ => {}
                }
            }
            return;
        }
        // `*` or the end: the path so far.
        if !path.is_empty() {
            out.push(path);
        }
        return;
    }
}
