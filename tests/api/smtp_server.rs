//! A real SMTP server for tests and the delivery benchmark: Debian's aiosmtpd
//! (`apt-get install python3-aiosmtpd`, which `scripts/test` does), storing every message it
//! accepts as a file in a Maildir, read back and parsed here.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mailparse::{MailHeaderMap, ParsedMail};

/// A running aiosmtpd; stopped when dropped.
pub struct SmtpServer {
    pub port: u16,
    child: Option<Child>,
    dir: PathBuf,
    _tmp: Option<tempfile::TempDir>,
}

/// A port nobody listens on right now (the outage drill points the app at it before a server
/// exists there).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn python() -> &'static str {
    // Debian's package installs into the system interpreter, which a pyenv or venv python3
    // earlier on PATH would not see.
    if Path::new("/usr/bin/python3").exists() { "/usr/bin/python3" } else { "python3" }
}

impl SmtpServer {
    /// Starts on a free port with a fresh Maildir.
    pub fn start() -> SmtpServer {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("maildir");
        let mut server = SmtpServer::start_at(free_port(), &dir);
        server._tmp = Some(tmp);
        server
    }

    /// Starts on `port`, storing into `dir` (created when missing; earlier messages stay).
    pub fn start_at(port: u16, dir: &Path) -> SmtpServer {
        SmtpServer::start_with(port, dir, &[])
    }

    /// Starts with extra aiosmtpd options, e.g. `--tlscert`/`--tlskey` (STARTTLS, then required)
    /// or `--smtpscert`/`--smtpskey` (TLS from the first byte).
    pub fn start_with(port: u16, dir: &Path, options: &[&str]) -> SmtpServer {
        // aiosmtpd's Maildir only creates its folders when the top one is missing.
        for sub in ["new", "cur", "tmp"] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
        }
        let child = Command::new(python())
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
            .args(options)
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start aiosmtpd ({e}): apt-get install -y python3-aiosmtpd"));
        let mut server = SmtpServer { port, child: Some(child), dir: dir.to_owned(), _tmp: None };
        server.wait_until_listening();
        server
    }

    fn wait_until_listening(&mut self) {
        let addr: SocketAddr = format!("127.0.0.1:{}", self.port).parse().unwrap();
        let started = Instant::now();
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("aiosmtpd exited at start ({status}); is python3-aiosmtpd installed?");
            }
            assert!(started.elapsed() < Duration::from_secs(20), "aiosmtpd did not listen on {addr}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The server's process id (the benchmark reads its CPU time).
    #[allow(dead_code, reason = "used by benches/mail_delivery.rs, which includes this file")]
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// `smtp://127.0.0.1:PORT`: plain SMTP, as for a relay on the same machine.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Every message received so far, oldest first.
    pub fn messages(&self) -> Vec<Received> {
        read_maildir(&self.dir)
    }

    /// Waits until at least `n` messages have arrived, then returns them all.
    pub async fn wait_for(&self, n: usize, limit: Duration) -> Vec<Received> {
        let started = Instant::now();
        loop {
            let count = count_new(&self.dir);
            if count >= n {
                return self.messages();
            }
            assert!(started.elapsed() < limit, "only {count} of {n} messages arrived within {limit:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// How many messages have arrived (without parsing them).
    pub fn count(&self) -> usize {
        count_new(&self.dir)
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn count_new(dir: &Path) -> usize {
    std::fs::read_dir(dir.join("new")).map(|d| d.count()).unwrap_or(0)
}

/// Reads every message in `dir/new`. aiosmtpd writes each to `tmp/` and renames it into `new/`,
/// so a file seen there is complete.
pub fn read_maildir(dir: &Path) -> Vec<Received> {
    let mut files: Vec<(std::time::SystemTime, PathBuf)> = std::fs::read_dir(dir.join("new"))
        .unwrap()
        .flatten()
        .map(|e| (e.metadata().and_then(|m| m.modified()).unwrap_or(std::time::UNIX_EPOCH), e.path()))
        .collect();
    files.sort();
    files.into_iter().map(|(_, path)| Received::parse(&std::fs::read(&path).unwrap())).collect()
}

/// One message as it arrived, decoded.
#[derive(Debug)]
pub struct Received {
    /// The envelope recipient (aiosmtpd's `X-RcptTo`).
    pub envelope_to: String,
    pub from: String,
    pub to: String,
    pub subject: String,
    pub message_id: String,
    pub content_type: String,
    pub auto_submitted: String,
    pub text: String,
    pub html: String,
}

impl Received {
    pub fn parse(raw: &[u8]) -> Received {
        let mail = mailparse::parse_mail(raw).expect("a parsable message");
        let header = |name: &str| mail.headers.get_first_value(name).unwrap_or_default();
        let mut text = String::new();
        let mut html = String::new();
        collect_bodies(&mail, &mut text, &mut html);
        Received {
            envelope_to: header("X-RcptTo"),
            from: header("From"),
            to: header("To"),
            subject: header("Subject"),
            message_id: header("Message-ID"),
            content_type: mail.ctype.mimetype.clone(),
            auto_submitted: header("Auto-Submitted"),
            // Mail travels with CRLF line ends; the app renders LF.
            text: text.replace("\r\n", "\n"),
            html: html.replace("\r\n", "\n"),
        }
    }
}

fn collect_bodies(part: &ParsedMail<'_>, text: &mut String, html: &mut String) {
    match part.ctype.mimetype.as_str() {
        "text/plain" => *text = part.get_body().unwrap(),
        "text/html" => *html = part.get_body().unwrap(),
        _ => part.subparts.iter().for_each(|p| collect_bodies(p, text, html)),
    }
}
