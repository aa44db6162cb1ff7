//! Progress on stderr for work that can take more than a second (`audit`, `log`, asking a
//! runtime). Drawn only when stderr is a terminal and `CI` is unset, so CI logs, pipes and
//! files never see it; cleared before the result prints, and never on stdout.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// One line of progress; inert (draws nothing, costs next to nothing) off a terminal.
pub struct Progress {
    bar: ProgressBar,
}

impl Progress {
    /// A spinner saying what is being done, for work whose size is not known yet.
    pub fn spinner(what: &str) -> Progress {
        let bar = ProgressBar::with_draw_target(None, target());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} ({elapsed})").expect("a valid template"),
        );
        bar.set_message(what.to_string());
        bar.enable_steady_tick(Duration::from_millis(120));
        Progress { bar }
    }

    /// Turns the line into a count of `total` steps: `what pos/total`.
    pub fn count(&self, what: &str, total: u64) {
        self.bar.disable_steady_tick();
        self.bar.set_length(total);
        self.bar.set_position(0);
        self.bar.set_style(
            ProgressStyle::with_template("{msg} {pos}/{len} {wide_bar} {eta}")
                .expect("a valid template"),
        );
        self.bar.set_message(what.to_string());
    }

    /// One more step done.
    pub fn step(&self) {
        self.bar.inc(1);
    }

    /// Removes the line; called before the result prints (also on drop).
    pub fn clear(&self) {
        self.bar.finish_and_clear();
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}

/// stderr when it is a terminal outside CI, else nowhere.
fn target() -> ProgressDrawTarget {
    let ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false");
    if !ci && std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    }
}
