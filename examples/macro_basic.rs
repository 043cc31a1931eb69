//! `#[netns_test]` with no arguments: the body runs on a thread of its own
//! inside a fresh network namespace with only `lo`, up. Every test gets its
//! own, so tests that bind the same port run in parallel without clashing.
//!
//! This example is a test suite. Run it as root:
//! `cargo test --example macro_basic` (or `cargo nextest run --example macro_basic`).
//! `cargo test` runs it too, through `tests/macro_examples.rs`.

fn main() {
    eprintln!("this example is a test suite: run `cargo test --example macro_basic`");
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};

    use netns_test::{netns_test, Node};

    /// Port 80 is free in every test's own namespace.
    #[netns_test]
    fn binds_port_80() {
        let listener = TcpListener::bind("127.0.0.1:80").unwrap();
        let mut client = TcpStream::connect("127.0.0.1:80").unwrap();
        let (mut server, _) = listener.accept().unwrap();
        client.write_all(b"hello").unwrap();
        let mut buf = [0; 5];
        server.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"hello");
    }

    /// The same port, in another test, at the same time.
    #[netns_test]
    fn binds_port_80_too() {
        TcpListener::bind("127.0.0.1:80").unwrap();
    }

    /// The one node of this form is called `local`; take it as a parameter
    /// to run commands or inspect it.
    #[netns_test]
    fn the_node_is_called_local(local: &Node) -> Result<(), netns_test::Error> {
        let links = local.links()?;
        assert_eq!(links.len(), 1, "only lo: {links:?}");
        Ok(())
    }
}
