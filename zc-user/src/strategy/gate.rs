//! Live stepping: the sender thread stops before each syscall (or each
//! loop iteration) until the viewer lets it make exactly one more.
//!
//! The waiting itself must not show in the trace: a stepped run is to count
//! what an unstepped run of the same size counts. Waiting on a condition
//! variable takes futex calls and a sleep, so the sender raises the
//! kernel's pause flag (`kernel::pause`, a mapped BPF array: a plain store,
//! no syscall) before it touches the lock, and lowers it once it holds its
//! permit and has let go of the lock. The programs skip the sender while
//! the flag is up. Once the flag is down the sender touches no lock: a
//! lock the view happens to hold (it polls `waiting` and `calls`) would
//! make it wait in a futex call, traced, that an unstepped run never makes.
//! So the counts the view reads are atomics.
//!
//! The send loops call [`super::io::gate`] before every syscall; the gate
//! of the run in progress is found through a thread-local set by the
//! runner, so a loop that is not stepped pays one null test per call.

use std::sync::{
    Arc, Condvar, Mutex,
    atomic::{AtomicBool, AtomicU64, Ordering},
};

/// Whatever tells the tracer that the sender is waiting (the kernel's
/// mapped flag, `kernel::pause::PauseFlag`): set without a syscall.
pub trait Pause: Send + Sync {
    fn set(&self, paused: bool);
}

/// How long the sender sleeps, untraced, after a step lets it go.
const SETTLE: std::time::Duration = std::time::Duration::from_millis(2);

/// What one key press lets through.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum StepUnit {
    /// One syscall.
    Call,
    /// One loop iteration, whatever calls it makes (a short write's second
    /// write, a wait for completions); the calls before the loop go at once.
    Iteration,
}

#[derive(Debug, Default)]
struct State {
    /// Steps the sender may take before it waits again.
    permits: u64,
}

/// A stepped run's gate, shared by the sender (which waits at it) and the
/// view (which lets it through).
pub struct Gate {
    unit: StepUnit,
    /// Open: no more waiting (the run goes on unstepped, or is abandoned).
    open: AtomicBool,
    state: Mutex<State>,
    wake: Condvar,
    /// Calls made through the gate so far.
    calls: AtomicU64,
    /// The sender is waiting for a press.
    waiting: AtomicBool,
    pause: Option<Arc<dyn Pause>>,
}

impl Gate {
    /// A closed gate that stops the sender before each `unit`; `pause` is
    /// the kernel's flag (None when the run is not traced).
    pub fn new(unit: StepUnit, pause: Option<Arc<dyn Pause>>) -> Gate {
        Gate {
            unit,
            open: AtomicBool::new(false),
            state: Mutex::new(State::default()),
            wake: Condvar::new(),
            calls: AtomicU64::new(0),
            waiting: AtomicBool::new(false),
            pause,
        }
    }

    pub fn unit(&self) -> StepUnit {
        self.unit
    }

    /// In the sender, before a syscall.
    pub fn before_call(&self) {
        if self.unit == StepUnit::Call {
            self.wait();
        }
        self.calls.fetch_add(1, Ordering::AcqRel);
    }

    /// In the sender, at the top of each loop iteration.
    pub fn before_iteration(&self) {
        if self.unit == StepUnit::Iteration {
            self.wait();
        }
    }

    /// Waits for a permit, untraced, and takes it.
    fn wait(&self) {
        if self.open.load(Ordering::Acquire) {
            return;
        }
        if let Some(p) = &self.pause {
            p.set(true);
        }
        {
            let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
            while st.permits == 0 && !self.open.load(Ordering::Acquire) {
                self.waiting.store(true, Ordering::Release);
                st = self.wake.wait(st).unwrap_or_else(|e| e.into_inner());
            }
            self.waiting.store(false, Ordering::Release);
            st.permits = st.permits.saturating_sub(1);
        }
        if let Some(p) = &self.pause {
            // The thread that woke us may still hold this CPU: give it a
            // moment to go back to sleep, still untraced, so it does not
            // preempt the strategy's call (an unstepped run has no such
            // neighbour).
            std::thread::sleep(SETTLE);
            p.set(false);
        }
    }

    /// From the view: one more step (a call, or an iteration).
    pub fn step(&self) {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        st.permits += 1;
        self.wake.notify_all();
    }

    /// From the view: no more stepping; the run goes on to its end.
    pub fn open(&self) {
        self.open.store(true, Ordering::Release);
        let _st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        self.wake.notify_all();
    }

    /// Whether the gate was opened for good (`open`).
    pub fn is_open(&self) -> bool {
        self.open.load(Ordering::Acquire)
    }

    /// Whether the sender is waiting for a step now.
    pub fn waiting(&self) -> bool {
        self.waiting.load(Ordering::Acquire)
    }

    /// Calls the sender has made through the gate.
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn wait_until(what: &str, f: impl Fn() -> bool) {
        let t0 = Instant::now();
        while !f() {
            assert!(t0.elapsed() < Duration::from_secs(5), "timed out: {what}");
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    #[test]
    fn each_press_lets_exactly_one_call_through() {
        let gate = Arc::new(Gate::new(StepUnit::Call, None));
        let g = gate.clone();
        let sender = std::thread::spawn(move || {
            for _ in 0..3 {
                g.before_iteration();
                g.before_call();
            }
        });
        wait_until("the sender waits", || gate.waiting());
        assert_eq!(gate.calls(), 0);
        for want in 1..=2 {
            gate.step();
            wait_until("the call is made", || gate.calls() == want);
            wait_until("the sender waits again", || gate.waiting());
            assert_eq!(gate.calls(), want, "one press, one call");
        }
        gate.open();
        sender.join().expect("sender");
        assert_eq!(gate.calls(), 3);
    }

    #[test]
    fn a_press_lets_one_iteration_through_whatever_its_calls() {
        let gate = Arc::new(Gate::new(StepUnit::Iteration, None));
        let g = gate.clone();
        let sender = std::thread::spawn(move || {
            g.before_call(); // a setup call: before the loop, at once
            for calls in [2, 3] {
                g.before_iteration();
                for _ in 0..calls {
                    g.before_call();
                }
            }
        });
        wait_until("setup done, the sender waits", || gate.waiting());
        assert_eq!(gate.calls(), 1);
        gate.step();
        wait_until("one iteration of two calls", || gate.calls() == 3);
        wait_until("the sender waits again", || gate.waiting());
        gate.step();
        wait_until("one iteration of three calls", || gate.calls() == 6);
        sender.join().expect("sender");
    }

    /// A view that holds the gate's lock (to step, or to open) must not
    /// hold up a sender whose pause flag is down: the sender would wait in
    /// a futex call, and the kernel would count it.
    #[test]
    fn a_sender_let_through_takes_no_lock_the_view_may_hold() {
        let gate = Arc::new(Gate::new(StepUnit::Call, None));
        gate.open();
        let held = gate.state.lock().expect("the view's hold");
        let g = gate.clone();
        let sender = std::thread::spawn(move || {
            for _ in 0..3 {
                g.before_iteration();
                g.before_call();
            }
        });
        wait_until("three calls, the lock held throughout", || {
            gate.calls() == 3 && !gate.waiting()
        });
        drop(held);
        sender.join().expect("sender");
    }
}
