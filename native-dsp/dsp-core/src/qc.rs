//! Quality-control findings: problems an engineer must know about before mastering, each with a
//! time span so the UI can draw it on the timeline and jump playback there.

/// How much a finding matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// One finding. `kind` is a stable identifier (for example `clipping`, `intersample-over`).
#[derive(Debug, Clone, PartialEq)]
pub struct QcFinding {
    pub kind: &'static str,
    pub severity: Severity,
    pub start_seconds: f64,
    pub end_seconds: f64,
    /// The channel concerned, when the finding belongs to one channel.
    pub channel: Option<usize>,
    pub message: String,
}

/// Collects time spans (in frames) of a condition, merging spans closer than `merge_gap` frames,
/// and keeping at most `max_spans` spans while still counting all of them. Used for clipped runs,
/// inter-sample overs and the like, so a file that clips ten thousand times yields a readable list.
#[derive(Debug, Clone)]
pub struct SpanCollector {
    merge_gap: u64,
    max_spans: usize,
    spans: Vec<(u64, u64, u64)>,
    /// Largest value seen in each span (for example the highest true peak), when given.
    peaks: Vec<f64>,
    total_events: u64,
    dropped_spans: u64,
}

impl SpanCollector {
    pub fn new(merge_gap: u64, max_spans: usize) -> Self {
        Self {
            merge_gap,
            max_spans,
            spans: Vec::new(),
            peaks: Vec::new(),
            total_events: 0,
            dropped_spans: 0,
        }
    }

    /// Adds an event covering frames `start..end` (end exclusive), in time order.
    pub fn add(&mut self, start: u64, end: u64) {
        self.add_peak(start, end, f64::NEG_INFINITY);
    }

    /// Like `add`, remembering the largest `peak` of each span.
    pub fn add_peak(&mut self, start: u64, end: u64, peak: f64) {
        self.total_events += 1;
        if let Some(last) = self.spans.last_mut() {
            if start <= last.1 + self.merge_gap && self.dropped_spans == 0 {
                // Events may arrive slightly out of order (several oversampled phases per block).
                last.0 = last.0.min(start);
                last.1 = last.1.max(end);
                last.2 += 1;
                let p = self.peaks.last_mut().expect("one peak per span");
                *p = p.max(peak);
                return;
            }
        }
        if self.spans.len() < self.max_spans {
            self.spans.push((start, end, 1));
            self.peaks.push(peak);
        } else {
            self.dropped_spans += 1;
        }
    }

    /// The largest peak given for span `i` (−∞ when spans were added without one).
    pub fn peak(&self, i: usize) -> f64 {
        self.peaks[i]
    }

    /// Spans as (start frame, end frame, events merged into it).
    pub fn spans(&self) -> &[(u64, u64, u64)] {
        &self.spans
    }

    pub fn total_events(&self) -> u64 {
        self.total_events
    }

    /// Spans that were not kept because `max_spans` was reached.
    pub fn dropped_spans(&self) -> u64 {
        self.dropped_spans
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_close_events_and_caps_the_list() {
        let mut c = SpanCollector::new(10, 2);
        c.add(0, 3);
        c.add(8, 9); // within 10 frames of the first span's end: merged
        c.add(100, 101);
        c.add(200, 201); // over the cap: counted, not kept
        assert_eq!(c.spans(), &[(0, 9, 2), (100, 101, 1)]);
        assert_eq!(c.total_events(), 4);
        assert_eq!(c.dropped_spans(), 1);
    }
}
