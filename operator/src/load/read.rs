//! The documents of a file parsed and decoded on every core.
//!
//! Parsing and decoding a document needs nothing from any other: only admitting its
//! objects (duplicates, order) does, and that stays with the loader, one document after
//! the other in file order. So the result, errors included, is the same as reading the
//! documents one by one; only the wall-clock time is shorter. A file is cut into runs of
//! adjacent documents of about equal size, one per thread.

use std::num::NonZero;

use super::Decodes;
use super::decode_value;
use super::documents::{Document, Malformed, Reading};
use super::error::ObjectRef;
use super::list::Staged;

/// Below this many bytes a file is read on the calling thread: starting threads would
/// cost more than they save (a few hundred documents parse in a few milliseconds).
const PARALLEL_FROM: usize = 256 * 1024;

/// More threads than this gain little on a file (the loader then waits on admitting).
const MAX_THREADS: usize = 8;

/// One document, parsed and decoded.
pub(super) struct Read {
    /// The items of a root `items` sequence the fast path decoded as it finished each;
    /// they count only if the document is a List.
    pub staged: Staged,
    /// The document's kind and name as far as they could be read, and its decoding;
    /// `None` for an empty document.
    pub parsed: Result<Option<(Option<ObjectRef>, Decodes)>, Malformed>,
}

fn read(doc: &Document<'_>) -> Read {
    let mut staged = Staged::default();
    let (parsed, reading) = doc.parse(&mut |item| {
        let (reference, decoded) = decode_value(item);
        staged.take(reference, decoded);
    });
    if reading == Reading::Full {
        // The full deserializer read the document whole: its items are in the value.
        staged = Staged::default();
    }
    Read {
        staged,
        parsed: parsed.map(|value| value.map(decode_value)),
    }
}

/// Each of `docs` read, in their order.
pub(super) fn read_all(docs: &mut [Document<'_>]) -> Vec<Read> {
    let bytes: usize = docs.iter().map(Document::len).sum();
    let threads = std::thread::available_parallelism()
        .map_or(1, NonZero::get)
        .min(MAX_THREADS)
        .min(docs.len());
    if bytes < PARALLEL_FROM || threads < 2 {
        return docs.iter().map(read).collect();
    }
    let runs = runs(docs, bytes.div_ceil(threads));
    std::thread::scope(|scope| {
        let handles: Vec<_> = runs
            .into_iter()
            .map(|run| scope.spawn(move || run.iter().map(read).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
            .collect()
    })
}

/// `docs` cut into runs of adjacent documents, each at least `share` bytes except the
/// last.
fn runs<'d, 'a>(mut docs: &'d mut [Document<'a>], share: usize) -> Vec<&'d mut [Document<'a>]> {
    let mut runs = Vec::new();
    while !docs.is_empty() {
        let mut taken = 0;
        let mut end = 0;
        while end < docs.len() && taken < share {
            taken += docs[end].len();
            end += 1;
        }
        let (run, rest) = std::mem::take(&mut docs).split_at_mut(end);
        runs.push(run);
        docs = rest;
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::super::documents::split;
    use super::runs;

    #[test]
    fn runs_keep_every_document_once_in_order_and_about_equal_in_size() {
        let text: String = (0..100).map(|i| format!("---\na: {i}\n")).collect();
        let mut docs = split(&text);
        let share = text.len().div_ceil(3);
        let cut = runs(&mut docs, share);
        assert_eq!(cut.len(), 3);
        let numbers: Vec<usize> = cut.iter().flat_map(|r| r.iter().map(|d| d.number)).collect();
        assert_eq!(numbers, (1..=100).collect::<Vec<_>>());
        for run in &cut[..2] {
            let bytes: usize = run.iter().map(|d| d.len()).sum();
            assert!(
                bytes >= share && bytes < share + 12,
                "{bytes} for a share of {share}"
            );
        }
    }
}
