//! Percent-decoding, with the two semantics a URL has: in a path a `+` is itself; in a query
//! (`application/x-www-form-urlencoded`) it is a space. Every decoder in the crate is one of these
//! two. Invalid escapes (`%zz`, a `%` at the end) are kept as written; bytes that do not form
//! UTF-8 become U+FFFD.

use std::borrow::Cow;

/// A path segment: `%XX` decoded, `+` kept.
pub(crate) fn path(s: &str) -> Cow<'_, str> {
    decode(s, false)
}

/// A query component (a name or a value): `%XX` decoded and `+` as a space.
pub(crate) fn query(s: &str) -> Cow<'_, str> {
    decode(s, true)
}

fn decode(s: &str, plus_is_space: bool) -> Cow<'_, str> {
    let bytes = s.as_bytes();
    if !bytes
        .iter()
        .any(|b| *b == b'%' || (plus_is_space && *b == b'+'))
    {
        return Cow::Borrowed(s);
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' if plus_is_space => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    match String::from_utf8(out) {
        Ok(s) => Cow::Owned(s),
        Err(e) => Cow::Owned(String::from_utf8_lossy(e.as_bytes()).into_owned()),
    }
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// The `name=value` pairs of a query string, both decoded as query components, in order.
pub(crate) fn query_pairs(
    query: Option<&str>,
) -> impl Iterator<Item = (Cow<'_, str>, Cow<'_, str>)> {
    query
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (self::query(k), self::query(v))
        })
}

/// The first value of a query parameter, decoded.
pub(crate) fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    query_pairs(query)
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// Every value of a query parameter, decoded, in order.
pub(crate) fn query_params(query: Option<&str>, name: &str) -> Vec<String> {
    query_pairs(query)
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plus_is_a_space_in_a_query_only() {
        assert_eq!(path("a+b%3Ac"), "a+b:c");
        assert_eq!(query("a+b%3Ac"), "a b:c");
        assert_eq!(query("a%2Bb"), "a+b");
    }

    #[test]
    fn invalid_escapes_are_kept_as_written() {
        assert_eq!(path("50%"), "50%");
        assert_eq!(path("x%zz%4"), "x%zz%4");
        assert_eq!(path("%E2%9C%93"), "✓");
        assert_eq!(path("%ff"), "\u{fffd}");
        assert!(matches!(path("plain"), Cow::Borrowed(_)));
    }

    #[test]
    fn query_parameters_are_found_by_decoded_name() {
        let q = Some("a=1&testId=t%201&b&a=2&x+y=z");
        assert_eq!(query_param(q, "testId").as_deref(), Some("t 1"));
        assert_eq!(query_param(q, "b").as_deref(), Some(""));
        assert_eq!(query_params(q, "a"), ["1", "2"]);
        assert_eq!(query_param(q, "x y").as_deref(), Some("z"));
        assert_eq!(query_param(None, "a"), None);
    }
}
