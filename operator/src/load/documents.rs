//! A YAML stream cut into its documents, each parsed on its own so that one malformed
//! document does not hide the problems of the others.
//!
//! The cut is made at `---` lines: the YAML spec forbids a line starting with `---`
//! (followed by a blank or the line end) inside a document, so such a line always starts
//! one. Cutting before parsing also keeps empty documents countable, which a multi-document
//! parser that drops them would not, and the count is what users see in error messages.

use std::borrow::Cow;
use std::cell::OnceCell;

use serde_json::Value;

use super::fast;
use super::path::FieldPath;
use super::spans::SpanTree;

/// One document of a file.
#[derive(Debug)]
pub(super) struct Document<'a> {
    /// 1-based position in the file.
    pub number: usize,
    /// Lines of the file before the document's text begins.
    line_offset: u64,
    /// The document's text, with its `---` marker if it has one.
    raw: &'a str,
    marked: bool,
    /// The text with the marker blanked, made only for the full deserializer.
    blanked: OnceCell<Cow<'a, str>>,
    spans: OnceCell<Option<SpanTree>>,
}

/// Which reader answered for a document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Reading {
    Fast,
    Full,
}

/// A document that is not well-formed YAML.
#[derive(Debug)]
pub(super) struct Malformed {
    pub message: String,
    pub position: Option<(u64, u64)>,
}

fn is_marker(line: &str) -> bool {
    line.strip_prefix("---")
        .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t', '\r', '\n']))
}

/// Whether a piece of text holds no YAML node: only blanks, comments and directives.
fn is_blank(text: &str) -> bool {
    text.lines()
        .map(str::trim)
        .all(|l| l.is_empty() || l.starts_with('#') || l.starts_with('%'))
}

/// Cuts `text` into documents. Text before the first `---` is a document only when it
/// holds something; every `---` starts one, even an empty one.
pub(super) fn split(text: &str) -> Vec<Document<'_>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // (line number where the piece starts, byte offset, starts with a marker)
    let mut starts = vec![(0u64, 0usize, false)];
    let mut offset = 0;
    for (line_no, line) in text.split_inclusive('\n').enumerate() {
        if is_marker(line) && offset > 0 {
            starts.push((line_no as u64, offset, true));
        } else if is_marker(line) {
            starts[0].2 = true;
        }
        offset += line.len();
    }
    let mut documents = Vec::new();
    for (i, &(line_offset, begin, marked)) in starts.iter().enumerate() {
        let end = starts.get(i + 1).map_or(text.len(), |s| s.1);
        let piece = &text[begin..end];
        if i == 0 && !marked && is_blank(piece) {
            continue;
        }
        documents.push(Document {
            number: documents.len() + 1,
            line_offset,
            raw: piece,
            marked,
            blanked: OnceCell::new(),
            spans: OnceCell::new(),
        });
    }
    documents
}

/// The parser's options for a document of `len` bytes.
///
/// The default budget counts at most 250,000 nodes a document, which a `kubectl get -o
/// yaml` List of a few thousand services exceeds. Without aliases a node takes at least a
/// byte of text, so counts scaled to the document's length bound nothing the file size
/// limit does not already bound; aliases keep the parser's own limits.
fn options(len: usize) -> serde_saphyr::Options {
    let mut options = serde_saphyr::options! { with_snippet: false };
    let budget = options.budget.get_or_insert_with(serde_saphyr::Budget::default);
    budget.max_nodes = budget.max_nodes.max(len);
    budget.max_events = budget.max_events.max(len.saturating_mul(2));
    budget.max_total_scalar_bytes = budget.max_total_scalar_bytes.max(len);
    options
}

impl Document<'_> {
    /// Bytes of the file the document spans, its marker included.
    pub fn len(&self) -> usize {
        self.raw.len()
    }

    /// The text for the full deserializer. Blanking the marker rather than dropping its
    /// line keeps lines and columns as in the file.
    fn text(&self) -> &str {
        self.blanked.get_or_init(|| {
            if self.marked {
                Cow::Owned(format!("   {}", &self.raw[3..]))
            } else {
                Cow::Borrowed(self.raw)
            }
        })
    }

    /// The document as JSON-like data; `None` when it is empty.
    ///
    /// The fast path hands the items of a root `items` sequence to `on_item` as it
    /// finishes each, and leaves the sequence empty. When it gives up, the full
    /// deserializer reads the document whole, and the items handed out so far are to be
    /// forgotten: the reading says which one answered.
    pub fn parse(&self, on_item: &mut dyn FnMut(Value)) -> (Result<Option<Value>, Malformed>, Reading) {
        let content = if self.marked { &self.raw[3..] } else { self.raw };
        if is_blank(content) {
            return (Ok(None), Reading::Fast);
        }
        if let Some(value) = fast::parse(self.raw, on_item) {
            return (Ok(Some(value).filter(|v| !v.is_null())), Reading::Fast);
        }
        let text = self.text();
        let parsed = match serde_saphyr::from_str_with_options::<Value>(text, options(text.len())) {
            Ok(Value::Null) => Ok(None),
            Ok(value) => Ok(Some(value)),
            Err(e) => Err(Malformed {
                message: message_of(&e),
                position: e.location().map(|l| (l.line() + self.line_offset, l.column())),
            }),
        };
        (parsed, Reading::Full)
    }

    /// Line and column in the file of the node at `path`, or of its closest ancestor present.
    pub fn locate(&self, path: &FieldPath) -> Option<(u64, u64)> {
        let spans = self
            .spans
            .get_or_init(|| SpanTree::parse(self.text(), options(self.text().len())))
            .as_ref()?;
        let (line, column) = spans.locate(path);
        Some((line + self.line_offset, column))
    }
}

/// The parser's wording with its positions left out: they are relative to the document,
/// and the error reports the position in the file instead.
struct WithoutPositions;

impl serde_saphyr::Localizer for WithoutPositions {
    fn attach_location<'a>(&self, base: Cow<'a, str>, _: serde_saphyr::Location) -> Cow<'a, str> {
        base
    }

    fn alias_defined_at(&self, _: serde_saphyr::Location) -> String {
        String::new()
    }

    fn alias_used_at(&self, _: serde_saphyr::Location) -> String {
        String::new()
    }
}

/// The parser's message for users (no advice about parser options), on one line.
pub(crate) fn message_of(error: &serde_saphyr::Error) -> String {
    let formatter = serde_saphyr::UserMessageFormatter.with_localizer(&WithoutPositions);
    let text = error.without_snippet().render_with_formatter(&formatter);
    text.lines().next().unwrap_or_default().trim().to_owned()
}

#[cfg(test)]
impl Document<'_> {
    /// What the fast path and the full deserializer make of this document, for the tests
    /// that hold them to agree.
    pub fn both_readings(&self) -> (Option<Value>, Result<Value, String>) {
        let text = self.text();
        let full = serde_saphyr::from_str_with_options::<Value>(text, options(text.len()))
            .map_err(|e| message_of(&e));
        let mut items = Vec::new();
        let fast = fast::parse(self.raw, &mut |item| items.push(item)).map(|mut value| {
            if let Some(Value::Array(streamed)) = value.get_mut("items") {
                streamed.append(&mut items);
            }
            value
        });
        (fast, full)
    }
}
