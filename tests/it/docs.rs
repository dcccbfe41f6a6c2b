//! The documents (README.md, ARCHITECTURE.md, docs/*.md) checked against the repository and the
//! CLI, so that a moved section or a renamed flag cannot leave a reader at a dead end:
//! - every relative Markdown link names a file that exists and, into a Markdown file, an anchor
//!   (`#heading`) that one of its headings produces by GitHub's rule (the heading's text in
//!   lower case, spaces to `-`, every character but letters, digits, `-` and `_` removed, a
//!   repeated heading suffixed `-1`, `-2`, …);
//! - every `bedrock-monitor …` command shown in code (a command in a code block, or a code span
//!   that starts with it or with a subcommand and a flag, as in `apply --adopt all`) names only
//!   subcommands and flags the CLI has. The command tree is clap's own (`Cli::command()`), so a
//!   new command or flag needs no list here.
//!
//! What counts as code follows CommonMark closely enough for these documents: fenced blocks
//! (``` or ~~~), and code spans delimited by backtick runs of the same length within one
//! paragraph. Links inside code are not links; headings inside code are not headings.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use bedrock_monitor::cli::Cli;
use clap::CommandFactory;

/// One document split into what the checks read.
#[derive(Debug, Default)]
struct Parsed {
    /// The text with code blanked out (same length, same lines), where links are looked for.
    prose: String,
    /// Heading texts outside code, in order.
    headings: Vec<String>,
    /// Code: (line, text, in a block). A span's line breaks are spaces.
    code: Vec<(usize, String, bool)>,
}

/// Whether `line` opens or closes a fence: its character and length.
fn fence(line: &str) -> Option<(char, usize)> {
    let indent = line.len() - line.trim_start_matches(' ').len();
    if indent > 3 {
        return None;
    }
    let rest = &line[indent..];
    let c = rest.chars().next().filter(|c| *c == '`' || *c == '~')?;
    let n = rest.chars().take_while(|x| *x == c).count();
    (n >= 3).then_some((c, n))
}

/// The text of an ATX heading (`## Text ##`), if the line is one.
fn heading(line: &str) -> Option<String> {
    let indent = line.len() - line.trim_start_matches(' ').len();
    if indent > 3 {
        return None;
    }
    let rest = &line[indent..];
    let level = rest.chars().take_while(|c| *c == '#').count();
    if !(1..=6).contains(&level) {
        return None;
    }
    let text = &rest[level..];
    if !(text.is_empty() || text.starts_with(' ') || text.starts_with('\t')) {
        return None;
    }
    let text = text.trim();
    // A closing sequence of `#`s preceded by a space is not part of the text.
    let stripped = text.trim_end_matches('#');
    let text = if stripped.len() < text.len() && (stripped.is_empty() || stripped.ends_with(' ')) {
        stripped.trim_end()
    } else {
        text
    };
    Some(text.to_string())
}

fn parse(text: &str) -> Parsed {
    let mut parsed = Parsed::default();
    // Fenced blocks first: their lines become blank prose (a paragraph break, as they are).
    let mut prose_lines: Vec<String> = Vec::new();
    let mut open: Option<(char, usize)> = None;
    for (i, line) in text.lines().enumerate() {
        match open {
            Some((c, n)) => {
                if fence(line).is_some_and(|(c2, n2)| c2 == c && n2 >= n)
                    && line.trim_start().trim_start_matches(c).trim().is_empty()
                {
                    open = None;
                } else {
                    parsed.code.push((i + 1, line.to_string(), true));
                }
                prose_lines.push(String::new());
            }
            None => {
                if let Some(f) = fence(line) {
                    open = Some(f);
                    prose_lines.push(String::new());
                } else {
                    prose_lines.push(line.to_string());
                }
            }
        }
    }
    // Then code spans, paragraph by paragraph: a backtick run closes only with a run of the
    // same length before the next blank line, else it is literal text.
    let joined = prose_lines.join("\n");
    let bytes = joined.as_bytes();
    let mut prose = bytes.to_vec();
    let line_of = |pos: usize| bytes[..pos].iter().filter(|b| **b == b'\n').count() + 1;
    let paragraph_end = |from: usize| {
        let mut i = from;
        while i < bytes.len() {
            if bytes[i] == b'\n' {
                let mut j = i + 1;
                while j < bytes.len() && (bytes[j] == b' ' || bytes[j] == b'\t') {
                    j += 1;
                }
                if j >= bytes.len() || bytes[j] == b'\n' {
                    return i;
                }
            }
            i += 1;
        }
        bytes.len()
    };
    let run_at = |i: usize| bytes[i..].iter().take_while(|b| **b == b'`').count();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'`' {
            i += 1;
            continue;
        }
        let n = run_at(i);
        let end = paragraph_end(i);
        let mut j = i + n;
        let mut close = None;
        while j < end {
            if bytes[j] == b'`' {
                let m = run_at(j);
                if m == n {
                    close = Some(j);
                    break;
                }
                j += m;
            } else {
                j += 1;
            }
        }
        match close {
            Some(j) => {
                let content = String::from_utf8_lossy(&bytes[i + n..j]).replace('\n', " ");
                parsed.code.push((line_of(i), content, false));
                for b in &mut prose[i..j + n] {
                    if *b != b'\n' {
                        *b = b' ';
                    }
                }
                i = j + n;
            }
            None => i += n,
        }
    }
    parsed.code.sort_by_key(|(line, _, _)| *line);
    // Blanking whole byte ranges of ASCII delimiters and UTF-8 sequences keeps it UTF-8.
    parsed.prose = String::from_utf8_lossy(&prose).into_owned();
    for (line, original) in parsed.prose.lines().zip(prose_lines.iter()) {
        if heading(line).is_some() {
            // The heading's own text, code spans included (they count for the anchor).
            parsed.headings.extend(heading(original));
        }
    }
    parsed
}

/// GitHub's anchor for a heading: the rendered text (code without its backticks, a link's
/// text without its target), lower case, spaces to `-`, other punctuation removed. This is
/// html-pipeline's `TableOfContentsFilter` (`downcase`, drop `[^\p{Word}\- ]`, `tr(' ', '-')`,
/// repeats suffixed `-1`, `-2`), which GitHub's renderer follows: each space is its own `-`, so
/// "report --source cur" is `report---source-cur`, as this project's links always had it. Some
/// write-ups of the rule collapse a run of spaces and punctuation into one `-`; this follows
/// html-pipeline's code instead.
fn anchor(heading: &str) -> String {
    let links = regex::Regex::new(r"!?\[([^\]]*)\]\([^)]*\)").expect("a valid pattern");
    let text = links.replace_all(heading, "$1");
    text.trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            '-' | '_' => Some(c),
            c if c.is_alphanumeric() => Some(c),
            _ => None,
        })
        .collect()
}

/// Every anchor a document's headings produce, repeated ones numbered as GitHub does.
fn anchors(headings: &[String]) -> Vec<String> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    headings
        .iter()
        .map(|h| {
            let base = anchor(h);
            let n = seen.entry(base.clone()).or_insert(0);
            let out = if *n == 0 { base } else { format!("{base}-{n}") };
            *n += 1;
            out
        })
        .collect()
}

/// The relative link targets of a document's prose: (line, target).
fn links(prose: &str) -> Vec<(usize, String)> {
    let inline =
        regex::Regex::new(r#"!?\[[^\]]*\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)"#).expect("valid");
    let reference = regex::Regex::new(r"(?m)^ {0,3}\[[^\]]+\]:\s*<?([^\s>]+)").expect("valid");
    let scheme = regex::Regex::new(r"^[A-Za-z][A-Za-z0-9+.-]*:").expect("valid");
    let line_of = |pos: usize| prose[..pos].matches('\n').count() + 1;
    let mut out: Vec<(usize, String)> = inline
        .captures_iter(prose)
        .chain(reference.captures_iter(prose))
        .filter_map(|c| c.get(1))
        .filter(|m| !scheme.is_match(m.as_str()))
        .map(|m| (line_of(m.start()), m.as_str().to_string()))
        .collect();
    out.sort();
    out
}

/// The commands a document shows: (line, the words after `bedrock-monitor`). In a code block a
/// command starts a line or follows `|`, `&&`, `||` or `;`; a code span must start with it, or
/// with one of the CLI's commands followed by a flag (`apply --adopt COMPONENT`, as prose
/// often names them). Words stop at a comment (`#…`) or a redirection (`>`, `<`).
fn commands(code: &[(usize, String, bool)], cli: &clap::Command) -> Vec<(usize, Vec<String>)> {
    let until_end = |words: &[&str]| -> Vec<String> {
        words
            .iter()
            .take_while(|w| !(w.starts_with('#') || w.starts_with('>') || w.starts_with('<')))
            .take_while(|w| !w.starts_with("2>"))
            .map(|w| w.to_string())
            .collect()
    };
    let mut out = Vec::new();
    for (line, text, block) in code {
        let words: Vec<&str> = text.split_whitespace().collect();
        if *block {
            for segment in words.split(|w| matches!(*w, "|" | "||" | "&&" | ";")) {
                let segment = match segment.first() {
                    Some(&"$") => &segment[1..],
                    _ => segment,
                };
                if segment.first() == Some(&"bedrock-monitor") {
                    out.push((*line, until_end(&segment[1..])));
                }
            }
        } else if words.first() == Some(&"bedrock-monitor") {
            out.push((*line, until_end(&words[1..])));
        } else if let [first, second, ..] = words.as_slice()
            && cli.find_subcommand(first).is_some()
            && second.starts_with('-')
        {
            out.push((*line, until_end(&words)));
        }
    }
    out
}

/// A placeholder where a subcommand would be (`COMMAND`, `<command>`, `…`): not checked.
fn placeholder(word: &str) -> bool {
    word.starts_with('<')
        || word.contains('…')
        || word.contains("...")
        || word
            .chars()
            .all(|c| c.is_ascii_uppercase() || c == '_' || c == '-')
}

/// Whether the word at `i` is a flag's value: there is one and it is not another flag (a
/// synopsis such as `[--start/--end] [--output FORMAT]` shows flags without their values).
fn value_next(words: &[String], i: usize) -> bool {
    words
        .get(i)
        .is_some_and(|w| !w.trim_start_matches('[').starts_with('-'))
}

/// Checks one command's words against the clap tree: each subcommand exists where one is
/// expected, and each flag exists on the command it is given to (its own or a global one).
fn check_command(root: &clap::Command, words: &[String]) -> Result<(), String> {
    let mut path: Vec<&clap::Command> = vec![root];
    let mut i = 0;
    while i < words.len() {
        let cmd = *path.last().expect("the root is always there");
        let shown = || {
            path.iter()
                .map(|c| c.get_name())
                .collect::<Vec<_>>()
                .join(" ")
        };
        let has = |pred: &dyn Fn(&clap::Arg) -> bool| -> Option<bool> {
            // The command's own flags, then every ancestor's global ones.
            path.iter()
                .rev()
                .enumerate()
                .flat_map(|(depth, c)| {
                    c.get_arguments()
                        .filter(move |a| depth == 0 || a.is_global_set())
                })
                .find(|a| pred(a))
                .map(|a| a.get_action().takes_values())
        };
        let word = words[i].trim_matches(|c| matches!(c, '[' | ']' | '(' | ')' | ','));
        i += 1;
        if word.is_empty() {
            continue; // a bracket of a synopsis standing alone
        }
        if word.starts_with("--") {
            let pieces: Vec<&str> = word.split('/').collect();
            for (k, piece) in pieces.iter().enumerate() {
                let Some(flag) = piece.strip_prefix("--") else {
                    continue;
                };
                let (name, inline_value) = match flag.split_once('=') {
                    Some((n, _)) => (n, true),
                    None => (flag, false),
                };
                if name.is_empty() {
                    return Ok(()); // `--`: what follows is not flags
                }
                let takes = has(&|a: &clap::Arg| {
                    a.get_long() == Some(name)
                        || a.get_all_aliases().is_some_and(|al| al.contains(&name))
                })
                .ok_or_else(|| format!("`{}` has no flag `--{name}`", shown()))?;
                if takes && !inline_value && k + 1 == pieces.len() && value_next(words, i) {
                    i += 1;
                }
            }
        } else if word.len() > 1 && word.starts_with('-') {
            let letters: Vec<char> = word[1..].chars().collect();
            for (k, c) in letters.iter().enumerate() {
                let takes = has(&|a: &clap::Arg| {
                    a.get_short() == Some(*c)
                        || a.get_all_short_aliases().is_some_and(|al| al.contains(c))
                })
                .ok_or_else(|| format!("`{}` has no flag `-{c}`", shown()))?;
                if takes {
                    if k + 1 == letters.len() && value_next(words, i) {
                        i += 1;
                    }
                    break; // the rest of the word is its value
                }
            }
        } else if cmd.has_subcommands() {
            if placeholder(word) {
                return Ok(());
            }
            let sub = cmd.find_subcommand(word).ok_or_else(|| {
                let known: Vec<&str> = cmd.get_subcommands().map(|s| s.get_name()).collect();
                format!(
                    "`{}` has no command `{word}` (it has: {})",
                    shown(),
                    known.join(", ")
                )
            })?;
            path.push(sub);
        }
        // Otherwise a positional value of a command without subcommands.
    }
    Ok(())
}

/// What checking a set of documents found.
#[derive(Debug, Default)]
struct Findings {
    problems: Vec<String>,
    links: usize,
    anchors: usize,
    commands: usize,
}

type Cache = BTreeMap<PathBuf, Option<Parsed>>;

/// A document parsed once, however many links lead to it; `None` when it cannot be read.
fn load<'c>(cache: &'c mut Cache, path: &Path) -> Option<&'c Parsed> {
    cache
        .entry(path.to_path_buf())
        .or_insert_with(|| std::fs::read_to_string(path).ok().map(|t| parse(&t)))
        .as_ref()
}

fn check(root: &Path, docs: &[PathBuf], cli: &clap::Command) -> Findings {
    let mut found = Findings::default();
    let mut cache = Cache::new();
    let relative = |p: &Path| p.strip_prefix(root).unwrap_or(p).display().to_string();
    for doc in docs {
        let name = relative(doc);
        let Some(parsed) = load(&mut cache, doc) else {
            found.problems.push(format!("{name}: cannot be read"));
            continue;
        };
        let (doc_links, doc_commands) = (links(&parsed.prose), commands(&parsed.code, cli));
        for (line, target) in doc_links {
            found.links += 1;
            let (file, fragment) = match target.split_once('#') {
                Some((f, a)) => (f, Some(a)),
                None => (target.as_str(), None),
            };
            let resolved = if file.is_empty() {
                doc.clone()
            } else if let Some(from_root) = file.strip_prefix('/') {
                root.join(from_root)
            } else {
                doc.parent().unwrap_or(root).join(file)
            };
            if !resolved.exists() {
                found.problems.push(format!(
                    "{name}:{line}: link `{target}`: {} does not exist",
                    relative(&resolved)
                ));
                continue;
            }
            let Some(fragment) = fragment else { continue };
            if resolved.extension().and_then(|e| e.to_str()) != Some("md") {
                continue; // line anchors (`#L10`) and the like are the viewer's business
            }
            found.anchors += 1;
            let Some(target_doc) = load(&mut cache, &resolved) else {
                found.problems.push(format!(
                    "{name}:{line}: link `{target}`: cannot read {}",
                    relative(&resolved)
                ));
                continue;
            };
            let made = anchors(&target_doc.headings);
            if !made.iter().any(|a| a == fragment) {
                found.problems.push(format!(
                    "{name}:{line}: link `{target}`: no heading of {} makes the anchor `#{fragment}` (it has: {})",
                    relative(&resolved),
                    made.join(", ")
                ));
            }
        }
        for (line, words) in doc_commands {
            found.commands += 1;
            if let Err(e) = check_command(cli, &words) {
                found.problems.push(format!(
                    "{name}:{line}: `bedrock-monitor {}`: {e}",
                    words.join(" ")
                ));
            }
        }
    }
    found
}

fn cli() -> clap::Command {
    let mut cmd = Cli::command();
    cmd.build();
    cmd
}

/// The documents a user reads: README.md, ARCHITECTURE.md and every page under docs/.
fn documents(root: &Path) -> Vec<PathBuf> {
    let mut docs = vec![root.join("README.md"), root.join("ARCHITECTURE.md")];
    let mut pages: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().and_then(|e| e.to_str()) == Some("md"))
                .collect()
        })
        .unwrap_or_default();
    pages.sort();
    docs.extend(pages);
    docs
}

#[test]
fn the_documents_links_and_commands_are_real() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let docs = documents(root);
    assert!(
        docs.len() > 4,
        "docs/ should hold the reference pages: {docs:?}"
    );
    let found = check(root, &docs, &cli());
    assert!(
        found.problems.is_empty(),
        "{} problem(s) in the documents:\n{}",
        found.problems.len(),
        found.problems.join("\n")
    );
    // The checks must have had something to check: the documents link to each other and show
    // commands in dozens of places.
    assert!(
        found.links >= 40 && found.anchors >= 20 && found.commands >= 40,
        "too little was checked (links {}, anchors {}, commands {}): is the parser broken?",
        found.links,
        found.anchors,
        found.commands
    );
}

mod checker {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn anchors_follow_githubs_rule() {
        for (heading, want) in [
            (
                "Who spent what, from the bill: `report --source cur`",
                "who-spent-what-from-the-bill-report---source-cur",
            ),
            (
                "Alerts: once per address, and no \"OK\" storm",
                "alerts-once-per-address-and-no-ok-storm",
            ),
            (
                "Many accounts and regions: `[targets]`",
                "many-accounts-and-regions-targets",
            ),
            ("Exit codes", "exit-codes"),
            ("snake_case and [a link](x.md)", "snake_case-and-a-link"),
        ] {
            assert_eq!(anchor(heading), want, "{heading}");
        }
        let repeated = anchors(&["Usage".into(), "Usage".into(), "Usage".into()]);
        assert_eq!(repeated, ["usage", "usage-1", "usage-2"]);
    }

    #[test]
    fn headings_in_code_do_not_count_and_closing_hashes_do_not_either() {
        let parsed = parse("# Title #\n\n```toml\n# not a heading\n```\n\n## `code` heading\n");
        assert_eq!(parsed.headings, ["Title", "`code` heading"]);
    }

    #[test]
    fn a_broken_link_or_anchor_is_found_and_a_good_one_is_not() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let root = dir.path();
        std::fs::create_dir(root.join("docs")).expect("docs/");
        std::fs::write(root.join("docs/b.md"), "# B\n\n## Second part\n").expect("b.md");
        std::fs::write(
            root.join("a.md"),
            "# A\n\nSee [b](docs/b.md), [its part](docs/b.md#second-part), [up](#a),\n\
             [gone](docs/missing.md), [no such part](docs/b.md#third-part), [self](#nowhere),\n\
             an image ![x](docs/nope.png), and [the web](https://example.com/x.md).\n\n\
             In code it is no link: `[c](docs/missing.md)`.\n\n```md\n[d](docs/missing.md)\n```\n",
        )
        .expect("a.md");
        let found = check(root, &[root.join("a.md")], &cli());
        let text = found.problems.join("\n");
        assert_eq!(found.problems.len(), 4, "{text}");
        for broken in [
            "`docs/missing.md`:",
            "#third-part`",
            "#nowhere`",
            "`docs/nope.png`:",
        ] {
            assert!(
                found.problems.iter().any(|p| p.contains(broken)),
                "{broken} not reported:\n{text}"
            );
        }
        assert!(
            found.problems.iter().all(|p| p.starts_with("a.md:")),
            "{text}"
        );
        assert!(text.contains("a.md:4:"), "the line is named: {text}");
    }

    #[test]
    fn an_unknown_command_or_flag_is_found() {
        let cli = cli();
        for good in [
            "plan --detailed-exitcode",
            "--config prod.toml plan",
            "apply --yes --output json",
            "apply -y -o json --adopt all --on-error retry:3",
            "prices update --region eu-central-1 --region us-east-1 --out prices.json",
            "report --source cur --by principal,model --output csv",
            "query NAME [--hours N | --start/--end] [--output text|json|csv]",
            "budget-action approve BUDGET --yes",
            "cleanup --keep topic --keep budgets -q",
            "permissions --key-policies",
            "completions bash",
            "COMMAND --help",
            "",
        ] {
            assert_eq!(check_command(&cli, &words(good)), Ok(()), "{good}");
        }
        for (bad, named) in [
            ("report --bogus", "--bogus"),
            ("deploy --yes", "`deploy`"),
            ("prices refresh", "`refresh`"),
            ("plan --yes", "--yes"),
            ("query NAME [--hours N | --start/--until]", "--until"),
            ("status -z", "-z"),
            ("--config prod.toml destroy", "`destroy`"),
        ] {
            let err = check_command(&cli, &words(bad)).expect_err(bad);
            assert!(err.contains(named), "{bad}: {err}");
        }
    }

    #[test]
    fn commands_are_read_from_spans_and_blocks_but_not_from_prose_or_comments() {
        let text = "Run `bedrock-monitor budget-action\napprove BUDGET` first, then\n\
                    `bedrock-monitor permissions > policy.json`; `bedrock-monitor.toml` is a file.\n\
                    `apply --adopt all` is one; `status`, `plan`/`--yes` and `cargo -q` are not.\n\n\
                    ```sh\ncargo install --path .   # builds bedrock-monitor into ~/.cargo/bin\n\
                    bedrock-monitor plan --detailed-exitcode   # 0 or 2\n\
                    $ bedrock-monitor status | jq . && bedrock-monitor report --hours 6\n```\n";
        let found = commands(&parse(text).code, &cli());
        let shown: Vec<(usize, String)> = found
            .into_iter()
            .map(|(line, w)| (line, w.join(" ")))
            .collect();
        assert_eq!(
            shown,
            [
                (1, "budget-action approve BUDGET".to_string()),
                (3, "permissions".to_string()),
                (4, "apply --adopt all".to_string()),
                (8, "plan --detailed-exitcode".to_string()),
                (9, "status".to_string()),
                (9, "report --hours 6".to_string()),
            ]
        );
    }
}
