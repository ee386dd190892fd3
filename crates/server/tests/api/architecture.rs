//! The server's module layering (docs/architecture.md): background work never
//! imports the web layer, and the top-level modules form no cycle. Read from the
//! sources, so a new `use crate::http::…` in `sync/` fails here, not in review.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
};

/// Top-level modules of `crates/server/src` and the files each is made of.
fn modules() -> BTreeMap<String, Vec<PathBuf>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut modules = BTreeMap::new();
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if name == "lib" || name == "main" {
            continue;
        }
        let mut files = Vec::new();
        collect(&path, &mut files);
        modules.entry(name).or_insert_with(Vec::new).extend(files);
    }
    modules
}

fn collect(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_dir() {
        for entry in std::fs::read_dir(path).unwrap() {
            collect(&entry.unwrap().path(), out);
        }
    } else if path.extension().is_some_and(|e| e == "rs") {
        out.push(path.to_owned());
    }
}

/// The crate's top-level modules a source text names: `crate::x::…` anywhere, and
/// the first segment of each item of a `use crate::{…}` group.
fn imports(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    for (at, _) in text.match_indices("crate::") {
        let rest = &text[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // Walk the group, taking the name that starts each top-level item.
            let (mut depth, mut start_of_item) = (0, true);
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => start_of_item = true,
                    c if start_of_item && depth == 0 && !c.is_whitespace() => {
                        found.insert(ident(&group[i..]));
                        start_of_item = false;
                    }
                    _ => {}
                }
            }
        } else {
            found.insert(ident(rest));
        }
    }
    found
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let modules = modules();
    modules
        .iter()
        .map(|(name, files)| {
            let deps = files
                .iter()
                .flat_map(|f| imports(&std::fs::read_to_string(f).unwrap()))
                .filter(|dep| dep != name && modules.contains_key(dep))
                .collect();
            (name.clone(), deps)
        })
        .collect()
}

#[test]
fn background_modules_never_import_the_web_layer() {
    let graph = graph();
    assert!(graph.len() > 10, "the scan found the modules: {graph:?}");
    for module in [
        "sync",
        "db",
        "dashboards",
        "integrations",
        "metrics",
        "domain",
        "notify",
        "state",
    ] {
        assert!(
            !graph[module].contains("http"),
            "`{module}` imports `http`: {:?}",
            graph[module]
        );
    }
}

#[test]
fn the_module_graph_has_no_cycle() {
    let graph = graph();
    // Depth-first search; a module met again while still on the path closes a cycle.
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for dep in &graph[node] {
            if let Some(cycle) = visit(dep, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        if let Some(cycle) = visit(node, &graph, &mut Vec::new(), &mut done) {
            panic!("module cycle: {}", cycle.join(" → "));
        }
    }
}

#[test]
fn the_import_reader_sees_groups_and_paths() {
    let text = "use crate::{\n    db::{self, Bypass},\n    error::ApiError,\n    state::AppState,\n};\nlet x = crate::http::thing();";
    assert_eq!(
        imports(text),
        ["db", "error", "http", "state"]
            .map(str::to_owned)
            .into_iter()
            .collect()
    );
}
