//! Decoding answers whose parts may each be malformed: a part of the wrong shape reads as
//! absent, and gets its own message where it is used, instead of failing the whole answer
//! (and with it every other series or pod).

use serde::Deserializer;
use serde::de::{Deserialize, DeserializeOwned};
use serde_json::Value;

/// `T` when the value has its shape, `None` when it does not (for
/// `#[serde(default, deserialize_with = "or_none")]`).
pub(crate) fn or_none<'de, D: Deserializer<'de>, T: DeserializeOwned>(d: D) -> Result<Option<T>, D::Error> {
    Ok(T::deserialize(Value::deserialize(d)?).ok())
}
