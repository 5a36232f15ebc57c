//! A sliding-window limiter for failed logins and sign-ups, keyed by account and by IP.
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct RateLimiter {
    window: Duration,
    max: usize,
    hits: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl RateLimiter {
    /// At most `max` events per key within `window`.
    pub fn new(max: usize, window: Duration) -> Self {
        Self { window, max, hits: Mutex::new(HashMap::new()) }
    }

    fn prune(q: &mut VecDeque<Instant>, now: Instant, window: Duration) {
        while q.front().is_some_and(|t| now.duration_since(*t) >= window) {
            q.pop_front();
        }
    }

    /// `Err(retry_after)` when `key` is over its budget.
    pub fn check(&self, key: &str) -> Result<(), Duration> {
        let now = Instant::now();
        let mut hits = self.hits.lock().unwrap_or_else(|p| p.into_inner());
        let Some(q) = hits.get_mut(key) else { return Ok(()) };
        Self::prune(q, now, self.window);
        if q.len() >= self.max {
            let oldest = q.front().copied().unwrap_or(now);
            return Err(self.window.saturating_sub(now.duration_since(oldest)));
        }
        Ok(())
    }

    /// Records one event for `key`.
    pub fn hit(&self, key: &str) {
        let now = Instant::now();
        let mut hits = self.hits.lock().unwrap_or_else(|p| p.into_inner());
        if hits.len() > 100_000 {
            // Bound memory under a flood of distinct keys: forget keys with no recent events.
            let window = self.window;
            hits.retain(|_, q| {
                Self::prune(q, now, window);
                !q.is_empty()
            });
        }
        let q = hits.entry(key.to_string()).or_default();
        Self::prune(q, now, self.window);
        q.push_back(now);
    }

    /// Forgets `key` (e.g. after a successful login).
    pub fn clear(&self, key: &str) {
        self.hits.lock().unwrap_or_else(|p| p.into_inner()).remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_max_and_recovers() {
        let rl = RateLimiter::new(3, Duration::from_millis(200));
        for _ in 0..3 {
            assert!(rl.check("k").is_ok());
            rl.hit("k");
        }
        assert!(rl.check("k").is_err());
        assert!(rl.check("other").is_ok());
        std::thread::sleep(Duration::from_millis(220));
        assert!(rl.check("k").is_ok());
        rl.hit("k");
        rl.clear("k");
        assert!(rl.check("k").is_ok());
    }
}
