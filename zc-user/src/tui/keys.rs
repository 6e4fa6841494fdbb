//! Keys, read by a thread of their own, so that a view never waits inside
//! the terminal library.
//!
//! When a terminal hangs up, every read of it returns end-of-file at once,
//! and crossterm's reader (0.29) loops on such a read without returning:
//! a view waiting for a key there would spin for good, deaf to its own
//! signals. So a thread waits for keys and hands them over a channel, and
//! the view, between frames, asks whether a stop signal came or the tty
//! hung up (`crate::signals`). If the thread is caught in that loop, it
//! dies with the process, a moment later.

use std::{
    sync::mpsc::{Receiver, RecvTimeoutError, channel},
    time::Duration,
};

use crossterm::event::{self, Event, KeyEvent, KeyEventKind};

/// What a view hears between two frames.
pub enum Input {
    Key(KeyEvent),
    /// The terminal was resized: draw again at the new size.
    Resize,
    /// A stop signal came, or the terminal went away: leave now.
    Stop,
}

/// The key-reading thread's channel.
pub struct Keys {
    rx: Receiver<Event>,
}

impl Keys {
    /// Starts the thread. It ends when the view drops `Keys` and a key
    /// comes, or when the terminal fails.
    pub fn start() -> Keys {
        crate::signals::watch_terminal();
        let (tx, rx) = channel();
        let _ = std::thread::Builder::new()
            .name("zc-keys".into())
            .spawn(move || {
                while let Ok(e) = event::read() {
                    if tx.send(e).is_err() {
                        break;
                    }
                }
            });
        Keys { rx }
    }

    /// Waits up to `wait` for a key press or a resize; says `Stop` at once
    /// if a signal came or the tty hung up (then what is left to print goes
    /// to /dev/null, see `signals::hang_up`).
    pub fn next(&self, wait: Duration) -> Option<Input> {
        if let Some(stop) = stop() {
            return Some(stop);
        }
        match self.rx.recv_timeout(wait) {
            Ok(Event::Key(k)) if k.kind == KeyEventKind::Press => Some(Input::Key(k)),
            Ok(Event::Resize(..)) => Some(Input::Resize),
            Ok(_) | Err(RecvTimeoutError::Timeout) => stop(),
            // The thread ended: the terminal failed under it.
            Err(RecvTimeoutError::Disconnected) => {
                crate::signals::hang_up();
                Some(Input::Stop)
            }
        }
    }
}

/// `Stop` if a stop signal came or the terminal hung up.
pub fn stop() -> Option<Input> {
    if crate::signals::terminal_hung_up() {
        crate::signals::hang_up();
    }
    crate::signals::forget_terminal_if_hung_up();
    crate::signals::stopped().then_some(Input::Stop)
}
