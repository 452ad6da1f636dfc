//! Run with `cargo run -p todo` (its data goes to `todo.db`; set `DATABASE_URL` to
//! another `sqlite://` file or to a `postgres://` URL), then try it with curl (a cookie
//! jar keeps the session):
//!
//! ```text
//! curl -c jar -b jar -X POST localhost:8000/login -H 'content-type: application/json' -d '{"name":"ana"}'
//! curl -c jar -b jar -X POST localhost:8000/api/todos -H 'content-type: application/json' -d '{"title":"milk"}'
//! curl -c jar -b jar -X POST localhost:8000/api/todos/batch -H 'content-type: application/json' -d '[{"title":"eggs"},{"title":"bread"}]'
//! curl -c jar -b jar localhost:8000/api/todos
//! curl -c jar -b jar -X PATCH localhost:8000/api/todos/1 -H 'content-type: application/json' -d '{"done":true}'
//! curl -c jar -b jar -X DELETE localhost:8000/api/todos/1
//! curl -c jar -b jar -X POST localhost:8000/logout
//! ```

// ANCHOR: imports
use std::process::ExitCode;

use bocata::{Request, Res, Server};
use todo::{Config, Db, app};
// ANCHOR_END: imports

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt().with_env_filter("info").init();
    // A start that fails (a database that cannot be reached, say) says why in one line,
    // and the exit code tells the supervisor.
    match serve().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("todo: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn serve() -> std::io::Result<()> {
    // ANCHOR: deploy
    // The key comes from the deployment, the same for every process; without one, a
    // fresh key is made, which logs everybody out on restart.
    let key = match std::env::var("SECRET_KEY") {
        Ok(key) => key.into_bytes(),
        Err(_) => bocata::cookie::Key::generate().master().to_vec(),
    };
    let addr = std::env::var("ADDR").unwrap_or_else(|_| "127.0.0.1:8000".to_owned());
    // Which process answered, so a deployment check can see requests spread out.
    let pid = std::process::id().to_string();
    let db = Db::new(&Config::from_env()).map_err(std::io::Error::other)?;
    let app = app(db, &key).after(move |_req: &Request, res: &mut Res| {
        res.header("x-process", pid.as_str());
        std::future::ready(Ok(()))
    });
    Server::new(app)
        .reuse_port(std::env::var_os("REUSE_PORT").is_some())
        .run(addr)
        .await
    // ANCHOR_END: deploy
}
