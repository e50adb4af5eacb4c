//! What the tool does when it is interrupted or its reader goes away, as a Unix tool
//! should:
//!
//! - **Ctrl-C, `kill`, a closed terminal** (SIGINT, SIGTERM, SIGHUP): the temporary
//!   file of any write in progress is removed, a line says that no result was
//!   written, and the tool exits with the shell's status for the signal (`128 + n`,
//!   130 for Ctrl-C). Files it writes are complete or absent, never half written.
//! - **A closed pipe** (`mrbcr info | head -1`): the tool ends quietly, as `cat` does
//!   (the default action of SIGPIPE), instead of failing on the write.
//!
//! The three signals are blocked in every thread (threads inherit the mask of the one
//! that starts them, so [`install`] runs first in `main`) and received by one thread
//! of their own with `sigwait`, where removing files and printing are safe.

/// Sets up the handling described in the [module documentation](self). Call it before
/// any other thread starts.
#[cfg(unix)]
pub fn install() {
    // SAFETY: plain calls on a local, zero-initialised signal set (a valid state
    // before `sigemptyset`), and resetting SIGPIPE to its default action.
    let set = unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
            libc::sigaddset(&mut set, signal);
        }
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        set
    };
    std::thread::spawn(move || loop {
        let mut signal = 0;
        // SAFETY: `set` is a valid signal set and `signal` a valid place to write.
        if unsafe { libc::sigwait(&set, &mut signal) } != 0 {
            continue;
        }
        mrbcr::formats::atomic_write::abandon_unfinished_writes();
        eprintln!("\nmrbcr: interrupted (signal {signal}): stopped; no unfinished file was left");
        std::process::exit(128 + signal);
    });
}

/// Elsewhere the runtime's default handling stays.
#[cfg(not(unix))]
pub fn install() {}
