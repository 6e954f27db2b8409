//! Progress display for long engine operations (pull, push, and any command that streams
//! progress): indicatif bars on a terminal, podman's plain lines otherwise.
//!
//! The libpod pull/push endpoints of podman 4.x report progress as c/image's text lines
//! ("Copying blob sha256:…", no byte counts); those become one spinner per blob. The
//! Docker-compatible pull stream does report bytes (`progressDetail`): [`Progress::pull_event`]
//! turns those into one byte bar per layer.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::time::Duration;

use bindings::api::registry::PullEvent;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

enum Mode {
    /// `-q`: nothing.
    Quiet,
    /// Not a terminal: the engine's lines verbatim on stderr, as podman prints them.
    Plain,
    /// A terminal: a status spinner plus one bar per layer.
    Bars {
        multi: MultiProgress,
        status: ProgressBar,
        layers: HashMap<String, ProgressBar>,
        /// Insertion order, to finish the layers that are done when the next step starts.
        order: Vec<String>,
    },
}

pub struct Progress {
    mode: Mode,
}

fn spinner_style() -> ProgressStyle {
    ProgressStyle::with_template("{spinner} {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
}

fn bytes_style() -> ProgressStyle {
    ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec})")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}

/// Bytes without a known total: a count, no bar.
fn unsized_bytes_style() -> ProgressStyle {
    ProgressStyle::with_template("{spinner} {msg} {bytes}")
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
}

impl Progress {
    /// Bars when stderr is a terminal, plain lines otherwise, nothing when `quiet`.
    pub fn new(quiet: bool) -> Progress {
        let mode = if quiet {
            Mode::Quiet
        } else if std::io::stderr().is_terminal() && !ProgressDrawTarget::stderr().is_hidden() {
            // (indicatif hides itself on a dumb terminal, e.g. without TERM: plain lines then.)
            let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
            let status = multi.add(ProgressBar::new_spinner());
            status.set_style(spinner_style());
            status.enable_steady_tick(Duration::from_millis(120));
            Mode::Bars {
                multi,
                status,
                layers: HashMap::new(),
                order: Vec::new(),
            }
        } else {
            Mode::Plain
        };
        Progress { mode }
    }

    /// One chunk of the engine's progress text (may hold several lines or a partial one).
    pub fn text(&mut self, chunk: &str) {
        match &mut self.mode {
            Mode::Quiet => {}
            Mode::Plain => {
                let mut err = std::io::stderr().lock();
                let _ = err.write_all(chunk.as_bytes());
                let _ = err.flush();
            }
            Mode::Bars { .. } => {
                for line in chunk.lines().map(str::trim).filter(|l| !l.is_empty()) {
                    self.step(line);
                }
            }
        }
    }

    fn step(&mut self, line: &str) {
        let Mode::Bars {
            multi,
            status,
            layers,
            order,
        } = &mut self.mode
        else {
            return;
        };
        // "Copying blob sha256:abc…" and "Copying config sha256:…" each start a layer.
        let layer = line
            .strip_prefix("Copying blob ")
            .or_else(|| line.strip_prefix("Copying config "))
            .map(|rest| rest.split_whitespace().next().unwrap_or(rest).to_string());
        match layer {
            Some(id) => {
                let short = short_digest(&id);
                let done = line.ends_with(" done") || line.contains("skipped");
                let bar = layers.entry(id.clone()).or_insert_with(|| {
                    order.push(id.clone());
                    let b = multi.add(ProgressBar::new_spinner());
                    b.set_style(spinner_style());
                    b.enable_steady_tick(Duration::from_millis(120));
                    b
                });
                let what = if line.starts_with("Copying config") {
                    "config"
                } else {
                    "blob"
                };
                if done {
                    bar.finish_with_message(format!("Copying {what} {short} done"));
                } else {
                    bar.set_message(format!("Copying {what} {short}"));
                }
            }
            None => {
                // A new phase (manifest, signatures): the layers before it are complete.
                if line.starts_with("Writing manifest") || line.starts_with("Storing signatures") {
                    for id in order.iter() {
                        if let Some(b) = layers.get(id) {
                            if !b.is_finished() {
                                let msg = b.message();
                                b.finish_with_message(format!("{msg} done"));
                            }
                        }
                    }
                }
                status.set_message(line.to_string());
            }
        }
    }

    /// Whether a live display is drawn (a terminal, not `-q`): only then is a byte-reporting
    /// stream worth choosing.
    pub fn is_live(&self) -> bool {
        matches!(self.mode, Mode::Bars { .. })
    }

    /// One event of the Docker-compatible pull stream: a row per layer, a byte bar once the
    /// engine reports bytes (it does so about once a second per layer, so fast layers go
    /// straight from "Pulling fs layer" to "Download complete").
    pub fn pull_event(&mut self, ev: &PullEvent) {
        let Mode::Bars {
            multi,
            status,
            layers,
            order,
        } = &mut self.mode
        else {
            return;
        };
        if ev.id.is_empty() {
            if !ev.status.is_empty() {
                status.set_message(ev.status.clone());
            }
            return;
        }
        let bar = layers.entry(ev.id.clone()).or_insert_with(|| {
            order.push(ev.id.clone());
            let b = multi.add(ProgressBar::new_spinner());
            b.set_style(spinner_style());
            b.enable_steady_tick(Duration::from_millis(120));
            b
        });
        if bar.is_finished() {
            // The last event names the image by its config digest, a row already done.
            return;
        }
        let id = &ev.id;
        match ev.status.as_str() {
            "Downloading" => {
                match ev.total {
                    Some(t) if bar.length() != Some(t) => {
                        bar.disable_steady_tick();
                        bar.set_length(t);
                        bar.set_style(bytes_style());
                    }
                    Some(_) => {}
                    None => bar.set_style(unsized_bytes_style()),
                }
                bar.set_message(format!("{id}: Downloading"));
                bar.set_position(ev.current.unwrap_or(0));
            }
            "Download complete" | "Pull complete" | "Already exists" => {
                if let Some(len) = bar.length() {
                    bar.set_position(len);
                }
                bar.finish_with_message(format!("{id}: {}", ev.status));
            }
            other => bar.set_message(format!("{id}: {other}")),
        }
    }

    /// Clear the live display (the final result goes to stdout afterwards).
    pub fn finish(&mut self) {
        if let Mode::Bars { status, layers, .. } = &mut self.mode {
            for b in layers.values() {
                if !b.is_finished() {
                    b.finish();
                }
            }
            if status.is_finished() {
                return;
            }
            status.finish_and_clear();
            // indicatif leaves the cursor at the end of the last bar; what follows (the image
            // ID on stdout) starts on a line of its own.
            if !layers.is_empty() {
                eprintln!();
            }
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

/// `sha256:0123456789ab…` → `0123456789ab`, as Docker shows layer IDs.
fn short_digest(id: &str) -> String {
    let hex = id.split_once(':').map(|(_, h)| h).unwrap_or(id);
    hex.chars().take(12).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn short_digests() {
        assert_eq!(
            super::short_digest("sha256:0123456789abcdef"),
            "0123456789ab"
        );
        assert_eq!(super::short_digest("abc"), "abc");
    }
}
