//! Fixed-window rate limiting, keyed by token (Linode limits creates to 10 per 30 s per user).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use time::OffsetDateTime;

use crate::config::RateLimit;
use crate::errors::ApiError;

struct Window {
    started: Instant,
    resets_at_epoch: i64,
    count: u32,
}

#[derive(Default)]
pub(crate) struct Windows(HashMap<String, Window>);

/// What the `X-RateLimit-*` headers report after an allowed request.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Allowance {
    pub limit: u32,
    pub remaining: u32,
    pub reset_epoch: i64,
}

impl Windows {
    /// Counts one request for `key`, or refuses it with 429 once the window is full.
    pub fn hit(&mut self, key: &str, limit: RateLimit) -> Result<Allowance, ApiError> {
        let now = Instant::now();
        let window = self.0.entry(key.to_owned()).or_insert_with(|| new_window(now, limit.window));
        if now.duration_since(window.started) >= limit.window {
            *window = new_window(now, limit.window);
        }
        if window.count >= limit.requests {
            let left = limit.window.saturating_sub(now.duration_since(window.started));
            return Err(ApiError::RateLimited {
                limit: limit.requests,
                reset_epoch: window.resets_at_epoch,
                retry_after_secs: left.as_secs_f64().ceil().max(1.0) as u64,
            });
        }
        window.count += 1;
        Ok(Allowance {
            limit: limit.requests,
            remaining: limit.requests - window.count,
            reset_epoch: window.resets_at_epoch,
        })
    }
}

fn new_window(now: Instant, length: Duration) -> Window {
    let end = OffsetDateTime::now_utc() + length;
    // Reset is whole epoch seconds; round up so a client never retries too early.
    let resets_at_epoch = end.unix_timestamp() + i64::from(end.nanosecond() > 0);
    Window { started: now, resets_at_epoch, count: 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eleventh_request_in_window_is_refused_per_key() {
        let limit = RateLimit::default();
        let mut windows = Windows::default();
        for expected in (0..10).rev() {
            assert_eq!(windows.hit("a", limit).expect("allowed").remaining, expected);
        }
        assert!(matches!(windows.hit("a", limit), Err(ApiError::RateLimited { .. })));
        assert!(windows.hit("b", limit).is_ok());
    }
}
