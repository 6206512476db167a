//! Naming the client of a connection from a header of its first HTTP request, before anything
//! is forwarded.

use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

/// The most a request head may take; beyond it the connection stays anonymous.
const MAX_HEAD: usize = 16 * 1024;
/// How long the client may take to send its request head.
const HEAD_TIMEOUT: Duration = Duration::from_secs(1);

/// Reads the head of the first request on `client` and returns what was read (to be forwarded
/// first) and the value of `header`, if the head came in time and had it.
pub(crate) async fn sniff(client: &mut TcpStream, header: &str) -> (Vec<u8>, Option<String>) {
    let mut head = Vec::with_capacity(1024);
    let read_head = async {
        let mut buf = [0u8; 4096];
        while head.len() < MAX_HEAD && find_end(&head).is_none() {
            match client.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => head.extend_from_slice(&buf[..n]),
            }
        }
    };
    let _ = tokio::time::timeout(HEAD_TIMEOUT, read_head).await;
    let value = find_end(&head).and_then(|end| header_value(&head[..end], header));
    (head, value)
}

fn find_end(bytes: &[u8]) -> Option<usize> {
    bytes.windows(4).position(|w| w == b"\r\n\r\n")
}

/// The value of `name` (matched without regard to case) in a request head.
fn header_value(head: &[u8], name: &str) -> Option<String> {
    let text = std::str::from_utf8(head).ok()?;
    text.split("\r\n").skip(1).find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.trim()
            .eq_ignore_ascii_case(name)
            .then(|| value.trim().to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_header_whatever_its_case() {
        let head =
            b"GET /raft/stream/message/1 HTTP/1.1\r\nHost: x\r\nx-peerurls: http://127.0.0.1:5\r\n";
        assert_eq!(
            header_value(head, "X-PeerURLs").as_deref(),
            Some("http://127.0.0.1:5")
        );
        assert_eq!(header_value(head, "X-Server-From"), None);
        // The request line is not a header, even with a colon in it.
        assert_eq!(
            header_value(b"GET http://a:1/ HTTP/1.1\r\n", "GET http"),
            None
        );
    }

    #[test]
    fn the_head_ends_at_the_blank_line() {
        assert_eq!(find_end(b"GET / HTTP/1.1\r\nA: b\r\n\r\nbody"), Some(20));
        assert_eq!(find_end(b"GET / HTTP/1.1\r\nA: b\r\n"), None);
    }
}
