//! A sliding-window limiter for failed logins and sign-ups, keyed by account and by IP. An
//! attempt is reserved before the work it guards ([`RateLimiter::try_hit`]), so a parallel burst
//! cannot all pass the check before any of it is counted; the number of keys held is bounded.
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// At most this many keys are held; past it the key whose latest event is oldest is forgotten.
pub const MAX_KEYS: usize = 100_000;

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
        self.make_room(&mut hits, key, now);
        let q = hits.entry(key.to_string()).or_default();
        Self::prune(q, now, self.window);
        q.push_back(now);
    }

    /// Checks `key`'s budget and, when there is room, records the event in the same step:
    /// `Ok(at)` identifies the event for [`RateLimiter::release`], `Err(retry_after)` when the
    /// key is over its budget (nothing is recorded then).
    pub fn try_hit(&self, key: &str) -> Result<Instant, Duration> {
        let now = Instant::now();
        let mut hits = self.hits.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(q) = hits.get_mut(key) {
            Self::prune(q, now, self.window);
            if q.len() >= self.max {
                let oldest = q.front().copied().unwrap_or(now);
                return Err(self.window.saturating_sub(now.duration_since(oldest)));
            }
        }
        self.make_room(&mut hits, key, now);
        hits.entry(key.to_string()).or_default().push_back(now);
        Ok(now)
    }

    /// Takes back the event recorded at `at` for `key` (the attempt turned out not to count).
    pub fn release(&self, key: &str, at: Instant) {
        let mut hits = self.hits.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(q) = hits.get_mut(key) {
            if let Some(i) = q.iter().rposition(|t| *t == at) {
                q.remove(i);
            }
            if q.is_empty() {
                hits.remove(key);
            }
        }
    }

    /// Keeps the map under [`MAX_KEYS`] before `key` is added: keys without recent events go
    /// first, then the one whose latest event is oldest.
    fn make_room(&self, hits: &mut HashMap<String, VecDeque<Instant>>, key: &str, now: Instant) {
        if hits.len() < MAX_KEYS || hits.contains_key(key) {
            return;
        }
        let window = self.window;
        hits.retain(|_, q| {
            Self::prune(q, now, window);
            !q.is_empty()
        });
        while hits.len() >= MAX_KEYS {
            let Some(stalest) = hits.iter().min_by_key(|(_, q)| q.back().copied()).map(|(k, _)| k.clone()) else { break };
            hits.remove(&stalest);
        }
    }

    /// How many keys are held (for tests and metrics).
    pub fn keys(&self) -> usize {
        self.hits.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Forgets `key` (e.g. after a successful login).
    pub fn clear(&self, key: &str) {
        self.hits.lock().unwrap_or_else(|p| p.into_inner()).remove(key);
    }
}

/// A delay that grows with an account's failed logins from anywhere, instead of a lockout:
/// after `free` failures each attempt must wait `2^(failures - free)` seconds (at most `cap`)
/// after the previous attempt; failures are forgotten `forget` after the last one. Someone
/// guessing from many addresses is slowed to one guess per `cap`; the account's owner is never
/// kept out longer than that.
pub struct ProgressiveDelay {
    free: u32,
    cap: Duration,
    forget: Duration,
    state: Mutex<HashMap<String, (u32, Instant)>>,
}

impl ProgressiveDelay {
    pub fn new(free: u32, cap: Duration, forget: Duration) -> Self {
        Self { free, cap, forget, state: Mutex::new(HashMap::new()) }
    }

    fn delay(&self, failures: u32) -> Duration {
        if failures < self.free {
            return Duration::ZERO;
        }
        let exp = (failures - self.free).min(16);
        Duration::from_secs(1u64 << exp).min(self.cap)
    }

    /// Takes the account's next turn: `Err(wait)` while the delay since its last attempt runs;
    /// otherwise the attempt is recorded as the last one (parallel attempts wait their turn).
    pub fn try_attempt(&self, key: &str) -> Result<(), Duration> {
        let now = Instant::now();
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((failures, last)) = state.get_mut(key) {
            let since = now.duration_since(*last);
            if since >= self.forget {
                state.remove(key);
                return Ok(());
            }
            let wait = self.delay(*failures);
            if since < wait {
                return Err(wait - since);
            }
            *last = now;
        }
        Ok(())
    }

    /// Records a failed attempt.
    pub fn failed(&self, key: &str) {
        let now = Instant::now();
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if state.len() >= MAX_KEYS && !state.contains_key(key) {
            let forget = self.forget;
            state.retain(|_, (_, last)| now.duration_since(*last) < forget);
            while state.len() >= MAX_KEYS {
                let Some(oldest) = state.iter().min_by_key(|(_, (_, last))| *last).map(|(k, _)| k.clone()) else { break };
                state.remove(&oldest);
            }
        }
        let e = state.entry(key.to_string()).or_insert((0, now));
        e.0 = e.0.saturating_add(1);
        e.1 = now;
    }

    /// Forgets the account's failures (after a successful login).
    pub fn clear(&self, key: &str) {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).remove(key);
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

    #[test]
    fn reservations_are_atomic_and_can_be_taken_back() {
        let rl = std::sync::Arc::new(RateLimiter::new(5, Duration::from_secs(60)));
        // 20 threads race for the same key: exactly 5 get through.
        let passed: usize = (0..20)
            .map(|_| {
                let rl = std::sync::Arc::clone(&rl);
                std::thread::spawn(move || rl.try_hit("acct").is_ok())
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|t| usize::from(t.join().unwrap_or(false)))
            .sum();
        assert_eq!(passed, 5);
        assert!(rl.try_hit("acct").is_err());
        // A released reservation frees its place.
        let other = rl.try_hit("ip").unwrap();
        rl.release("ip", other);
        assert_eq!(rl.keys(), 1, "an emptied key is forgotten");
    }

    #[test]
    fn the_number_of_keys_is_bounded() {
        let rl = RateLimiter::new(3, Duration::from_secs(60));
        for i in 0..MAX_KEYS + 50 {
            rl.hit(&format!("key-{i}"));
        }
        assert!(rl.keys() <= MAX_KEYS);
        // The newest key is still counted.
        rl.hit(&format!("key-{}", MAX_KEYS + 49));
        rl.hit(&format!("key-{}", MAX_KEYS + 49));
        assert!(rl.check(&format!("key-{}", MAX_KEYS + 49)).is_err());
    }

    #[test]
    fn the_delay_grows_is_capped_and_never_locks_out() {
        let d = ProgressiveDelay::new(2, Duration::from_millis(4000), Duration::from_secs(60));
        assert!(d.try_attempt("a").is_ok());
        d.failed("a");
        d.failed("a");
        // Two free failures; the third attempt waits about a second, the next ones longer.
        let wait = d.try_attempt("a").expect_err("a delay after the free failures");
        assert!(wait <= Duration::from_secs(1) && wait > Duration::from_millis(900), "{wait:?}");
        assert_eq!(d.delay(3), Duration::from_secs(2));
        assert_eq!(d.delay(10), Duration::from_millis(4000), "capped");
        assert!(d.try_attempt("b").is_ok(), "other accounts are not slowed");
        d.clear("a");
        assert!(d.try_attempt("a").is_ok());
    }
}
