//! `timeout = "..."` (`"500ms"`, `"5s"`, `"2m"`) bounds the body's running
//! time. A body that overruns fails the test with a message naming the test
//! and the limit; the network is torn down at once (interfaces deleted,
//! namespace fds released), while the body's thread, which cannot be
//! killed, is left running detached. `#[should_panic]`, `#[ignore]` and
//! other attributes work as on `#[test]`.
//!
//! This example is a test suite. Run it as root:
//! `cargo test --example macro_timeout`.
//! `cargo test` runs it too, through `tests/macro_examples.rs`.

fn main() {
    eprintln!("this example is a test suite: run `cargo test --example macro_timeout`");
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use netns_test::netns_test;

    /// Well within its limit.
    #[netns_test(timeout = "5s")]
    async fn quick() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    /// Overruns: the test fails, here expectedly, with this message.
    #[netns_test(timeout = "200ms")]
    #[should_panic(expected = "timed out: its body ran longer than `timeout = \"200ms\"`")]
    fn too_slow() {
        std::thread::sleep(Duration::from_secs(1));
    }

    /// Not run unless asked for (`-- --ignored`).
    #[netns_test(timeout = "2m")]
    #[ignore = "a long soak test"]
    fn soak() {
        std::thread::sleep(Duration::from_secs(60));
    }
}
