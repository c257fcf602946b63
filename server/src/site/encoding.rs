//! Which of a response's stored encodings a request accepts (`Accept-Encoding`, RFC 9110 §12.5.3),
//! for the embedded assets and the cached pages, which both hold each body compressed ahead of
//! time rather than compressing per request.

use http::{header::ACCEPT_ENCODING, HeaderMap};

/// A stored form of a body.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Encoding {
    Brotli,
    Gzip,
    Identity,
}

impl Encoding {
    /// The `Content-Encoding` value, or none for the body as it is.
    pub fn header_value(self) -> Option<&'static str> {
        match self {
            Self::Brotli => Some("br"),
            Self::Gzip => Some("gzip"),
            Self::Identity => None,
        }
    }
}

/// The best of `offered` (in the server's order of preference) that the request accepts with the
/// highest weight; the body as it is when it accepts none of them. Weights follow the header's
/// `q` values (a missing one is 1, `q=0` refuses) and `*` stands for any encoding not named; a
/// request with several `Accept-Encoding` headers is read as their one combined list. One pass
/// over the header, however long it is.
pub fn negotiate(headers: &HeaderMap, offered: &[Encoding]) -> Encoding {
    let mut named: [Option<u16>; 2] = [None, None];
    let mut wildcard = None;
    let items =
        headers.get_all(ACCEPT_ENCODING).iter().filter_map(|value| value.to_str().ok()).flat_map(|v| v.split(','));
    for item in items {
        let mut parts = item.split(';');
        let name = parts.next().unwrap_or_default().trim();
        let weight = parts.find_map(|param| parse_q(param.trim())).unwrap_or(1000);
        let slot = if name.eq_ignore_ascii_case("br") {
            &mut named[0]
        } else if name.eq_ignore_ascii_case("gzip") || name.eq_ignore_ascii_case("x-gzip") {
            &mut named[1]
        } else if name == "*" {
            &mut wildcard
        } else {
            continue;
        };
        // Named twice: the higher weight counts.
        *slot = Some(slot.map_or(weight, |seen| seen.max(weight)));
    }
    let mut best = (Encoding::Identity, 0u16);
    for &encoding in offered {
        let weight = match encoding {
            Encoding::Brotli => named[0].or(wildcard),
            Encoding::Gzip => named[1].or(wildcard),
            Encoding::Identity => None,
        }
        .unwrap_or(0);
        if weight > best.1 {
            best = (encoding, weight);
        }
    }
    best.0
}

/// `q=0.8` → 800; anything malformed counts as no weight at all.
fn parse_q(param: &str) -> Option<u16> {
    let value = param.strip_prefix("q=").or_else(|| param.strip_prefix("Q="))?;
    let (whole, fraction) = value.split_once('.').unwrap_or((value, ""));
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return Some(0);
    }
    // `5` is 500 thousandths, `25` 250, `125` 125.
    let digits = fraction.bytes().fold(0u16, |sum, digit| sum * 10 + u16::from(digit - b'0'));
    let thousandths = digits * 10u16.pow(3 - fraction.len() as u32);
    match whole {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => Some(0),
    }
}

#[cfg(test)]
mod tests {
    use super::{negotiate, Encoding::*};
    use http::{header::ACCEPT_ENCODING, HeaderMap, HeaderValue};

    fn accepting(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT_ENCODING, HeaderValue::from_str(value).unwrap());
        headers
    }

    const BOTH: &[super::Encoding] = &[Brotli, Gzip];

    #[test]
    fn a_browser_gets_brotli() {
        assert_eq!(negotiate(&accepting("gzip, deflate, br, zstd"), BOTH), Brotli);
    }

    #[test]
    fn weights_decide_and_zero_refuses() {
        assert_eq!(negotiate(&accepting("br;q=0.5, gzip;q=0.9"), BOTH), Gzip);
        assert_eq!(negotiate(&accepting("br;q=0.25, gzip;q=0.125"), BOTH), Brotli);
        assert_eq!(negotiate(&accepting("br;q=0.001, gzip;q=0"), BOTH), Brotli);
        assert_eq!(negotiate(&accepting("br;q=0, gzip"), BOTH), Gzip);
        assert_eq!(negotiate(&accepting("br;q=0, gzip;q=0"), BOTH), Identity);
        assert_eq!(negotiate(&accepting("x-gzip"), BOTH), Gzip);
    }

    #[test]
    fn the_wildcard_covers_what_is_not_named() {
        assert_eq!(negotiate(&accepting("*"), BOTH), Brotli);
        assert_eq!(negotiate(&accepting("br;q=0, *;q=0.1"), BOTH), Gzip);
    }

    #[test]
    fn several_headers_are_one_list_and_a_named_refusal_beats_the_wildcard() {
        let mut headers = HeaderMap::new();
        headers.append(ACCEPT_ENCODING, HeaderValue::from_static("*"));
        headers.append(ACCEPT_ENCODING, HeaderValue::from_static("br;q=0"));
        assert_eq!(negotiate(&headers, BOTH), Gzip);
    }

    #[test]
    fn a_huge_header_is_read_once() {
        let junk = "a;q=0.5,".repeat(7000) + "gzip";
        assert_eq!(negotiate(&accepting(&junk), BOTH), Gzip);
    }

    #[test]
    fn nothing_accepted_or_nothing_offered_is_the_body_as_it_is() {
        assert_eq!(negotiate(&HeaderMap::new(), BOTH), Identity);
        assert_eq!(negotiate(&accepting("identity"), BOTH), Identity);
        assert_eq!(negotiate(&accepting("br"), &[Gzip]), Identity);
        assert_eq!(negotiate(&accepting("br;q=2, gzip;q=abc"), BOTH), Identity);
    }
}
