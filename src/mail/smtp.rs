//! The mail server: `REDRESS_SMTP_URL` (and the credential variables) read into settings, SMTP
//! sessions opened from them, and the message built from an outbox row.
//!
//! URL rules (README's configuration table says the same):
//! - `smtp://host[:port]` — plain SMTP, port 25 by default. Meant for a relay on the same host
//!   or network; credentials are refused here unless the host is a loopback address, because
//!   they would cross the network in clear text.
//! - `smtp://host:587` or `smtp://host[:port]?tls=starttls` — STARTTLS is *required*: if the
//!   server does not offer it, nothing (no credentials, no mail) is sent. Port 587 by default.
//!   `?tls=none` keeps a connection on port 587 plain (a local test server).
//! - `smtps://host[:port]` — TLS from the first byte (implicit TLS), port 465 by default.
//! - Credentials: `smtp://user:password@host` (percent-encoded), or `REDRESS_SMTP_USERNAME` /
//!   `REDRESS_SMTP_PASSWORD`, which win over the URL's so a secret store can supply the
//!   password alone. Certificates are checked against the platform's trust store.
//!
//! Connections are opened here rather than by lettre's pooled transport so that the socket gets
//! `TCP_NODELAY`: lettre writes a message body and its final `.` in two writes, and with
//! Nagle's algorithm on, the second waits for the server's delayed ACK — about 40 ms per
//! notice per connection, which capped delivery at ~20 notices/s per connection.

use std::fmt;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use lettre::Message;
use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, AsyncTokioStream, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout};
use url::Url;

use crate::secret::Secret;

/// How the connection to the mail server is protected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlsMode {
    /// Plain SMTP, no encryption.
    None,
    /// Plain connection upgraded with STARTTLS; refuses to continue without it.
    StartTls,
    /// TLS from the start (`smtps://`).
    Implicit,
}

/// Where and how notices are delivered. `Debug` shows the password as `***` (see [`Secret`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
    pub username: Option<String>,
    pub password: Option<Secret>,
}

/// Opening a session (TCP, TLS, greeting, EHLO, STARTTLS, AUTH) must finish within this.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// Servers drop idle sessions (Postfix after 300 s, some much sooner); a session idle longer
/// than this is closed and a fresh one opened instead of risking a failed attempt.
const IDLE_LIMIT: Duration = Duration::from_secs(20);

/// The longest one delivery may take before it counts as failed. The sender's lease must be
/// longer, so that no other process takes over a notice that is still being sent.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(60);

impl SmtpSettings {
    /// Reads the URL and the separate credentials. Errors are one line and never contain the
    /// password.
    pub fn parse(url: &str, username: Option<String>, password: Option<String>) -> Result<SmtpSettings, String> {
        let parsed = Url::parse(url).map_err(|e| format!("not a URL ({e})"))?;
        let implicit = match parsed.scheme() {
            "smtp" => false,
            "smtps" => true,
            _ => return Err("must start with smtp:// or smtps://".into()),
        };
        let host = parsed.host_str().filter(|h| !h.is_empty()).ok_or("names no host")?;
        // IPv6 literals come bracketed; the socket address wants them bare.
        let host = host.trim_start_matches('[').trim_end_matches(']').to_owned();
        if !matches!(parsed.path(), "" | "/") {
            return Err(format!("has a path ({}); only smtp[s]://[user:password@]host[:port][?tls=…]", parsed.path()));
        }
        let mut tls_param = None;
        for (key, value) in parsed.query_pairs() {
            match key.as_ref() {
                "tls" if !implicit => tls_param = Some(value.into_owned()),
                "tls" => return Err("smtps:// is always TLS; drop the tls= parameter".into()),
                other => return Err(format!("unknown parameter {other:?} (only tls=starttls|none)")),
            }
        }
        let tls = match tls_param.as_deref() {
            _ if implicit => TlsMode::Implicit,
            Some("starttls") => TlsMode::StartTls,
            Some("none") => TlsMode::None,
            Some(other) => return Err(format!("tls={other:?}: expected tls=starttls or tls=none")),
            None if parsed.port() == Some(587) => TlsMode::StartTls,
            None => TlsMode::None,
        };
        let port = parsed.port().unwrap_or(match tls {
            TlsMode::None => 25,
            TlsMode::StartTls => 587,
            TlsMode::Implicit => 465,
        });

        let decode =
            |s: &str| percent_decode(s).ok_or_else(|| "the credentials in the URL are not valid UTF-8".to_owned());
        let url_user = Some(parsed.username()).filter(|u| !u.is_empty()).map(decode).transpose()?;
        let url_password = parsed.password().map(decode).transpose()?;
        let username = username.or(url_user);
        let password = password.or(url_password).map(Secret::new);
        match (&username, &password) {
            (Some(_), None) => return Err("has a user name but no password (REDRESS_SMTP_PASSWORD)".into()),
            (None, Some(_)) => return Err("has a password but no user name (REDRESS_SMTP_USERNAME)".into()),
            _ => {}
        }
        if username.is_some() && tls == TlsMode::None && !is_loopback(&host) {
            return Err(format!(
                "would send the password unencrypted to {host}: use smtps:// or ?tls=starttls (or port 587)"
            ));
        }
        Ok(SmtpSettings { host, port, tls, username, password })
    }

    fn credentials(&self) -> Option<Credentials> {
        match (&self.username, &self.password) {
            (Some(user), Some(password)) => Some(Credentials::new(user.clone(), password.expose().to_owned())),
            _ => None,
        }
    }

    /// Opens a session: connected, greeted, encrypted as configured, signed in.
    /// The error is one line for the outbox, without secrets.
    pub async fn connect(&self) -> Result<Session, String> {
        match timeout(CONNECT_TIMEOUT, self.open()).await {
            Ok(result) => result,
            Err(_) => {
                Err(format!("no session with {}:{} within {} s", self.host, self.port, CONNECT_TIMEOUT.as_secs()))
            }
        }
    }

    async fn open(&self) -> Result<Session, String> {
        let server = format!("{}:{}", self.host, self.port);
        let tcp = TcpStream::connect((self.host.as_str(), self.port))
            .await
            .map_err(|e| format!("cannot connect to {server}: {e}"))?;
        tcp.set_nodelay(true).map_err(|e| format!("cannot set up the connection to {server}: {e}"))?;
        let stream: Box<dyn AsyncTokioStream> = match self.tls {
            TlsMode::Implicit => Box::new(ImplicitTls::handshake(&self.host, tcp).await?),
            TlsMode::None | TlsMode::StartTls => Box::new(tcp),
        };
        let hello = ClientId::default();
        let smtp_error = |what: &str, e: lettre::transport::smtp::Error| format!("{what} {server}: {e}");
        let mut conn = AsyncSmtpConnection::connect_with_transport(stream, &hello)
            .await
            .map_err(|e| smtp_error("no SMTP greeting from", e))?;
        if self.tls == TlsMode::StartTls {
            // Required, not opportunistic: without it, neither credentials nor mail go out.
            let parameters = TlsParameters::new(self.host.clone()).map_err(|e| smtp_error("TLS set-up for", e))?;
            conn.starttls(parameters, &hello).await.map_err(|e| smtp_error("STARTTLS failed with", e))?;
        }
        if let Some(credentials) = self.credentials() {
            conn.auth(&[Mechanism::Plain, Mechanism::Login], &credentials)
                .await
                .map_err(|e| smtp_error("sign-in refused by", e))?;
        }
        Ok(Session { conn, idle_since: Instant::now() })
    }
}

/// An open SMTP session, reused for many notices.
pub struct Session {
    conn: AsyncSmtpConnection,
    idle_since: Instant,
}

impl Session {
    /// Sends one message. On an error the session may be half-way through a transaction:
    /// drop it rather than reuse it.
    pub async fn send(&mut self, message: &Message) -> Result<(), lettre::transport::smtp::Error> {
        self.conn.send(message.envelope(), &message.formatted()).await?;
        self.idle_since = Instant::now();
        Ok(())
    }

    /// Worth reusing: not broken, and not idle so long that the server may have hung up.
    pub fn is_fresh(&self) -> bool {
        !self.conn.has_broken() && self.idle_since.elapsed() < IDLE_LIMIT
    }

    /// Says goodbye politely (servers log abrupt disconnects as errors).
    pub async fn quit(mut self) {
        let _ = timeout(Duration::from_secs(2), self.conn.quit()).await;
    }
}

/// A TLS-from-the-start stream (`smtps://`) on a socket this module set up.
#[derive(Debug)]
struct ImplicitTls(tokio_rustls::client::TlsStream<TcpStream>);

impl ImplicitTls {
    async fn handshake(host: &str, tcp: TcpStream) -> Result<ImplicitTls, String> {
        use rustls_platform_verifier::BuilderVerifierExt;
        let fail = |e: &dyn fmt::Display| format!("TLS with {host} failed: {e}");
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .and_then(|b| b.with_platform_verifier())
            .map_err(|e| fail(&e))?
            .with_no_client_auth();
        let name = rustls::pki_types::ServerName::try_from(host.to_owned()).map_err(|e| fail(&e))?;
        let stream =
            tokio_rustls::TlsConnector::from(Arc::new(config)).connect(name, tcp).await.map_err(|e| fail(&e))?;
        Ok(ImplicitTls(stream))
    }
}

impl AsyncRead for ImplicitTls {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for ImplicitTls {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

impl AsyncTokioStream for ImplicitTls {
    fn peer_addr(&self) -> io::Result<std::net::SocketAddr> {
        self.0.get_ref().0.peer_addr()
    }
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(byte) = s.get(i + 1..i + 3).and_then(|hex| u8::from_str_radix(hex, 16).ok())
        {
            out.push(byte);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The Message-ID of a notice: the same for every attempt, so that a notice delivered twice
/// (sent, then the process died before recording it) is recognisable as one message.
/// The notice key is hashed: it may contain a token's digest, which has no business in headers.
pub fn message_id(outbox_id: i64, notice_key: &str, domain: &str) -> String {
    let digest = Sha256::digest(notice_key.as_bytes());
    format!("<redress.{outbox_id}.{}@{domain}>", hex::encode(&digest[..8]))
}

/// `Auto-Submitted: auto-generated` (RFC 3834): out-of-office robots should not answer notices.
#[derive(Clone)]
struct AutoSubmitted;

impl Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(AutoSubmitted)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "auto-generated".into())
    }
}

/// What an outbox row needs to become an email.
pub struct Outgoing<'a> {
    pub message_id: String,
    pub to: &'a str,
    pub subject: &'a str,
    pub text: &'a str,
    pub html: &'a str,
}

/// Builds the multipart/alternative message. Fails only for an address that can never work
/// (the recipient does not parse), which the sender records as a permanent failure.
pub fn build_message(from: &Mailbox, out: &Outgoing<'_>) -> Result<Message, String> {
    let to: Mailbox = out.to.parse().map_err(|e| format!("recipient address {:?} is not valid: {e}", out.to))?;
    Message::builder()
        .message_id(Some(out.message_id.clone()))
        .from(from.clone())
        .to(to)
        .subject(out.subject)
        .header(AutoSubmitted)
        .multipart(MultiPart::alternative_plain_html(out.text.to_owned(), out.html.to_owned()))
        .map_err(|e| format!("the message cannot be built: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(url: &str) -> Result<SmtpSettings, String> {
        SmtpSettings::parse(url, None, None)
    }

    #[test]
    fn schemes_ports_and_tls() {
        let s = parse("smtp://127.0.0.1:2525").unwrap();
        assert_eq!((s.host.as_str(), s.port, s.tls), ("127.0.0.1", 2525, TlsMode::None));
        assert_eq!(parse("smtp://mail.internal").unwrap().port, 25);
        let s = parse("smtp://smtp.example.com:587").unwrap();
        assert_eq!((s.port, s.tls), (587, TlsMode::StartTls));
        let s = parse("smtp://smtp.example.com?tls=starttls").unwrap();
        assert_eq!((s.port, s.tls), (587, TlsMode::StartTls));
        let s = parse("smtp://smtp.example.com:2587?tls=starttls").unwrap();
        assert_eq!((s.port, s.tls), (2587, TlsMode::StartTls));
        assert_eq!(parse("smtp://127.0.0.1:587?tls=none").unwrap().tls, TlsMode::None);
        let s = parse("smtps://smtp.example.com").unwrap();
        assert_eq!((s.port, s.tls), (465, TlsMode::Implicit));
        assert_eq!(parse("smtps://smtp.example.com:2465").unwrap().port, 2465);
        assert_eq!(parse("smtp://[::1]:2525").unwrap().host, "::1");
    }

    #[test]
    fn credentials_from_the_url_or_the_variables() {
        let s = parse("smtps://mailer%40corp:p%40ss%3Aword@smtp.example.com").unwrap();
        assert_eq!(s.username.as_deref(), Some("mailer@corp"));
        assert_eq!(s.password.as_ref().unwrap().expose(), "p@ss:word");
        let s = SmtpSettings::parse("smtps://urluser@smtp.example.com", None, Some("from-env".into())).unwrap();
        assert_eq!((s.username.as_deref(), s.password.unwrap().expose()), (Some("urluser"), "from-env"));
        let s =
            SmtpSettings::parse("smtps://u:p@smtp.example.com", Some("envuser".into()), Some("envpw".into())).unwrap();
        assert_eq!((s.username.as_deref(), s.password.unwrap().expose()), (Some("envuser"), "envpw"));
        // Plain SMTP with credentials is fine to a relay on this machine only.
        assert!(parse("smtp://u:p@localhost:25").is_ok());
    }

    #[test]
    fn bad_urls_are_refused_without_showing_the_password() {
        for (url, expect) in [
            ("http://smtp.example.com", "smtp://"),
            ("smtp://u:hunter2@smtp.example.com", "unencrypted"),
            ("smtp://u@smtp.example.com:587", "no password"),
            ("smtp://smtp.example.com?tls=yes", "tls="),
            ("smtp://smtp.example.com?timeout=3", "unknown parameter"),
            ("smtps://smtp.example.com?tls=starttls", "always TLS"),
            ("smtp://smtp.example.com/inbox", "path"),
        ] {
            let e = parse(url).unwrap_err();
            assert!(e.contains(expect), "{url}: {e}");
            assert!(!e.contains("hunter2"), "{e}");
        }
        let shown = format!("{:?}", parse("smtps://u:hunter2@smtp.example.com").unwrap());
        assert!(!shown.contains("hunter2") && shown.contains("***"), "{shown}");
    }

    #[test]
    fn message_ids_are_stable_and_hide_the_key() {
        let a = message_id(17, "verify_email:abcdef", "disputes.example.cn");
        assert_eq!(a, message_id(17, "verify_email:abcdef", "disputes.example.cn"));
        assert_ne!(a, message_id(18, "verify_email:abcdef", "disputes.example.cn"));
        assert!(a.starts_with("<redress.17.") && a.ends_with("@disputes.example.cn>"), "{a}");
        assert!(!a.contains("abcdef"));
    }

    #[test]
    fn messages_are_multipart_alternative_with_our_headers() {
        let from: Mailbox = "Redress <no-reply@127.0.0.1>".parse().unwrap();
        let out = Outgoing {
            message_id: message_id(1, "k", "127.0.0.1"),
            to: "ann@example.com",
            subject: "案件 #1：核查结果",
            text: "plain",
            html: "<p>html</p>",
        };
        let raw = String::from_utf8(build_message(&from, &out).unwrap().formatted()).unwrap();
        assert!(raw.contains("Message-ID: <redress.1."), "{raw}");
        assert!(raw.contains("Auto-Submitted: auto-generated"));
        assert!(raw.contains("multipart/alternative"));
        assert!(raw.contains("text/plain") && raw.contains("text/html"));
        let bad = Outgoing { to: "not an address", ..out };
        assert!(build_message(&from, &bad).unwrap_err().contains("not valid"));
    }
}
