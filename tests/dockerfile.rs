//! The release image (`Dockerfile`, `.dockerignore`): lint-clean, built the way the
//! release needs (a locked release build on a Rust no older than the workspace's
//! rust-version), run as the non-root user Kubernetes can verify, and built from a
//! context that holds every file the build reads and nothing heavy.
//!
//! No container engine is available where these tests run, so the image itself is not
//! built; everything decidable from the files is checked here, in seconds.

use crate::support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use govcloud::config::HttpConfig;
use serde_json::Value;
use support::docker::{DockerIgnore, Dockerfile, Instruction, Stage, hadolint};
use support::{printed, repo_root};

const BINARY: &str = "/usr/local/bin/govcloud";
/// distroless's `nonroot` user and group.
const NONROOT: u32 = 65532;

fn dockerfile_path() -> PathBuf {
    repo_root().join("Dockerfile")
}

fn dockerfile() -> Dockerfile {
    Dockerfile::read(&dockerfile_path())
}

fn dockerignore() -> DockerIgnore {
    let path = repo_root().join(".dockerignore");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    DockerIgnore::parse(&text)
}

/// Far above the ~1 MiB of manifests and sources the build needs: a context past this has
/// let in build output or data, and the test below that copies the context must not
/// copy that (a target/ of tens of gigabytes would fill the disk).
const CONTEXT_LIMIT_MIB: u64 = 20;

/// The build context `.dockerignore` leaves, after checking that it is small.
fn build_context() -> BTreeSet<String> {
    let root = repo_root();
    let context = dockerignore().context(&root);
    let mut by_top: BTreeMap<&str, u64> = BTreeMap::new();
    for file in &context {
        let size = std::fs::symlink_metadata(root.join(file)).map_or(0, |m| m.len());
        *by_top
            .entry(file.split('/').next().unwrap_or_default())
            .or_default() += size;
    }
    let total: u64 = by_top.values().sum();
    let mut largest: Vec<(&str, u64)> = by_top.into_iter().collect();
    largest.sort_by_key(|&(_, size)| std::cmp::Reverse(size));
    largest.truncate(5);
    assert!(
        total <= CONTEXT_LIMIT_MIB << 20,
        "the build context is {} MiB, over {CONTEXT_LIMIT_MIB} MiB; largest top-level entries \
         (bytes): {largest:?}",
        total >> 20
    );
    context
}

/// The stage that compiles govcloud: the one whose RUN calls `cargo build`.
fn builder(file: &Dockerfile) -> (&Stage, &Instruction) {
    file.stages
        .iter()
        .find_map(|stage| {
            stage
                .all("RUN")
                .find(|run| run.args().contains("cargo build"))
                .map(|run| (stage, run))
        })
        .expect("a stage whose RUN calls `cargo build`")
}

/// A version's leading numeric components: `1.95.0-slim-bookworm` is [1, 95, 0].
fn version(text: &str) -> Vec<u64> {
    text.split(['-', '+'])
        .next()
        .unwrap_or_default()
        .split('.')
        .map_while(|part| part.parse().ok())
        .collect()
}

/// A string field of the root Cargo.toml's `[workspace.package]`. Read from the file:
/// cargo metadata only shows the fields a package inherits, and the operator does not
/// inherit `repository`.
fn workspace_package(key: &str) -> String {
    let manifest = std::fs::read_to_string(repo_root().join("Cargo.toml")).expect("reading Cargo.toml");
    let mut section = "";
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            section = line;
        } else if section == "[workspace.package]"
            && let Some((name, value)) = line.split_once('=')
            && name.trim() == key
        {
            return value.trim().trim_matches('"').to_string();
        }
    }
    panic!("the root Cargo.toml's [workspace.package] has no string `{key}`")
}

/// The stdout of a toolchain program (`$VAR` when set, as cargo sets `CARGO`, else `program`
/// on PATH) run with `args` in `dir`; fails the test with its output unless it succeeds.
fn toolchain(var: &str, program: &str, args: &[&str], dir: &Path) -> Vec<u8> {
    let output = Command::new(std::env::var_os(var).unwrap_or_else(|| program.into()))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("running {program}: {e}"));
    assert!(
        output.status.success(),
        "`{program} {}` failed in {}:\n{}",
        args.join(" "),
        dir.display(),
        printed(&output)
    );
    output.stdout
}

/// `cargo metadata` for the manifest in `dir`, as JSON.
fn cargo_metadata(dir: &Path, args: &[&str]) -> Value {
    let args = [&["metadata", "--format-version", "1"], args].concat();
    serde_json::from_slice(&toolchain("CARGO", "cargo", &args, dir)).expect("cargo metadata prints JSON")
}

/// The triple rustc builds for here, as `rustc -vV` reports it.
fn host_triple() -> String {
    let version = toolchain("RUSTC", "rustc", &["-vV"], &repo_root());
    String::from_utf8_lossy(&version)
        .lines()
        .find_map(|line| line.strip_prefix("host: "))
        .map(str::to_string)
        .expect("rustc -vV names the host triple")
}

/// The govcloud package's targets that `cargo build -p govcloud` compiles (library,
/// binaries, build script), as (kind, name, src_path).
fn built_targets(metadata: &Value) -> Vec<(String, String, PathBuf)> {
    let package = metadata["packages"]
        .as_array()
        .and_then(|packages| packages.iter().find(|p| p["name"] == "govcloud"))
        .expect("cargo metadata lists the govcloud package");
    let mut targets: Vec<(String, String, PathBuf)> = package["targets"]
        .as_array()
        .expect("a package has targets")
        .iter()
        .filter_map(|target| {
            let kind = target["kind"][0].as_str()?;
            ["lib", "bin", "custom-build"].contains(&kind).then(|| {
                (
                    kind.to_string(),
                    target["name"].as_str().unwrap_or_default().to_string(),
                    PathBuf::from(target["src_path"].as_str().unwrap_or_default()),
                )
            })
        })
        .collect();
    targets.sort();
    targets
}

#[test]
fn hadolint_finds_nothing_at_warning_or_above() {
    let output = hadolint(&dockerfile_path(), &["--failure-threshold", "warning"]);
    assert!(
        output.status.success(),
        "hadolint reports findings at warning level or above in Dockerfile (fix them, or \
         justify an exception inline with `# hadolint ignore=RULE` and the reason):\n{}",
        printed(&output)
    );
}

#[test]
fn uses_the_stable_dockerfile_syntax_for_cache_mounts() {
    let file = dockerfile();
    // `RUN --mount` needs the BuildKit frontend; naming it keeps an older default
    // frontend from refusing the file.
    assert_eq!(
        file.directive("syntax"),
        Some("docker/dockerfile:1"),
        "the Dockerfile must start with `# syntax=docker/dockerfile:1`"
    );
    let (_, run) = builder(&file);
    let cache_mounts: Vec<&str> = run
        .flag("mount")
        .filter(|value| value.split(',').any(|option| option == "type=cache"))
        .collect();
    for target in ["/usr/local/cargo/registry", "/src/target"] {
        assert!(
            cache_mounts.iter().any(|mount| mount
                .split(',')
                .any(|option| option == format!("target={target}"))),
            "line {}: the cargo build keeps no cache mount at {target} (mounts: {cache_mounts:?})",
            run.line
        );
    }
}

#[test]
fn builds_a_locked_release_of_the_govcloud_package() {
    let file = dockerfile();
    let (_, run) = builder(&file);
    let args = run.args();
    let build = args
        .split("&&")
        .find(|command| command.contains("cargo build"))
        .expect("the RUN has a cargo build command");
    let words: Vec<&str> = build.split_whitespace().collect();
    for required in ["--release", "--locked"] {
        assert!(
            words.contains(&required),
            "line {}: `{}` lacks {required}",
            run.line,
            build.trim()
        );
    }
    assert!(
        words
            .windows(2)
            .any(|w| matches!(w, ["-p" | "--package", "govcloud"])),
        "line {}: `{}` does not select the govcloud package with -p",
        run.line,
        build.trim()
    );
}

#[test]
fn builder_rust_is_at_least_the_workspace_rust_version() {
    let file = dockerfile();
    let (stage, _) = builder(&file);
    let tag = ["rust:", "docker.io/library/rust:"]
        .iter()
        .find_map(|prefix| stage.base.strip_prefix(prefix))
        .unwrap_or_else(|| {
            panic!(
                "line {}: the builder is `{}`, not the official rust image",
                stage.line, stage.base
            )
        });
    let image = version(tag);
    assert!(
        image.len() >= 2,
        "line {}: `{}` does not pin a Rust version (at least major.minor, e.g. rust:1.95.0-slim-bookworm)",
        stage.line,
        stage.base
    );

    let required = workspace_package("rust-version");
    let required_version = version(&required);
    let padded = |v: &[u64]| (0..3).map(|i| v.get(i).copied().unwrap_or(0)).collect::<Vec<_>>();
    assert!(
        padded(&image) >= padded(&required_version),
        "line {}: the builder's Rust ({}) is older than the workspace's rust-version ({required})",
        stage.line,
        stage.base
    );
}

#[test]
fn image_is_multi_stage_on_distroless_nonroot() {
    let file = dockerfile();
    assert!(
        file.stages.len() >= 2,
        "the Dockerfile has {} stage(s); the toolchain must stay out of the image",
        file.stages.len()
    );
    let last = file.final_stage();
    let (repository, tag) = last.base.split_once(':').unwrap_or((&last.base, ""));
    let tag = tag.split('@').next().unwrap_or_default();
    assert!(
        repository.starts_with("gcr.io/distroless/") && tag == "nonroot",
        "line {}: the image is based on `{}`, not a distroless `:nonroot` image",
        last.line,
        last.base
    );
    // Distroless has no shell, and the image is to hold the binary and nothing else.
    let extra: Vec<String> = last
        .instructions
        .iter()
        .filter(|i| ["RUN", "ADD"].contains(&i.keyword.as_str()))
        .map(|i| format!("line {}: {} {}", i.line, i.keyword, i.args()))
        .collect();
    assert!(
        extra.is_empty(),
        "the final stage adds more than the binary:\n{}",
        extra.join("\n")
    );
}

#[test]
fn final_stage_holds_only_the_binary_from_the_builder() {
    let file = dockerfile();
    let last = file.final_stage();
    let copies: Vec<&Instruction> = last.all("COPY").collect();
    assert_eq!(
        copies.len(),
        1,
        "the final stage should copy in exactly one thing, the binary: {copies:#?}"
    );
    let from = copies[0].flag("from").next().unwrap_or_else(|| {
        panic!(
            "line {}: the binary is not copied --from the builder",
            copies[0].line
        )
    });
    let (builder_stage, _) = builder(&file);
    assert!(
        file.stage(from).is_some_and(|s| std::ptr::eq(s, builder_stage)),
        "line {}: COPY --from={from} is not the stage that runs cargo build",
        copies[0].line
    );
    assert_eq!(
        copies[0].words.last().map(String::as_str),
        Some(BINARY),
        "line {}: the binary must land at {BINARY}",
        copies[0].line
    );
}

#[test]
fn runs_as_the_numeric_nonroot_user() {
    let file = dockerfile();
    let last = file.final_stage();
    let user = last
        .last("USER")
        .unwrap_or_else(|| panic!("the final stage sets no USER; the image would run as root"));
    let spec = user.args();
    let (uid, gid) = spec.split_once(':').unwrap_or((&spec, ""));
    // A name cannot be checked by the kubelet's runAsNonRoot, which needs a number.
    let uid: u32 = uid.parse().unwrap_or_else(|_| {
        panic!(
            "line {}: USER {spec} is not numeric; runAsNonRoot cannot verify a name",
            user.line
        )
    });
    assert_ne!(uid, 0, "line {}: USER 0 is root", user.line);
    assert_eq!(
        uid, NONROOT,
        "line {}: USER is not distroless's nonroot ({NONROOT})",
        user.line
    );
    if !gid.is_empty() {
        assert_eq!(
            gid.parse::<u32>().ok(),
            Some(NONROOT),
            "line {}: group `{gid}` is not the numeric nonroot group ({NONROOT})",
            user.line
        );
    }
}

#[test]
fn entrypoint_is_the_exec_form_of_the_binary_and_runs_the_operator() {
    let file = dockerfile();
    let last = file.final_stage();
    let entrypoint = last
        .last("ENTRYPOINT")
        .expect("the final stage sets an ENTRYPOINT");
    // The shell form would need a shell, which distroless lacks, and would keep
    // signals from reaching the operator.
    assert_eq!(
        entrypoint.exec_form(),
        Some(&[BINARY.to_string()][..]),
        "line {}: ENTRYPOINT should be [\"{BINARY}\"], is {}",
        entrypoint.line,
        entrypoint.args()
    );
    let cmd = last.last("CMD").expect("the final stage sets a CMD");
    assert_eq!(
        cmd.exec_form(),
        Some(&["run".to_string()][..]),
        "line {}: CMD should be [\"run\"], is {}",
        cmd.line,
        cmd.args()
    );
    let port = HttpConfig::default().address.port().to_string();
    assert!(
        last.all("EXPOSE")
            .any(|e| e.words.iter().any(|p| *p == port || *p == format!("{port}/tcp"))),
        "the final stage does not EXPOSE {port}, the operator's default http.address port"
    );
}

#[test]
fn labels_agree_with_the_workspace_manifest() {
    let file = dockerfile();
    let last = file.final_stage();
    // BuildKit's parser gives a LABEL's keys and values alternating, unquoted.
    let labels: Vec<(String, String)> = last
        .all("LABEL")
        .flat_map(|l| l.words.chunks(2).map(|kv| (kv[0].clone(), kv[1].clone())))
        .collect();
    let label = |key: &str| {
        labels
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("the image has no `{key}` label"))
    };
    let metadata = cargo_metadata(&repo_root(), &["--no-deps", "--offline"]);
    let package = metadata["packages"]
        .as_array()
        .and_then(|packages| packages.iter().find(|p| p["name"] == "govcloud"))
        .expect("cargo metadata lists the govcloud package");
    let field = |name: &str| package[name].as_str().unwrap_or_default().to_string();

    assert_eq!(
        label("org.opencontainers.image.title"),
        "govcloud",
        "the title label"
    );
    assert_eq!(
        label("org.opencontainers.image.description"),
        field("description"),
        "the description label differs from the package's"
    );
    assert_eq!(
        label("org.opencontainers.image.licenses"),
        field("license"),
        "the licenses label differs from the package's license"
    );
    assert_eq!(
        label("org.opencontainers.image.source"),
        workspace_package("repository"),
        "the source label differs from the workspace's repository"
    );
    let version = label("org.opencontainers.image.version");
    assert!(
        version == "${VERSION}" || version == "$VERSION",
        "the version label should come from the VERSION build argument, is `{version}`"
    );
    assert!(
        last.all("ARG")
            .any(|a| a.words.first().and_then(|w| w.split('=').next()) == Some("VERSION")),
        "the final stage does not declare ARG VERSION, so the label would be empty"
    );
}

#[test]
fn context_leaves_out_target_and_repository_metadata() {
    let ignore = dockerignore();
    for path in ["target/release/govcloud", ".git/HEAD", ".venv/bin/python"] {
        assert!(
            ignore.excludes(path),
            ".dockerignore lets `{path}` into the build context"
        );
    }
    let context = build_context();
    let heavy: Vec<&String> = context
        .iter()
        .filter(|p| p.starts_with("target/") || p.starts_with(".git/") || p.starts_with(".venv/"))
        .collect();
    assert!(heavy.is_empty(), "the build context holds {heavy:?}");
}

/// The dep-info files rustc wrote for the govcloud binary and the library it links:
/// together, every file it read to compile them, include_str!/include_bytes! targets and
/// #[path] modules among them. The uplifted `target/debug/govcloud.d` is not used: cargo
/// only refreshes it on `cargo build`, so under `cargo test` it can be stale or absent.
fn govcloud_dep_info() -> Vec<PathBuf> {
    use std::os::unix::fs::MetadataExt;

    let binary = PathBuf::from(env!("CARGO_BIN_EXE_govcloud"));
    let deps = binary
        .parent()
        .expect("the binary sits in a directory")
        .join("deps");
    let inode = std::fs::metadata(&binary)
        .unwrap_or_else(|e| panic!("reading {}: {e}", binary.display()))
        .ino();
    let entries: Vec<(String, std::fs::Metadata)> = std::fs::read_dir(&deps)
        .unwrap_or_else(|e| panic!("reading {}: {e}", deps.display()))
        .filter_map(|entry| {
            let entry = entry.ok()?;
            Some((
                entry.file_name().to_string_lossy().into_owned(),
                entry.metadata().ok()?,
            ))
        })
        .collect();
    // Cargo hard-links the binary it puts in target/<profile>/ to its build in deps/.
    let binary_build = entries
        .iter()
        .find(|(name, meta)| name.starts_with("govcloud-") && meta.ino() == inode)
        .map(|(name, _)| name.clone())
        .unwrap_or_else(|| panic!("no build of {} in {}", binary.display(), deps.display()));
    // This test links the library cargo just built for this run, so the newest rlib is
    // it (several stay behind from other feature sets and profiles).
    let library = entries
        .iter()
        .filter(|(name, _)| name.starts_with("libgovcloud-") && name.ends_with(".rlib"))
        .max_by_key(|(_, meta)| meta.modified().ok())
        .map(|(name, _)| name["lib".len()..name.len() - ".rlib".len()].to_string())
        .unwrap_or_else(|| panic!("no govcloud library in {}", deps.display()));
    [binary_build, library]
        .iter()
        .map(|stem| deps.join(format!("{stem}.d")))
        .collect()
}

/// The files under the repository root that a dep-info file's first rule lists, relative
/// and `/`-separated. Cargo runs rustc in the workspace root, so a workspace member's
/// paths are relative to it, and may climb with `..` (an include_str! of `../../x`).
fn files_read(dep_info: &Path, root: &Path) -> BTreeSet<String> {
    let text = std::fs::read_to_string(dep_info)
        .unwrap_or_else(|e| panic!("reading the dep-info {}: {e}", dep_info.display()));
    let (_, deps) = text
        .lines()
        .next()
        .and_then(|rule| rule.split_once(": "))
        .unwrap_or_else(|| panic!("no rule in {}", dep_info.display()));
    let roots = [
        root.to_path_buf(),
        root.canonicalize().unwrap_or_else(|_| root.to_path_buf()),
    ];
    deps.replace("\\ ", "\u{0}")
        .split_whitespace()
        .filter_map(|dep| {
            let dep = PathBuf::from(dep.replace('\u{0}', " "));
            let absolute = if dep.is_absolute() { dep } else { root.join(dep) };
            let mut normal = PathBuf::new();
            for component in absolute.components() {
                match component {
                    std::path::Component::ParentDir => {
                        normal.pop();
                    }
                    std::path::Component::CurDir => {}
                    other => normal.push(other),
                }
            }
            let relative = roots.iter().find_map(|r| normal.strip_prefix(r).ok())?;
            Some(relative.to_string_lossy().replace('\\', "/"))
        })
        .collect()
}

#[test]
fn context_holds_every_source_file_rustc_read_for_the_binary() {
    let root = repo_root();
    let dep_info = govcloud_dep_info();
    let read: BTreeSet<String> = dep_info.iter().flat_map(|d| files_read(d, &root)).collect();
    assert!(
        read.contains("operator/src/main.rs") && read.contains("operator/src/lib.rs"),
        "{dep_info:?} do not list the crate roots; are they the govcloud binary's and library's?\n{read:?}"
    );

    let context = build_context();
    let missing: Vec<&String> = read.difference(&context).collect();
    assert!(
        missing.is_empty(),
        "the build reads files that .dockerignore leaves out of the image's build context \
         (let them back in with a `!path` line): {missing:?}"
    );
}

#[test]
fn context_resolves_the_locked_workspace_and_its_build_targets() {
    let root = repo_root();
    let context = build_context();
    let copy = tempfile::tempdir().expect("creating a temporary directory");
    for file in &context {
        let to = copy.path().join(file);
        std::fs::create_dir_all(to.parent().expect("a file has a parent directory"))
            .expect("creating a directory in the copy");
        std::fs::copy(root.join(file), &to).unwrap_or_else(|e| panic!("copying {file}: {e}"));
    }

    // --locked as in the image: a Cargo.lock left out or out of date fails here. Offline,
    // since the crates are already downloaded for this very test run, but only the host's:
    // unfiltered, cargo metadata wants every platform's (Windows-only crates too), which a
    // fresh machine that only built for itself does not have. The lock is still checked
    // against the whole resolve.
    let host = host_triple();
    let in_context = cargo_metadata(
        copy.path(),
        &["--locked", "--offline", "--filter-platform", &host],
    );
    let in_repo = cargo_metadata(&root, &["--no-deps", "--offline"]);
    let relative = |targets: Vec<(String, String, PathBuf)>, base: &Path| {
        targets
            .into_iter()
            .map(|(kind, name, path)| {
                let path = path.strip_prefix(base).map(Path::to_path_buf).unwrap_or(path);
                (kind, name, path)
            })
            .collect::<Vec<_>>()
    };
    let expected = relative(built_targets(&in_repo), &root);
    let found = relative(built_targets(&in_context), copy.path());
    // A build script the context leaves out vanishes from the copy's targets instead of
    // failing, hence the comparison with the repository's own.
    assert_eq!(
        found, expected,
        "the build context's govcloud package has other library/binary/build-script targets \
         than the repository's"
    );
    for (kind, name, path) in &found {
        assert!(
            copy.path().join(path).is_file(),
            "the {kind} target `{name}` needs {}, which the build context leaves out",
            path.display()
        );
    }
}

#[test]
fn dockerignore_matching_follows_the_builder() {
    // The context checks above are only as good as this matcher. The verdicts are
    // moby/patternmatcher's, which BuildKit applies to .dockerignore.
    let cases: &[(&[&str], &str, bool)] = &[
        (&["*"], "fileutils.go", true),
        (&["*"], "operator/src/main.rs", true),
        (&["*.go", "!fileutils.go"], "fileutils.go", false),
        (&["!fileutils.go", "*.go"], "fileutils.go", true),
        (&["docs", "!docs/README.md"], "docs/README.md", false),
        (&["docs/"], "docs/a/b.png", true),
        (&["/target"], "target/debug/govcloud", true),
        (&["*", "!/operator/src/"], "operator/src/cli/mod.rs", false),
        (&["*", "!/operator/src/"], "operator/benches/plan.rs", true),
        (&["*", "!/operator/src/"], "operator/srcx/main.rs", true),
        (&["a*/b"], "abc/b", true),
        (&["a*/b"], "a/c/b", false),
        (&["a/*.txt"], "a/dir/file.txt", false),
        (&["a**/*.txt"], "a/dir/dir/file.txt", true),
        (&["**/dir"], "dir/file", true),
        (&["**/dir2/*"], "dir/dir2/file", true),
        (&["**file"], "dir/file", true),
        (&["**/.foo"], "bar.foo", false),
        (&["**/.foo"], ".foo", true),
        (&["abc/**"], "abc", false),
        (&["abc/**"], "abc/def/ghi", true),
        (&["a[b-d]e"], "ace", true),
        (&["a[b-d]e"], "aae", false),
        (&["a[^b-d]e"], "aze", true),
        (&[".*"], ".venv", true),
        (&[".*"], "venv", false),
        (&["abc?def"], "abcdef", false),
        (&["**", "!util/docker/web"], "util/docker/web/foo", false),
        (
            &["**", "!util/docker/web", "util/docker/web/foo"],
            "util/docker/web/foo",
            true,
        ),
    ];
    for (patterns, path, excluded) in cases {
        assert_eq!(
            DockerIgnore::parse(&patterns.join("\n")).excludes(path),
            *excluded,
            "patterns {patterns:?} on `{path}`"
        );
    }
}
