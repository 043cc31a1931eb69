//! An `async fn` under `#[netns_test]` runs on a current-thread tokio
//! runtime made inside the node, so every socket it opens is the node's.
//! Sockets of other nodes come from `Node::with`, and the same runtime
//! drives them.
//!
//! This example is a test suite. Run it as root:
//! `cargo test --example macro_async`.
//! `cargo test` runs it too, through `tests/macro_examples.rs`.

fn main() {
    eprintln!("this example is a test suite: run `cargo test --example macro_async`");
}

#[cfg(test)]
mod tests {
    use netns_test::{netns_test, Node, Topology};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    fn two_hosts() -> Topology {
        Topology::new().link(
            ("client", "eth0", ["198.51.100.1/24", "2001:db8::1/64"]),
            ("server", "eth0", ["198.51.100.2/24", "2001:db8::2/64"]),
        )
    }

    /// The body runs in `server`; the client's socket is made in `client`.
    #[netns_test(topology = two_hosts, node = "server")]
    async fn echo_over_ipv6(client: &Node) -> std::io::Result<()> {
        let listener = TcpListener::bind("[2001:db8::2]:7").await?;
        let server = tokio::spawn(async move {
            let (mut sock, _) = listener.accept().await?;
            let mut buf = [0; 4];
            sock.read_exact(&mut buf).await?;
            sock.write_all(&buf).await?;
            std::io::Result::Ok(())
        });
        let socket = client.with(tokio::net::TcpSocket::new_v6).unwrap()?;
        let mut conn: TcpStream = socket.connect("[2001:db8::2]:7".parse().unwrap()).await?;
        conn.write_all(b"ping").await?;
        let mut buf = [0; 4];
        conn.read_exact(&mut buf).await?;
        assert_eq!(&buf, b"ping");
        server.await.unwrap()
    }
}
