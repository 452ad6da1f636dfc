//! A throwaway PostgreSQL server for one test: a cluster made with `initdb` in a
//! folder of its own, listening on 127.0.0.1 and a free port, stopped and removed when
//! dropped. The tests that need it skip (with the reason) when Postgres is not
//! installed, and fail instead under `BOCATA_REQUIRE_CLIENTS`, as `.ci/run` sets it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::{Fixture, client};

/// A running (or stopped, see [`Postgres::stop`]) cluster of one test.
#[derive(Debug)]
pub struct Postgres {
    folder: Fixture,
    bin: PathBuf,
    port: u16,
    /// Whether the server programs run as the `postgres` user: they refuse to run as
    /// root.
    as_postgres: bool,
}

impl Postgres {
    /// Makes and starts a cluster, or returns `None` (the test skips) when Postgres is
    /// not installed.
    pub async fn start() -> Option<Self> {
        let bin = binaries();
        if !client("PostgreSQL (initdb and pg_ctl)", bin.is_some()) {
            return None;
        }
        let bin = bin?;
        let this = tokio::task::spawn_blocking(move || Self::create(bin))
            .await
            .expect("the cluster is made");
        this.start_again().await;
        Some(this)
    }

    fn create(bin: PathBuf) -> Self {
        let folder = Fixture::new("postgres");
        let as_postgres = run(Command::new("id").arg("-u")).stdout == b"0\n";
        if as_postgres {
            // The folder and everything the server writes in it belong to `postgres`.
            let uid = run(Command::new("id").args(["-u", "postgres"])).stdout;
            let uid: u32 = String::from_utf8_lossy(&uid)
                .trim()
                .parse()
                .expect("the postgres user's id");
            std::os::unix::fs::chown(&folder.dir, Some(uid), None).expect("chown the folder");
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let this = Self {
            folder,
            bin,
            port,
            as_postgres,
        };
        let data = this.data();
        let mut initdb = this.command("initdb");
        initdb.arg("-D").arg(&data).args([
            "-U",
            "postgres",
            "--auth=trust",
            "--no-sync",
            "--encoding=UTF8",
            "--locale=C",
        ]);
        check("initdb", &run(&mut initdb));
        this
    }

    /// The URL to connect to the cluster's `postgres` database.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Stops the server (a fast shutdown: open connections are cut), as a database
    /// that goes away does; [`Postgres::start_again`] brings it back on the same port
    /// with the same data.
    pub async fn stop(&self) {
        let mut pg_ctl = self.pg_ctl("stop");
        pg_ctl.args(["-m", "fast"]);
        let output = tokio::task::spawn_blocking(move || run(&mut pg_ctl))
            .await
            .expect("pg_ctl stop ran");
        check("pg_ctl stop", &output);
    }

    /// Starts the server and waits until it accepts connections.
    pub async fn start_again(&self) {
        let mut pg_ctl = self.pg_ctl("start");
        let options = format!(
            "-h 127.0.0.1 -p {} -k {} -c fsync=off",
            self.port,
            self.folder.dir.display()
        );
        pg_ctl
            .arg("-l")
            .arg(self.folder.path("server.log"))
            .args(["-t", "120", "-o", &options]);
        let output = tokio::task::spawn_blocking(move || run(&mut pg_ctl))
            .await
            .expect("pg_ctl start ran");
        if !output.status.success() {
            let log = std::fs::read_to_string(self.folder.path("server.log")).unwrap_or_default();
            panic!(
                "pg_ctl start failed: {}{}\nserver log:\n{log}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
    }

    fn data(&self) -> PathBuf {
        self.folder.path("data")
    }

    /// `pg_ctl <action> -D <data> -w`, as the right user.
    fn pg_ctl(&self, action: &str) -> Command {
        let mut pg_ctl = self.command("pg_ctl");
        pg_ctl.arg(action).arg("-D").arg(self.data()).arg("-w");
        pg_ctl
    }

    fn command(&self, program: &str) -> Command {
        let program = self.bin.join(program);
        let mut command = if self.as_postgres {
            let mut runuser = Command::new("runuser");
            runuser.args(["-u", "postgres", "--"]).arg(program);
            runuser
        } else {
            Command::new(program)
        };
        command.current_dir(&self.folder.dir).env("LC_ALL", "C");
        command
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        // Immediate: nothing of a test's cluster needs to be kept. A server that is
        // already stopped makes pg_ctl fail, which is fine here.
        let mut pg_ctl = self.pg_ctl("stop");
        pg_ctl
            .args(["-m", "immediate"])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        pg_ctl.status().ok();
    }
}

/// The folder holding `initdb` and `pg_ctl`: where `PATH` finds them, or else Debian's
/// `/usr/lib/postgresql/<version>/bin` (the newest) when Debian's `pg_ctlcluster`
/// wrapper is on `PATH`, as it is wherever the `postgresql` package is installed.
fn binaries() -> Option<PathBuf> {
    let on_path = |program: &str| {
        std::env::var_os("PATH").and_then(|path| {
            std::env::split_paths(&path)
                .map(|dir| dir.join(program))
                .find(|candidate| candidate.is_file())
        })
    };
    if let (Some(initdb), Some(_)) = (on_path("initdb"), on_path("pg_ctl")) {
        return initdb.parent().map(Path::to_path_buf);
    }
    on_path("pg_ctlcluster")?;
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            (bin.join("initdb").is_file() && bin.join("pg_ctl").is_file()).then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

fn run(command: &mut Command) -> Output {
    command
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{command:?} could not run: {e}"))
}

fn check(what: &str, output: &Output) {
    assert!(
        output.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
