//! The layering of `src/` (ARCHITECTURE.md), checked so that it cannot bend silently: every
//! module may use only the modules listed for it, no command module uses another, and no two
//! modules under the same parent use each other, directly or through others.
//!
//! Each file under `src/` is parsed (syn); every `use` and every path that starts with
//! `crate::`, `super::` or `self::` (also inside macro calls) is an edge to the module it names.
//! Test code (`#[cfg(test)]` modules and the files they load) is left out: tests may reach
//! anywhere.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use syn::visit::Visit;

/// Top-level modules and what each may use, lowest layer first. `commands` may use any of them
/// (it is the top, under `main`), so it is not listed.
const LAYERS: &[(&str, &[&str])] = &[
    ("exit", &[]),
    ("invocation_log", &[]),
    ("config", &[]),
    ("runner", &[]),
    ("cost", &["config"]),
    ("aws", &["config"]),
    ("docs", &["aws"]),
    ("engine", &["aws", "config"]),
    ("queries", &["config", "cost", "invocation_log"]),
    ("quotas", &["aws", "config", "cost"]),
    ("log_objects", &["aws", "config", "cost"]),
    ("limits", &["aws", "config", "cost", "log_objects"]),
    (
        "resources",
        &[
            "aws",
            "config",
            "cost",
            "docs",
            "engine",
            "invocation_log",
            "limits",
            "queries",
            "quotas",
            "runner",
        ],
    ),
    ("cli", &["engine"]),
    ("ui", &["cli", "engine", "exit"]),
    (
        "report",
        &[
            "aws",
            "config",
            "cost",
            "invocation_log",
            "log_objects",
            "queries",
            "quotas",
            "ui",
        ],
    ),
    (
        "targets",
        &["aws", "config", "engine", "exit", "resources", "ui"],
    ),
    ("digest", &["aws", "config", "cost", "limits", "report"]),
];

/// A module by its path from the crate root (`report::daily`); the root is empty.
type ModulePath = Vec<String>;

fn display(m: &[String]) -> String {
    if m.is_empty() {
        "crate".into()
    } else {
        m.join("::")
    }
}

/// The library's modules: each file's module path, without the test-only files.
fn modules(src: &Path) -> BTreeMap<ModulePath, PathBuf> {
    let mut found = BTreeMap::new();
    collect(src, src, &mut found);
    found.remove(&vec!["main".to_string()]);
    found
}

fn collect(root: &Path, dir: &Path, found: &mut BTreeMap<ModulePath, PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(root, &path, found);
            continue;
        }
        if path.extension().and_then(|e| e.to_str()) != Some("rs") {
            continue;
        }
        let Ok(relative) = path.strip_prefix(root) else {
            continue;
        };
        let mut parts: Vec<String> = relative
            .with_extension("")
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
            parts.pop();
        }
        found.insert(parts, path);
    }
}

fn is_cfg_test(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("cfg")
            && a.parse_args::<syn::Meta>()
                .is_ok_and(|m| m.path().is_ident("test"))
    })
}

/// What one file refers to: paths as written, and the test-only submodules it declares.
struct Refs<'a> {
    module: &'a [String],
    paths: Vec<ModulePath>,
    test_modules: Vec<String>,
}

impl Refs<'_> {
    /// A path as written in the file, made absolute when it starts with `crate`, `super` or
    /// `self` (others name extern crates or local items, which are not edges).
    fn absolute(&self, segments: &[String]) -> Option<ModulePath> {
        let mut base: ModulePath = self.module.to_vec();
        let mut rest = segments;
        match rest.first().map(String::as_str) {
            Some("crate") => {
                base.clear();
                rest = &rest[1..];
            }
            Some("super") => {
                while rest.first().map(String::as_str) == Some("super") {
                    base.pop();
                    rest = &rest[1..];
                }
            }
            Some("self") => rest = &rest[1..],
            _ => return None,
        }
        base.extend(rest.iter().cloned());
        Some(base)
    }

    fn add(&mut self, segments: Vec<String>) {
        if let Some(path) = self.absolute(&segments) {
            self.paths.push(path);
        }
    }

    fn use_tree(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.use_tree(prefix, &p.tree);
                prefix.pop();
            }
            syn::UseTree::Name(n) => {
                let mut full = prefix.clone();
                if n.ident != "self" {
                    full.push(n.ident.to_string());
                }
                self.add(full);
            }
            syn::UseTree::Rename(r) => {
                let mut full = prefix.clone();
                full.push(r.ident.to_string());
                self.add(full);
            }
            syn::UseTree::Glob(_) => self.add(prefix.clone()),
            syn::UseTree::Group(g) => {
                for item in &g.items {
                    self.use_tree(prefix, item);
                }
            }
        }
    }
}

impl<'ast> Visit<'ast> for Refs<'_> {
    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        if is_cfg_test(&m.attrs) {
            self.test_modules.push(m.ident.to_string());
            return;
        }
        syn::visit::visit_item_mod(self, m);
    }

    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        self.use_tree(&mut Vec::new(), &u.tree);
    }

    fn visit_path(&mut self, p: &'ast syn::Path) {
        let segments = p.segments.iter().map(|s| s.ident.to_string()).collect();
        self.add(segments);
        syn::visit::visit_path(self, p);
    }

    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        // Macro arguments are tokens, not syntax: find `crate :: a :: b` runs in them.
        let text = m.tokens.to_string();
        let words: Vec<&str> = text.split_whitespace().collect();
        for (i, word) in words.iter().enumerate() {
            if !matches!(*word, "crate" | "super") {
                continue;
            }
            let mut segments = vec![word.to_string()];
            let mut j = i + 1;
            while words.get(j) == Some(&"::") {
                match words.get(j + 1) {
                    Some(next) if next.chars().all(|c| c.is_alphanumeric() || c == '_') => {
                        segments.push(next.to_string());
                        j += 2;
                    }
                    _ => break,
                }
            }
            if segments.len() > 1 {
                self.add(segments);
            }
        }
        syn::visit::visit_macro(self, m);
    }
}

/// Every edge between modules (the module a path names is its longest known prefix), with the
/// file it is written in, skipping test-only files.
fn edges(src: &Path) -> BTreeSet<(ModulePath, ModulePath, String)> {
    let modules = modules(src);
    let mut test_only: BTreeSet<ModulePath> = BTreeSet::new();
    let mut edges = BTreeSet::new();
    // Parents before children, so a test-only declaration is seen before the file it loads.
    for (module, file) in &modules {
        if test_only.iter().any(|t| module.starts_with(t)) {
            continue;
        }
        let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{file:?}: {e}"));
        let ast = syn::parse_file(&text).unwrap_or_else(|e| panic!("{file:?}: {e}"));
        let mut refs = Refs {
            module,
            paths: Vec::new(),
            test_modules: Vec::new(),
        };
        refs.visit_file(&ast);
        for t in &refs.test_modules {
            let mut path = module.clone();
            path.push(t.clone());
            test_only.insert(path);
        }
        for path in refs.paths {
            let target = (0..=path.len())
                .rev()
                .map(|n| path[..n].to_vec())
                .find(|prefix| modules.contains_key(prefix))
                .unwrap_or_default();
            if &target != module {
                edges.insert((module.clone(), target, file.display().to_string()));
            }
        }
    }
    edges
}

/// The crate's `src/`, or another tree to check (`ARCHITECTURE_SRC`, to see what the checks
/// say of an older revision).
fn src_dir() -> PathBuf {
    std::env::var_os("ARCHITECTURE_SRC")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("src"))
}

/// The child of `parent` that `module` is in (or `None` when it is `parent` itself or
/// outside it).
fn child_of(parent: &[String], module: &[String]) -> Option<String> {
    (module.len() > parent.len() && module.starts_with(parent))
        .then(|| module[parent.len()].clone())
}

/// A cycle in `graph`, as the list of its nodes, if there is one.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = stack.iter().position(|n| n == node) {
            let mut cycle = stack[at..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        stack.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, stack, done) {
                return Some(cycle);
            }
        }
        stack.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

#[test]
fn modules_use_only_the_layers_below_them() {
    let allowed: BTreeMap<&str, &[&str]> = LAYERS.iter().copied().collect();
    let mut broken = Vec::new();
    for (from, to, file) in edges(&src_dir()) {
        let (Some(a), Some(b)) = (from.first(), to.first()) else {
            continue;
        };
        if a == b || a == "commands" {
            continue;
        }
        match allowed.get(a.as_str()) {
            Some(may) if may.contains(&b.as_str()) => {}
            Some(_) => broken.push(format!("{file}: {} uses {}", display(&from), display(&to))),
            None => broken.push(format!(
                "{file}: module {a} is not in the layers of tests/it/architecture.rs (add it, and to ARCHITECTURE.md)"
            )),
        }
    }
    assert!(
        broken.is_empty(),
        "imports against the layering:\n{}",
        broken.join("\n")
    );
}

#[test]
fn no_command_uses_another_command() {
    let commands = vec!["commands".to_string()];
    let crossing: Vec<String> = edges(&src_dir())
        .into_iter()
        .filter(|(from, to, _)| {
            matches!(
                (child_of(&commands, from), child_of(&commands, to)),
                (Some(a), Some(b)) if a != b
            )
        })
        .map(|(from, to, file)| format!("{file}: {} uses {}", display(&from), display(&to)))
        .collect();
    assert!(crossing.is_empty(), "{}", crossing.join("\n"));
}

#[test]
fn no_two_sibling_modules_depend_on_each_other() {
    let edges = edges(&src_dir());
    let parents: BTreeSet<ModulePath> = modules(&src_dir())
        .keys()
        .filter(|m| !m.is_empty())
        .map(|m| m[..m.len() - 1].to_vec())
        .collect();
    let mut cycles = Vec::new();
    for parent in parents {
        let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (from, to, _) in &edges {
            if let (Some(a), Some(b)) = (child_of(&parent, from), child_of(&parent, to))
                && a != b
            {
                graph.entry(a).or_default().insert(b);
            }
        }
        if let Some(cycle) = find_cycle(&graph) {
            let scope = if parent.is_empty() {
                String::from("src/")
            } else {
                format!("{}::", display(&parent))
            };
            cycles.push(format!("import cycle in {scope}: {}", cycle.join(" → ")));
        }
    }
    assert!(cycles.is_empty(), "{}", cycles.join("\n"));
}

#[test]
fn the_checks_see_a_cycle_and_a_forbidden_import() {
    // The checks themselves, on a small tree: report → resources is against the layering, and
    // a::x ↔ a::y is a cycle.
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path();
    std::fs::create_dir_all(src.join("report")).expect("mkdir");
    std::fs::create_dir_all(src.join("a")).expect("mkdir");
    let write = |name: &str, text: &str| std::fs::write(src.join(name), text).expect("write");
    write(
        "lib.rs",
        "pub mod a;\npub mod report;\npub mod resources;\n",
    );
    write("resources.rs", "pub fn f() {}\n");
    write(
        "report/mod.rs",
        "pub fn g() { crate::resources::f(); }\n#[cfg(test)]\nmod tests;\n",
    );
    write("report/tests.rs", "use crate::commands::x;\n");
    write("a/mod.rs", "pub mod x;\npub mod y;\n");
    write("a/x.rs", "use super::y::h;\npub fn k() { h() }\n");
    write(
        "a/y.rs",
        "pub fn h() { format!(\"{}\", crate::a::x::k()); }\n",
    );
    let edges = edges(src);
    let names: BTreeSet<(String, String)> = edges
        .iter()
        .map(|(a, b, _)| (display(a), display(b)))
        .collect();
    assert!(
        names.contains(&("report".into(), "resources".into())),
        "{names:?}"
    );
    assert!(names.contains(&("a::x".into(), "a::y".into())), "{names:?}");
    assert!(names.contains(&("a::y".into(), "a::x".into())), "{names:?}");
    // The test-only file is not read.
    assert!(
        !names.iter().any(|(a, _)| a.starts_with("report::tests")),
        "{names:?}"
    );
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (a, b, _) in &edges {
        let parent = vec!["a".to_string()];
        if let (Some(x), Some(y)) = (child_of(&parent, a), child_of(&parent, b)) {
            graph.entry(x).or_default().insert(y);
        }
    }
    assert!(find_cycle(&graph).is_some());
}

/// What writes to the terminal in one file: the print macros, and `stdout()` / `stderr()`
/// used for anything but asking whether they are a terminal.
#[derive(Default)]
struct Writes {
    found: Vec<String>,
}

impl<'ast> Visit<'ast> for Writes {
    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        if !is_cfg_test(&m.attrs) {
            syn::visit::visit_item_mod(self, m);
        }
    }

    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        if !is_cfg_test(&f.attrs) {
            syn::visit::visit_item_fn(self, f);
        }
    }

    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        let name = m
            .path
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default();
        if matches!(
            name.as_str(),
            "print" | "println" | "eprint" | "eprintln" | "dbg"
        ) {
            self.found.push(format!("{name}!"));
        }
        syn::visit::visit_macro(self, m);
    }

    fn visit_expr_method_call(&mut self, call: &'ast syn::ExprMethodCall) {
        // `std::io::stdout().is_terminal()` asks, it does not write.
        if call.method == "is_terminal" {
            return;
        }
        syn::visit::visit_expr_method_call(self, call);
    }

    fn visit_expr_call(&mut self, call: &'ast syn::ExprCall) {
        if let syn::Expr::Path(p) = &*call.func
            && let Some(last) = p.path.segments.last()
            && matches!(last.ident.to_string().as_str(), "stdout" | "stderr")
        {
            self.found.push(format!("{}()", last.ident));
        }
        syn::visit::visit_expr_call(self, call);
    }
}

/// Every file outside `ui` and `main` that writes to the terminal itself, with what it uses.
fn terminal_writers(src: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for (module, file) in modules(src) {
        if module.first().map(String::as_str) == Some("ui") {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{file:?}: {e}"));
        let ast = syn::parse_file(&text).unwrap_or_else(|e| panic!("{file:?}: {e}"));
        let mut writes = Writes::default();
        writes.visit_file(&ast);
        if !writes.found.is_empty() {
            out.push(format!("{}: {}", display(&module), writes.found.join(", ")));
        }
    }
    out
}

/// All output goes through `ui` (the printer owns stdout and the user-facing stderr; the
/// progress and prompts are `ui`'s too): no other module prints, so `-q`, `--output json` and
/// a terminal's absence are honoured in one place. (`main` is not a library module.)
#[test]
fn nothing_but_ui_writes_to_the_terminal() {
    let writers = terminal_writers(&src_dir());
    assert!(writers.is_empty(), "writing outside ui: {writers:#?}");
}

/// The check sees a print macro and a `stdout()` write, and not an `is_terminal` question.
#[test]
fn the_terminal_check_sees_a_print_and_a_stdout_write() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path();
    std::fs::create_dir_all(src.join("ui")).expect("ui");
    std::fs::write(src.join("ui/mod.rs"), "pub fn f() { println!(\"ok\"); }").expect("ui");
    std::fs::write(
        src.join("report.rs"),
        "use std::io::{IsTerminal, Write};\n\
         pub fn g() { eprintln!(\"x\"); let _ = std::io::stdout().write_all(b\"y\"); }\n\
         pub fn h() -> bool { std::io::stdout().is_terminal() }\n\
         #[cfg(test)] mod tests { fn t() { println!(\"fine in tests\"); } }",
    )
    .expect("report");
    assert_eq!(terminal_writers(src), ["report: eprintln!, stdout()"]);
}
