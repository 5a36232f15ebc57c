//! Reading a PDF's text layer with bounded time and memory.
//!
//! `pdf-extract` runs arbitrary parsing code over uploaded bytes. In the server it runs in a
//! child process (`precedent labs worker`) whose address space is capped with `RLIMIT_AS` and
//! which is killed at the deadline, so a hostile file can neither stall a request nor take the
//! server's memory. The in-thread mode (deadline only) serves the command line and unit tests.
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// What reading a PDF's text layer produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Extracted {
    /// The text layer, whitespace-normalised per line.
    Text(String),
    /// The PDF has no text layer (e.g. a scanned page): stored, but nothing to read.
    NoTextLayer,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LabsError {
    #[error("the PDF could not be read: {0}")]
    Unreadable(String),
    #[error("the PDF is encrypted")]
    Encrypted,
    #[error("reading the PDF took longer than {0:?}")]
    Timeout(Duration),
    #[error("reading the PDF needed more than {0} MB of memory")]
    TooMuchMemory(u64),
    #[error("the server was busy reading other reports for {0:?}; it can be read again later")]
    Busy(Duration),
}

/// How many PDFs are parsed at once in this process (each parser process may take up to its
/// memory cap): a burst of uploads queues here instead of starting a process per report.
pub struct ParserSlots {
    max: std::sync::atomic::AtomicUsize,
    active: std::sync::Mutex<usize>,
    freed: std::sync::Condvar,
    peak: std::sync::atomic::AtomicUsize,
}

/// The process-wide parser slots ([`PdfReader::read`] takes one).
pub static SLOTS: ParserSlots = ParserSlots::new(2);

impl ParserSlots {
    pub const fn new(max: usize) -> Self {
        Self {
            max: std::sync::atomic::AtomicUsize::new(max),
            active: std::sync::Mutex::new(0),
            freed: std::sync::Condvar::new(),
            peak: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// Sets how many parsers may run at once (at least one).
    pub fn set_max(&self, max: usize) {
        self.max.store(max.max(1), std::sync::atomic::Ordering::Relaxed);
        self.freed.notify_all();
    }

    /// The most that ever ran at once (tests, metrics).
    pub fn peak(&self) -> usize {
        self.peak.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Waits up to `wait` for a slot.
    pub fn acquire(&self, wait: Duration) -> Result<SlotGuard<'_>, LabsError> {
        let deadline = Instant::now() + wait;
        let mut active = self.active.lock().unwrap_or_else(|p| p.into_inner());
        while *active >= self.max.load(std::sync::atomic::Ordering::Relaxed) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(LabsError::Busy(wait));
            }
            active = self.freed.wait_timeout(active, left).unwrap_or_else(|p| p.into_inner()).0;
        }
        *active += 1;
        self.peak.fetch_max(*active, std::sync::atomic::Ordering::Relaxed);
        Ok(SlotGuard { slots: self })
    }
}

/// A parser slot, given back when dropped.
pub struct SlotGuard<'a> {
    slots: &'a ParserSlots,
}

impl Drop for SlotGuard<'_> {
    fn drop(&mut self) {
        let mut active = self.slots.active.lock().unwrap_or_else(|p| p.into_inner());
        *active = active.saturating_sub(1);
        self.slots.freed.notify_one();
    }
}

/// Where the parser runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Isolation {
    /// On a thread of this process: bounded in time only.
    Thread,
    /// In a child process running `exe labs worker`, its address space capped at `max_memory_mb`.
    Process { exe: PathBuf, max_memory_mb: u64 },
}

/// Reads PDF text layers under a deadline, isolated as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PdfReader {
    pub isolation: Isolation,
    pub timeout: Duration,
}

impl PdfReader {
    pub fn in_thread(timeout: Duration) -> Self {
        Self { isolation: Isolation::Thread, timeout }
    }

    pub fn in_process(exe: impl Into<PathBuf>, max_memory_mb: u64, timeout: Duration) -> Self {
        Self { isolation: Isolation::Process { exe: exe.into(), max_memory_mb }, timeout }
    }

    /// Reads the text layer, after waiting (six deadlines, at least 30 s) for one of the
    /// process's parser slots ([`SLOTS`]).
    pub fn read(&self, bytes: &[u8]) -> Result<Extracted, LabsError> {
        let _slot = SLOTS.acquire((self.timeout * 6).max(Duration::from_secs(30)))?;
        match &self.isolation {
            Isolation::Thread => extract_text(bytes.to_vec(), self.timeout),
            Isolation::Process { exe, max_memory_mb } => read_in_child(exe, *max_memory_mb, self.timeout, bytes),
        }
    }
}

/// Extracts the text layer of `bytes` on a thread, giving up after `limit`.
pub fn extract_text(bytes: Vec<u8>, limit: Duration) -> Result<Extracted, LabsError> {
    let (tx, rx) = mpsc::channel();
    let spawned = std::thread::Builder::new().name("pdf-extract".into()).spawn(move || {
        let _ = tx.send(extract_here(&bytes));
    });
    if let Err(e) = spawned {
        return Err(LabsError::Unreadable(format!("no thread for the parser: {e}")));
    }
    // On timeout the thread is left to finish on its own; its result is dropped.
    rx.recv_timeout(limit).unwrap_or(Err(LabsError::Timeout(limit)))
}

/// Runs the parser on the calling thread, panics contained.
fn extract_here(bytes: &[u8]) -> Result<Extracted, LabsError> {
    match std::panic::catch_unwind(|| pdf_extract::extract_text_from_mem(bytes)) {
        Ok(Ok(text)) => Ok(tidy(&text)),
        Ok(Err(e)) => {
            let msg = e.to_string();
            if msg.to_ascii_lowercase().contains("encrypt") {
                Err(LabsError::Encrypted)
            } else {
                Err(LabsError::Unreadable(msg))
            }
        }
        Err(_panic) => Err(LabsError::Unreadable("the parser failed on this file".into())),
    }
}

fn tidy(text: &str) -> Extracted {
    let lines: Vec<String> = text.lines().map(|l| l.split_whitespace().collect::<Vec<_>>().join(" ")).filter(|l| !l.is_empty()).collect();
    if lines.is_empty() {
        Extracted::NoTextLayer
    } else {
        Extracted::Text(lines.join("\n"))
    }
}

// The worker's answer on stdout: one tag byte, then UTF-8 payload.
const TAG_TEXT: u8 = b'T';
const TAG_NO_TEXT: u8 = b'N';
const TAG_ENCRYPTED: u8 = b'E';
const TAG_UNREADABLE: u8 = b'U';

/// The child side (`precedent labs worker`): reads a PDF from `input`, answers on `output`.
pub fn serve_worker(mut input: impl Read, mut output: impl Write) -> std::io::Result<()> {
    let mut bytes = Vec::new();
    input.read_to_end(&mut bytes)?;
    let (tag, payload) = match extract_here(&bytes) {
        Ok(Extracted::Text(t)) => (TAG_TEXT, t),
        Ok(Extracted::NoTextLayer) => (TAG_NO_TEXT, String::new()),
        Err(LabsError::Encrypted) => (TAG_ENCRYPTED, String::new()),
        Err(e) => (TAG_UNREADABLE, e.to_string()),
    };
    output.write_all(&[tag])?;
    output.write_all(payload.as_bytes())?;
    output.flush()
}

fn read_in_child(exe: &std::path::Path, max_memory_mb: u64, limit: Duration, bytes: &[u8]) -> Result<Extracted, LabsError> {
    let unreadable = |what: &str, e: std::io::Error| LabsError::Unreadable(format!("{what}: {e}"));
    let mut cmd = Command::new(exe);
    cmd.args(["labs", "worker"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Few malloc arenas: each reserves address space that counts against the cap.
        .env("MALLOC_ARENA_MAX", "2")
        .env("RUST_LOG", "error");
    cap_address_space(&mut cmd, max_memory_mb);
    let started = Instant::now();
    let mut child = cmd.spawn().map_err(|e| unreadable("the parser process did not start", e))?;
    // Feed and drain on their own threads, so a full pipe never blocks the deadline below.
    let feeder = child.stdin.take().map(|mut stdin| {
        let data = bytes.to_vec();
        std::thread::spawn(move || {
            let _ = stdin.write_all(&data);
        })
    });
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() >= limit => {
                let _ = child.kill();
                let _ = child.wait();
                tracing::warn!(?limit, "PDF parser process killed at its deadline");
                return Err(LabsError::Timeout(limit));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(2)),
            Err(e) => return Err(unreadable("waiting for the parser process", e)),
        }
    };
    if let Some(f) = feeder {
        let _ = f.join();
    }
    let out = stdout.join().unwrap_or_default();
    let err = String::from_utf8_lossy(&stderr.join().unwrap_or_default()).into_owned();
    if !status.success() || out.is_empty() {
        // Rust reports a failed allocation ("memory allocation of N bytes failed") and aborts.
        if err.contains("memory allocation") || err.contains("out of memory") || err.contains("Cannot allocate") {
            return Err(LabsError::TooMuchMemory(max_memory_mb));
        }
        tracing::warn!(%status, stderr = %err.chars().take(500).collect::<String>(), "PDF parser process failed");
        return Err(LabsError::Unreadable(format!("the parser stopped ({status})")));
    }
    let payload = String::from_utf8_lossy(&out[1..]).into_owned();
    match out[0] {
        TAG_TEXT => Ok(Extracted::Text(payload)),
        TAG_NO_TEXT => Ok(Extracted::NoTextLayer),
        TAG_ENCRYPTED => Err(LabsError::Encrypted),
        TAG_UNREADABLE => Err(LabsError::Unreadable(payload.trim_start_matches("the PDF could not be read: ").to_string())),
        _ => Err(LabsError::Unreadable("the parser process gave no answer".into())),
    }
}

/// Reads a child's pipe to its end on a thread of its own.
fn drain<R: Read + Send + 'static>(pipe: Option<R>) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut out = Vec::new();
        if let Some(mut p) = pipe {
            let _ = p.read_to_end(&mut out);
        }
        out
    })
}

#[cfg(unix)]
fn cap_address_space(cmd: &mut Command, max_memory_mb: u64) {
    use std::os::unix::process::CommandExt;
    let bytes = max_memory_mb.saturating_mul(1024 * 1024) as libc::rlim_t;
    // SAFETY: between fork and exec only setrlimit (async-signal-safe) runs; no allocation.
    unsafe {
        cmd.pre_exec(move || {
            let lim = libc::rlimit { rlim_cur: bytes, rlim_max: bytes };
            if libc::setrlimit(libc::RLIMIT_AS, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

#[cfg(not(unix))]
fn cap_address_space(_cmd: &mut Command, _max_memory_mb: u64) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_generated_lab_report() {
        let case = precedent_synth::generate(7, 1).remove(0);
        let pdf = case.lab_pdf.expect("synthetic cases carry a lab report");
        match extract_text(pdf, Duration::from_secs(10)).unwrap() {
            Extracted::Text(t) => {
                assert!(t.contains("Haemoglobin"), "{t}");
                assert!(t.contains("g/dL"), "{t}");
            }
            other => panic!("expected text, got {other:?}"),
        }
    }

    #[test]
    fn no_text_layer_and_garbage() {
        let blank = precedent_synth::pdf::PdfWriter::new().finish_blank();
        assert_eq!(extract_text(blank, Duration::from_secs(10)).unwrap(), Extracted::NoTextLayer);
        assert!(extract_text(b"%PDF-1.4 garbage".to_vec(), Duration::from_secs(10)).is_err());
        assert!(extract_text(Vec::new(), Duration::from_secs(10)).is_err());
    }

    #[test]
    fn worker_protocol_round_trips() {
        let pdf = precedent_synth::generate(7, 1).remove(0).lab_pdf.unwrap();
        let mut out = Vec::new();
        serve_worker(&pdf[..], &mut out).unwrap();
        assert_eq!(out[0], TAG_TEXT);
        assert!(String::from_utf8_lossy(&out[1..]).contains("Haemoglobin"));
        let mut out = Vec::new();
        serve_worker(&b"%PDF-1.4 garbage"[..], &mut out).unwrap();
        assert_eq!(out[0], TAG_UNREADABLE);
    }
}

#[cfg(test)]
mod slot_tests {
    use super::*;

    #[test]
    fn slots_bound_concurrent_parsers_and_time_out() {
        let slots = std::sync::Arc::new(ParserSlots::new(2));
        let running = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let threads: Vec<_> = (0..6)
            .map(|_| {
                let (slots, running) = (slots.clone(), running.clone());
                std::thread::spawn(move || {
                    let _g = slots.acquire(Duration::from_secs(10)).expect("a slot within 10 s");
                    let now = running.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
                    assert!(now <= 2, "{now} parsers at once");
                    std::thread::sleep(Duration::from_millis(50));
                    running.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                })
            })
            .collect();
        for t in threads {
            t.join().expect("thread");
        }
        assert_eq!(slots.peak(), 2);
        let one = ParserSlots::new(1);
        let _held = one.acquire(Duration::from_millis(10)).unwrap();
        assert!(matches!(one.acquire(Duration::from_millis(50)), Err(LabsError::Busy(_))));
    }
}
