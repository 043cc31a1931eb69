//! `exec`: a program in a node of a lab that `up` holds.

use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::ExitCode;
use std::time::Duration;

use netns_test::suite::hold::command_in_held;

/// Set when this process runs itself again for `exec`.
const NO_USERNS_ENV: &str = "NETNS_TEST_NO_USERNS";

/// For `exec` only: when the library's pre-main entry may have put this
/// process in a user namespace of its own (from which no other process's
/// namespaces can be entered), runs this program again with that entry
/// turned off. Returns otherwise.
pub(crate) fn reexec_outside_user_namespace() {
    let mut args = std::env::args_os();
    let is_exec = args.nth(1).is_some_and(|a| a == "exec");
    if !is_exec || std::env::var_os(NO_USERNS_ENV).is_some() {
        return;
    }
    let own = std::fs::read_link("/proc/self/ns/user").ok();
    let init = std::fs::read_link("/proc/1/ns/user").ok();
    if own.is_some() && own == init {
        return;
    }
    let err = std::process::Command::new("/proc/self/exe")
        .args(std::env::args_os().skip(1))
        .arg0(std::env::args_os().next().unwrap_or_default())
        .env(NO_USERNS_ENV, "1")
        .exec();
    eprintln!("netns-test: cannot run itself again for exec: {err}");
    std::process::exit(2);
}

pub(crate) fn exec(lab: &str, node: &str, cmd: &[String]) -> Result<ExitCode, String> {
    let (mut command, holder) = command_in_held(lab, node, &cmd[0]).map_err(|e| e.to_string())?;
    command.args(&cmd[1..]);
    let mut child = command
        .spawn()
        .map_err(|e| format!("cannot run `{}` in {lab}/{node}: {e}", cmd[0]))?;
    loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            let code = match (status.code(), status.signal()) {
                (Some(c), _) => c,
                (None, Some(s)) => 128 + s,
                _ => 1,
            };
            return Ok(ExitCode::from(code.clamp(0, 255) as u8));
        }
        if !holder.is_alive() {
            let _ = child.kill();
            let _ = child.wait();
            eprintln!("netns-test: lab `{lab}` went down: `{}` was killed", cmd[0]);
            return Ok(ExitCode::from(137));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
