//! A throwaway Redis server for one test: `redis-server` on 127.0.0.1 and a free port,
//! nothing saved to disk, killed when dropped. The tests that need it skip (with the
//! reason) when Redis is not installed, and fail instead under
//! `BOCATA_REQUIRE_CLIENTS`, as `.ci/run` sets it.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::client;

/// A running (or killed, see [`Redis::kill`]) Redis server of one test.
#[derive(Debug)]
pub struct Redis {
    port: u16,
    process: Option<Child>,
}

impl Redis {
    /// Starts a server, or returns `None` (the test skips) when `redis-server` is not
    /// installed.
    pub async fn start() -> Option<Self> {
        if !client("Redis (redis-server)", crate::has_program("redis-server")) {
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let mut this = Self {
            port,
            process: None,
        };
        this.start_again().await;
        Some(this)
    }

    /// The URL to connect to the server.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Kills the server (SIGKILL: connections are cut, as when Redis dies);
    /// [`Redis::start_again`] brings one back on the same port.
    pub async fn kill(&mut self) {
        if let Some(mut process) = self.process.take() {
            process.kill().ok();
            tokio::task::spawn_blocking(move || process.wait())
                .await
                .expect("the wait ran")
                .ok();
        }
    }

    /// Starts the server on its port and waits until it answers `PING`.
    pub async fn start_again(&mut self) {
        let process = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &self.port.to_string()])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts");
        self.process = Some(process);
        let addr = format!("127.0.0.1:{}", self.port);
        crate::within("redis-server to answer PING", async {
            loop {
                if ping(&addr).await {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await;
    }
}

/// Whether a Redis server at `addr` answers `PING` with `+PONG`.
async fn ping(addr: &str) -> bool {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Ok(mut stream) = tokio::net::TcpStream::connect(addr).await else {
        return false;
    };
    if stream.write_all(b"PING\r\n").await.is_err() {
        return false;
    }
    let mut reply = [0; 7];
    stream.read_exact(&mut reply).await.is_ok() && &reply == b"+PONG\r\n"
}

impl Drop for Redis {
    fn drop(&mut self) {
        if let Some(mut process) = self.process.take() {
            process.kill().ok();
            process.wait().ok();
        }
    }
}
