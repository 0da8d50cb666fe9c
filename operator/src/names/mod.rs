//! The API server's rules for names, as `k8s.io/apimachinery/pkg/util/validation` states
//! them, so that `govcloud plan` refuses what a cluster would refuse instead of emitting it.
//!
//! Pure and byte-exact: every rule is ASCII-only, so a multi-byte character fails the
//! character test and lengths are counted in bytes, as the API server counts them.

mod reserved;
#[cfg(test)]
mod tests;

pub use reserved::{reserved_namespace, system_owner};

/// `IsDNS1123Label`: namespaces, and names that become one.
pub const DNS1123_LABEL_PATTERN: &str = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";
/// `IsDNS1035Label`: Service names (they become DNS names, which must not start with a digit).
pub const DNS1035_LABEL_PATTERN: &str = "^[a-z]([-a-z0-9]*[a-z0-9])?$";
/// `IsDNS1123Subdomain`: most object names.
pub const DNS1123_SUBDOMAIN_PATTERN: &str =
    r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";
/// `IsValidLabelValue` (the empty value included).
pub const LABEL_VALUE_PATTERN: &str = "^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$";
/// `IsValidPortName` without look-ahead (JSON Schema patterns have none): leading all-digit
/// words, then a word holding the required letter, then any words; words joined by single '-'.
pub const PORT_NAME_PATTERN: &str = "^([0-9]+-)*[a-z0-9]*[a-z][a-z0-9]*(-[a-z0-9]+)*$";
/// `IsEnvVarName` without look-ahead: a leading '.' must be followed by something other than '.'.
pub const ENV_VAR_NAME_PATTERN: &str = r"^([-_a-zA-Z]|\.[-_a-zA-Z0-9])[-._a-zA-Z0-9]*$";

/// Longest DNS-1123 or DNS-1035 label.
pub const LABEL_MAX: usize = 63;
/// Longest DNS-1123 subdomain.
pub const SUBDOMAIN_MAX: usize = 253;
/// Longest IANA service name (a container port name).
pub const PORT_NAME_MAX: usize = 15;

/// One of the API server's name rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    Dns1123Label,
    Dns1035Label,
    Dns1123Subdomain,
    LabelValue,
    /// `IsQualifiedName`: a label key or node selector key, `[prefix/]name`.
    LabelKey,
    PortName,
    EnvVarName,
}

impl Rule {
    /// The rule's own length limit; `None` when it has none (env names) or it is per part
    /// (label keys).
    pub const fn max_len(self) -> Option<usize> {
        match self {
            Rule::Dns1123Label | Rule::Dns1035Label | Rule::LabelValue => Some(LABEL_MAX),
            Rule::Dns1123Subdomain => Some(SUBDOMAIN_MAX),
            Rule::PortName => Some(PORT_NAME_MAX),
            Rule::LabelKey | Rule::EnvVarName => None,
        }
    }

    fn title(self) -> &'static str {
        match self {
            Rule::Dns1123Label => "a DNS-1123 label",
            Rule::Dns1035Label => "a DNS-1035 label",
            Rule::Dns1123Subdomain => "a DNS-1123 subdomain",
            Rule::LabelValue => "a label value",
            Rule::LabelKey => "a label key",
            Rule::PortName => "a port name",
            Rule::EnvVarName => "an environment variable name",
        }
    }

    fn shape(self) -> &'static str {
        match self {
            Rule::Dns1123Label => {
                "lowercase letters, digits and '-', starting and ending with a letter or digit"
            }
            Rule::Dns1035Label => {
                "lowercase letters, digits and '-', starting with a letter and ending with a letter or digit"
            }
            Rule::Dns1123Subdomain => "DNS-1123 labels joined by '.'",
            Rule::LabelValue => {
                "empty, or letters, digits, '-', '_' and '.', starting and ending with a letter or digit"
            }
            Rule::LabelKey => {
                "an optional DNS-1123 subdomain prefix of at most 253 characters and '/', then at most \
                 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit"
            }
            Rule::PortName => {
                "an IANA service name: lowercase letters, digits and '-', at least one letter, \
                 no '-' at either end and no '--'"
            }
            Rule::EnvVarName => {
                "letters, digits, '_', '-' and '.', not starting with a digit, and neither '.' nor \
                 starting with '..'"
            }
        }
    }

    /// Whether `s` has the rule's form, its length aside.
    fn matches(self, s: &str) -> bool {
        match self {
            Rule::Dns1123Label => dns1123_label(s),
            Rule::Dns1035Label => dns1123_label(s) && s.as_bytes()[0].is_ascii_lowercase(),
            Rule::Dns1123Subdomain => s.split('.').all(dns1123_label),
            Rule::LabelValue => s.is_empty() || label_name(s),
            Rule::LabelKey => label_key(s),
            Rule::PortName => port_name(s),
            Rule::EnvVarName => env_var_name(s),
        }
    }

    /// Refuses `value` unless it follows the rule and its length limit.
    pub fn check(self, value: &str) -> Result<(), String> {
        self.check_within(value, self.max_len().unwrap_or(usize::MAX))
    }

    /// As [`Rule::check`], with a tighter limit than the rule's own, for a name that is
    /// embedded in a longer one.
    pub fn check_within(self, value: &str, max: usize) -> Result<(), String> {
        let limit = self.max_len().map_or(max, |own| own.min(max));
        if self.matches(value) && value.len() <= limit {
            return Ok(());
        }
        let within = if limit == usize::MAX {
            String::new()
        } else {
            format!(", at most {limit} characters")
        };
        Err(format!(
            "{} is not {} ({}{within})",
            shown(value),
            self.title(),
            self.shape()
        ))
    }
}

/// A value quoted for a message; a hostile name of megabytes is cut, with its length.
pub fn shown(value: &str) -> String {
    const KEEP: usize = 80;
    if value.len() <= LABEL_MAX {
        return format!("{value:?}");
    }
    let mut end = KEEP.min(value.len());
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    let cut = if end < value.len() { "…" } else { "" };
    format!("{:?}{cut} ({} characters)", &value[..end], value.len())
}

fn lower_alnum(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

fn dns1123_label(s: &str) -> bool {
    let b = s.as_bytes();
    match (b.first(), b.last()) {
        (Some(&first), Some(&last)) => {
            lower_alnum(first) && lower_alnum(last) && b.iter().all(|&c| lower_alnum(c) || c == b'-')
        }
        _ => false,
    }
}

/// The name part of a label key, and a non-empty label value: `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`.
fn label_name(s: &str) -> bool {
    let b = s.as_bytes();
    match (b.first(), b.last()) {
        (Some(first), Some(last)) => {
            first.is_ascii_alphanumeric()
                && last.is_ascii_alphanumeric()
                && b.iter()
                    .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
        }
        _ => false,
    }
}

fn label_key(s: &str) -> bool {
    let (prefix, name) = match s.split_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, s),
    };
    let prefix_ok = prefix.is_none_or(|p| Rule::Dns1123Subdomain.check(p).is_ok());
    prefix_ok && name.len() <= LABEL_MAX && label_name(name)
}

fn port_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.iter().all(|&c| lower_alnum(c) || c == b'-')
        && b.iter().any(u8::is_ascii_lowercase)
        && !s.contains("--")
        && !s.starts_with('-')
        && !s.ends_with('-')
}

fn env_var_name(s: &str) -> bool {
    let b = s.as_bytes();
    let body = |c: &u8| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_');
    b.first().is_some_and(|c| !c.is_ascii_digit() && body(c))
        && b.iter().all(body)
        && s != "."
        && !s.starts_with("..")
}
