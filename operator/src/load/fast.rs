//! A document's data built straight from the YAML parser's events, for the plain YAML
//! that `kubectl get -o yaml` and most hand-written manifests use.
//!
//! serde-saphyr spends about two thirds of its time above the parser (comment tracking,
//! event replay, serde plumbing), which kept the loader near 4 MB/s. This reader builds
//! the same `Value` from the same parser, configured as serde-saphyr configures it, and
//! gives up (`None`) on anything whose meaning it does not decide exactly as serde-saphyr
//! does: anchors, aliases, tags, merge keys, duplicate keys, keys that are not plainly
//! strings, scalars that could be numbers, booleans or nulls in some spelling it does not
//! handle, deep nesting, and any syntax error. The full deserializer then reads the
//! document and reports its problems in its own words. `tests_fast` checks that the two
//! agree wherever this one answers.

use granit_parser::{Event, Parser, ScalarStyle};
use serde_json::{Map, Number, Value};

/// Half serde-saphyr's nesting limit: deeper documents go to it, for its error.
const MAX_DEPTH: usize = 32;

fn parser_options() -> granit_parser::Options {
    let budget = serde_saphyr::Budget::default();
    let defaults = granit_parser::Options::default();
    granit_parser::options! {
        simple_key_max_lookahead: budget.simple_key_max_lookahead,
        flow_nesting_limit: budget.flow_nesting_limit,
        block_nesting_limit: defaults.block_nesting_limit.max(budget.max_depth.saturating_add(1)),
        emit_comments: false,
    }
}

enum Frame {
    /// Items, or `None` for the root's `items`, whose items go to `on_item`.
    Seq(Option<Vec<Value>>),
    Map(Map<String, Value>, Option<String>),
}

/// The data of one document, or `None` when the full deserializer must read it.
///
/// The items of a root mapping's `items` sequence (a List's) are handed to `on_item` as
/// each is finished, and the sequence is left empty, so that a large List is never held
/// whole. After `None`, the items handed out are to be forgotten.
pub(super) fn parse(text: &str, on_item: &mut dyn FnMut(Value)) -> Option<Value> {
    let mut stack: Vec<Frame> = Vec::new();
    let mut root: Option<Value> = None;
    let mut documents = 0;
    for event in Parser::new_from_str_with_options(text, parser_options()) {
        let (event, _) = event.ok()?;
        let node = match event {
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => continue,
            Event::DocumentStart(_, version) => {
                documents += 1;
                if documents > 1 || version.is_some() {
                    return None;
                }
                continue;
            }
            Event::Scalar(text, style, 0, None) => match stack.last_mut() {
                Some(Frame::Map(_, key @ None)) => {
                    *key = Some(key_text(&text, style)?);
                    continue;
                }
                _ => scalar(&text, style)?,
            },
            Event::SequenceStart(_, 0, None) | Event::MappingStart(_, 0, None) => {
                if matches!(stack.last(), Some(Frame::Map(_, None))) || stack.len() >= MAX_DEPTH {
                    return None;
                }
                let root_items = matches!(stack.as_slice(), [Frame::Map(_, Some(key))] if key == "items");
                stack.push(if matches!(event, Event::SequenceStart(..)) {
                    Frame::Seq((!root_items).then(Vec::new))
                } else {
                    Frame::Map(Map::new(), None)
                });
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => match stack.pop()? {
                Frame::Seq(items) => Value::Array(items.unwrap_or_default()),
                Frame::Map(map, None) => Value::Object(map),
                Frame::Map(_, Some(_)) => return None,
            },
            // Anchors, aliases, tags: serde-saphyr decides what they mean.
            _ => return None,
        };
        match stack.last_mut() {
            Some(Frame::Seq(Some(items))) => items.push(node),
            Some(Frame::Seq(None)) => on_item(node),
            Some(Frame::Map(map, key)) => {
                let key = key.take()?;
                if map.insert(key, node).is_some() {
                    return None;
                }
            }
            None if root.is_none() => root = Some(node),
            None => return None,
        }
    }
    if stack.is_empty() { root } else { None }
}

/// A mapping key that is a string in every reading: quoted, or plain text that is not
/// a number, boolean or null. A merge key (`<<`) is not.
fn key_text(text: &str, style: ScalarStyle) -> Option<String> {
    match scalar(text, style)? {
        Value::String(key) if key != "<<" => Some(key),
        _ => None,
    }
}

/// Words that serde-saphyr may read as booleans (YAML 1.1 spellings included), nulls or
/// non-finite numbers, in any case.
const SPECIAL_WORDS: [&str; 12] = [
    "true", "false", "yes", "no", "y", "n", "on", "off", "null", "inf", "infinity", "nan",
];

fn scalar(text: &str, style: ScalarStyle) -> Option<Value> {
    if style != ScalarStyle::Plain {
        return Some(Value::String(text.to_owned()));
    }
    let bytes = text.as_bytes();
    let Some(&first) = bytes.first() else {
        return Some(Value::Null);
    };
    if first.is_ascii_alphabetic() {
        // The two spellings every YAML version reads alike; the others vary.
        match text {
            "true" => return Some(Value::Bool(true)),
            "false" => return Some(Value::Bool(false)),
            _ => {}
        }
        if SPECIAL_WORDS.iter().any(|w| text.eq_ignore_ascii_case(w)) {
            return None;
        }
        return Some(Value::String(text.to_owned()));
    }
    if text == "~" {
        return Some(Value::Null);
    }
    if !(first.is_ascii_digit() || matches!(first, b'-' | b'+' | b'.')) {
        return Some(Value::String(text.to_owned()));
    }
    // Could be a number: only the plainest spellings are decided here.
    if let Some(number) = decimal(text) {
        return Some(number);
    }
    if may_be_number(text) {
        return None;
    }
    // A character no number spelling has (`500m`, `64Gi`, a uid's `0d5c…-8f9a`).
    Some(Value::String(text.to_owned()))
}

/// Whether some YAML reading could take `text` for a number: a radix number, a colon
/// (YAML 1.1 sexagesimal), a non-finite spelling, or the shape of a decimal or float.
fn may_be_number(text: &str) -> bool {
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    let non_finite = [".inf", ".nan", "inf", "nan", "infinity"];
    // Any digit of any radix after the prefix; a uid such as `0bf58a05-27e3-…` has more.
    let radix = match unsigned.as_bytes() {
        [b'0', b'x' | b'X' | b'o' | b'O' | b'b' | b'B', rest @ ..] => {
            rest.iter().all(|b| b.is_ascii_hexdigit() || *b == b'_')
        }
        _ => false,
    };
    radix
        || text.contains(':')
        || non_finite.iter().any(|w| unsigned.eq_ignore_ascii_case(w))
        || float_shaped(unsigned)
}

/// Digits, underscores and at most one `.`, then at most one exponent of an optional sign
/// and digits: a uid such as `026e6157e3` or `2e` is not.
fn float_shaped(unsigned: &str) -> bool {
    let (mantissa, exponent) = match unsigned.split_once(['e', 'E']) {
        Some((mantissa, exponent)) => (mantissa, Some(exponent)),
        None => (unsigned, None),
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit() || b == b'_');
    let mantissa_ok = mantissa.bytes().filter(|&b| b == b'.').count() <= 1
        && mantissa
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'_' || b == b'.');
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && digits(e)
    });
    mantissa_ok && exponent_ok
}

/// `0`, `42`, `-7` (no leading zeros, within 64 bits) and `0.05`, `-1.5`.
fn decimal(text: &str) -> Option<Value> {
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let (whole, fraction) = match unsigned.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (unsigned, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || (whole.len() > 1 && whole.starts_with('0')) {
        return None;
    }
    match fraction {
        None if text.starts_with('-') => text.parse::<i64>().ok().map(Value::from),
        None => text.parse::<u64>().ok().map(Value::from),
        Some(fraction) if digits(fraction) => {
            let value: f64 = text.parse().ok()?;
            value
                .is_finite()
                .then(|| Number::from_f64(value).map(Value::Number))
                .flatten()
        }
        Some(_) => None,
    }
}
