//! Latency statistics.

use std::time::Duration;

pub(crate) struct Stats {
    pub(crate) n: usize,
    pub(crate) p50: Duration,
    pub(crate) p95: Duration,
    pub(crate) p99: Duration,
    pub(crate) max: Duration,
}

/// Nearest-rank percentiles.
pub(crate) fn stats(mut v: Vec<Duration>) -> Stats {
    v.sort_unstable();
    let at = |p: f64| {
        if v.is_empty() {
            return Duration::ZERO;
        }
        let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
        v[rank.clamp(1, v.len()) - 1]
    };
    Stats { n: v.len(), p50: at(50.0), p95: at(95.0), p99: at(99.0), max: v.last().copied().unwrap_or_default() }
}

pub(crate) fn ms(d: Duration) -> String {
    let v = d.as_secs_f64() * 1000.0;
    if v < 10.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.1}")
    }
}

pub(crate) fn ms_f(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_by_nearest_rank() {
        let s = stats((1..=100).map(Duration::from_millis).collect());
        assert_eq!(
            (s.p50, s.p95, s.p99, s.max),
            (
                Duration::from_millis(50),
                Duration::from_millis(95),
                Duration::from_millis(99),
                Duration::from_millis(100)
            )
        );
    }
}
