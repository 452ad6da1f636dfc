//! The bocata benchmark server. It binds `BENCH_ADDR` (default `127.0.0.1:0`), prints
//! the address it got on the first line of stdout, runs on `BENCH_WORKERS` worker
//! threads (default 1), and serves the endpoints every contender serves:
//!
//! - `GET /plaintext`: `Hello, World!` as text/plain;
//! - `GET /json`: `{"message":"Hello, World!"}`, serialized per request;
//! - `GET /params/{id}`: the parameter echoed as JSON;
//! - `POST /echo`: a JSON body parsed and sent back;
//! - `GET /file`: the file named by `BENCH_FILE`;
//! - `GET /stream?mib=N`: N MiB (default 1) generated in 64 KiB chunks.
//!
//! With `BENCH_TLS=1` it serves HTTPS instead, with the certificate and key in the PEM
//! files `BENCH_CERT` and `BENCH_KEY` (bocata's `tls` feature: rustls with *ring*, ALPN
//! offering h2 and http/1.1).

use std::io::Write;

use bocata::tls::Tls;
use bocata::{App, Request, Res, Result, Server};

/// `GET /plaintext`: a struct view, as the guide writes them.
struct Plaintext;

#[bocata::view]
impl Plaintext {
    async fn on_get(&self, _req: &Request, res: &mut Res) -> Result {
        res.text("Hello, World!");
        Ok(())
    }
}

#[derive(serde::Serialize)]
struct Message {
    message: &'static str,
}

/// `GET /json`
struct Json;

#[bocata::view]
impl Json {
    async fn on_get(&self, _req: &Request, res: &mut Res) -> Result {
        res.json(&Message {
            message: "Hello, World!",
        });
        Ok(())
    }
}

#[derive(serde::Serialize)]
struct Id {
    id: u64,
}

/// `GET /params/{id}`
struct Params;

#[bocata::view]
impl Params {
    async fn on_get(&self, req: &Request, res: &mut Res) -> Result {
        let id: u64 = req.param("id")?;
        res.json(&Id { id });
        Ok(())
    }
}

async fn echo(req: &Request, res: &mut Res) -> Result {
    let body: serde_json::Value = req.json().await?;
    res.json(&body);
    Ok(())
}

async fn stream(req: &Request, res: &mut Res) -> Result {
    let mib: usize = req.query("mib").and_then(|m| m.parse().ok()).unwrap_or(1);
    res.streaming(bocata::stream! {
        for i in 0..mib * 16 {
            yield vec![(i % 251) as u8; 64 * 1024];
        }
    });
    Ok(())
}

struct File {
    path: String,
}

#[bocata::view]
impl File {
    async fn on_get(&self, _req: &Request, res: &mut Res) -> Result {
        res.file(&self.path).inline();
        Ok(())
    }
}

fn main() -> std::io::Result<()> {
    let workers = std::env::var("BENCH_WORKERS")
        .ok()
        .and_then(|w| w.parse().ok())
        .unwrap_or(1);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let addr = std::env::var("BENCH_ADDR").unwrap_or_else(|_| "127.0.0.1:0".into());
        let listener = tokio::net::TcpListener::bind(addr).await?;
        writeln!(std::io::stdout(), "{}", listener.local_addr()?)?;
        let path = std::env::var("BENCH_FILE").unwrap_or_default();
        let app = App::new()
            .route("/plaintext", Plaintext)
            .route("/json", Json)
            .route("/params/{id}", Params)
            .route("/echo", bocata::post(echo))
            .route("/file", File { path })
            .route("/stream", bocata::get(stream));
        if std::env::var("BENCH_TLS").is_ok_and(|v| v == "1") {
            let cert = std::env::var("BENCH_CERT").unwrap_or_default();
            let key = std::env::var("BENCH_KEY").unwrap_or_default();
            Server::new(app)
                .tls(Tls::from_pem_files(cert, key))
                .serve(listener)
                .await
        } else {
            app.serve(listener).await
        }
    })
}
