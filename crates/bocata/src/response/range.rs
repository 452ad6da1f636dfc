//! `Range: bytes=…` requests (RFC 9110 §14).

use std::ops::Range;

/// The most ranges one request may ask for. A `Range` header with more is ignored and
/// the whole file is sent (RFC 9110 §14.2 lets a server ignore `Range`), so a header of
/// thousands of tiny ranges costs no more than a plain request.
pub(super) const MAX_RANGES: usize = 16;

/// What a `Range` header asks of a representation of a given length.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum RangeOutcome {
    /// No usable `Range`: absent, malformed, another unit, or too many ranges. Send
    /// everything with 200.
    Full,
    /// These byte ranges, sorted, clamped to the length and with overlapping or adjacent
    /// ones merged. Send them with 206.
    Partial(Vec<Range<u64>>),
    /// Well-formed, but no range overlaps the representation: 416.
    Unsatisfiable,
}

/// Evaluates `header` (the `Range` value) against a representation of `len` bytes.
///
/// The work is linear in the header's length: parsing stops at the first problem or
/// after [`MAX_RANGES`] ranges, and merging sorts at most that many.
pub(super) fn evaluate(header: &str, len: u64) -> RangeOutcome {
    let Some(specs) = strip_unit(header) else {
        return RangeOutcome::Full;
    };
    let mut ranges = Vec::new();
    let mut any = false;
    for spec in specs.split(',') {
        let spec = spec.trim_matches([' ', '\t']);
        if spec.is_empty() {
            // RFC 9110 §5.6.1: empty list elements are allowed and ignored.
            continue;
        }
        any = true;
        if ranges.len() == MAX_RANGES {
            return RangeOutcome::Full;
        }
        match parse_spec(spec, len) {
            Spec::Invalid => return RangeOutcome::Full,
            Spec::Outside => {}
            Spec::Within(range) => ranges.push(range),
        }
    }
    if !any {
        return RangeOutcome::Full;
    }
    if ranges.is_empty() {
        return RangeOutcome::Unsatisfiable;
    }
    RangeOutcome::Partial(merge(ranges))
}

/// The ranges after `bytes=`, if the unit is bytes (case-insensitive).
fn strip_unit(header: &str) -> Option<&str> {
    let (unit, specs) = header.trim().split_once('=')?;
    unit.trim().eq_ignore_ascii_case("bytes").then_some(specs)
}

enum Spec {
    /// Not a range spec: the whole header is ignored.
    Invalid,
    /// Valid, but starts past the end.
    Outside,
    /// The bytes it selects, clamped to the length.
    Within(Range<u64>),
}

fn parse_spec(spec: &str, len: u64) -> Spec {
    let Some((first, last)) = spec.split_once('-') else {
        return Spec::Invalid;
    };
    let (first, last) = (first.trim(), last.trim());
    if first.is_empty() {
        // `-n`: the last n bytes. The last 0 bytes, or any bytes of nothing, are none.
        let Some(n) = parse_number(last) else {
            return Spec::Invalid;
        };
        if n == 0 || len == 0 {
            return Spec::Outside;
        }
        return Spec::Within(len.saturating_sub(n)..len);
    }
    let Some(start) = parse_number(first) else {
        return Spec::Invalid;
    };
    let end = if last.is_empty() {
        len
    } else {
        match parse_number(last) {
            Some(last) if last >= start => last.saturating_add(1).min(len),
            _ => return Spec::Invalid,
        }
    };
    if start >= len {
        Spec::Outside
    } else {
        Spec::Within(start..end)
    }
}

/// Digits only (no sign, no spaces inside), and no overflow.
fn parse_number(digits: &str) -> Option<u64> {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Sorts and merges overlapping or adjacent ranges.
fn merge(mut ranges: Vec<Range<u64>>) -> Vec<Range<u64>> {
    ranges.sort_unstable_by_key(|r| r.start);
    let mut merged: Vec<Range<u64>> = Vec::with_capacity(ranges.len());
    for range in ranges {
        match merged.last_mut() {
            Some(last) if range.start <= last.end => last.end = last.end.max(range.end),
            _ => merged.push(range),
        }
    }
    merged
}

#[cfg(test)]
#[allow(
    clippy::single_range_in_vec_init,
    reason = "one range is a case of its own"
)]
mod tests {
    use super::*;
    use RangeOutcome::{Full, Partial, Unsatisfiable};

    #[test]
    fn table() {
        let len = 1000;
        let cases: &[(&str, RangeOutcome)] = &[
            ("bytes=0-499", Partial(vec![0..500])),
            ("bytes=500-", Partial(vec![500..1000])),
            ("bytes=-200", Partial(vec![800..1000])),
            ("bytes=-5000", Partial(vec![0..1000])),
            ("bytes=990-5000", Partial(vec![990..1000])),
            ("bytes=0-0", Partial(vec![0..1])),
            ("bytes=999-999", Partial(vec![999..1000])),
            ("BYTES = 0-9", Partial(vec![0..10])),
            ("bytes=0-9, 20-29", Partial(vec![0..10, 20..30])),
            ("bytes=20-29,0-9", Partial(vec![0..10, 20..30])),
            ("bytes=0-9,5-19", Partial(vec![0..20])),
            ("bytes=0-9,10-19", Partial(vec![0..20])),
            ("bytes=0-9,,20-29,", Partial(vec![0..10, 20..30])),
            ("bytes=0-9,2000-3000", Partial(vec![0..10])),
            ("bytes=1000-", Unsatisfiable),
            ("bytes=1000-2000", Unsatisfiable),
            ("bytes=-0", Unsatisfiable),
            ("bytes=1000-1000,5000-", Unsatisfiable),
            ("bytes=", Full),
            ("bytes=,", Full),
            ("bytes=abc", Full),
            ("bytes=5-1", Full),
            ("bytes=-", Full),
            ("bytes=1-2-3", Full),
            ("bytes=+1-2", Full),
            ("bytes=0-9,x", Full),
            ("bytes=18446744073709551616-", Full),
            ("items=0-9", Full),
            ("0-9", Full),
            ("", Full),
        ];
        for (header, expected) in cases {
            assert_eq!(&evaluate(header, len), expected, "{header:?}");
        }
    }

    #[test]
    fn empty_representations_satisfy_no_range() {
        assert_eq!(evaluate("bytes=0-", 0), Unsatisfiable);
        assert_eq!(evaluate("bytes=-5", 0), Unsatisfiable);
    }

    #[test]
    fn too_many_ranges_are_ignored_whatever_the_header_length() {
        let at_cap = vec!["1-1"; MAX_RANGES].join(",");
        assert_eq!(
            evaluate(&format!("bytes={at_cap}"), 10),
            Partial(vec![1..2])
        );
        let over = vec!["1-1"; MAX_RANGES + 1].join(",");
        assert_eq!(evaluate(&format!("bytes={over}"), 10), Full);
        let huge = vec!["0-0"; 100_000].join(",");
        assert_eq!(evaluate(&format!("bytes={huge}"), 10), Full);
    }

    /// A small deterministic generator, so the property test needs no dependency and
    /// fails the same way every time.
    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    #[test]
    fn random_headers_never_panic_and_partial_ranges_are_sound() {
        let alphabet = b"0123456789-,= bytesBYTES\t+x";
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
        for _ in 0..50_000 {
            let len = rng.below(2_000);
            let mut header = String::from(if rng.below(8) == 0 { "" } else { "bytes=" });
            for _ in 0..rng.below(40) {
                let i = rng.below(alphabet.len() as u64) as usize;
                header.push(alphabet[i] as char);
            }
            if let Partial(ranges) = evaluate(&header, len) {
                assert!(!ranges.is_empty() && ranges.len() <= MAX_RANGES, "{header}");
                let mut previous_end = None;
                for range in &ranges {
                    assert!(range.start < range.end, "{header}: {range:?}");
                    assert!(range.end <= len, "{header}: {range:?} of {len}");
                    if let Some(end) = previous_end {
                        assert!(range.start > end, "{header}: sorted and disjoint");
                    }
                    previous_end = Some(range.end);
                }
            }
        }
    }
}
