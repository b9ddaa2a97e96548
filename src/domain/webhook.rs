//! Webhook rules without I/O (DESIGN.md §7): which events an endpoint takes, which addresses it
//! may never reach, which URLs are acceptable, and the `Redress-Signature` header.
//!
//! # Why private addresses are refused (server-side request forgery)
//!
//! A webhook makes the Redress server send HTTP requests to a URL someone typed. Without a
//! guard, whoever may add an endpoint (or take over a DNS name one points at) can make the server
//! reach what only the server can reach: the database's HTTP admin port on loopback, a cloud
//! metadata service on a link-local address (169.254.169.254 hands out credentials), other
//! services on the private network — and learn from the delivery log whether they answered.
//! So by default a delivery may only go to public addresses. The check runs on the addresses a
//! name **resolves to, at delivery time**, and the connection is made to exactly the checked
//! addresses: a name that was public when the endpoint was added and resolves to 127.0.0.1 later
//! (DNS rebinding) is still refused. Redirects are not followed (a public endpoint could
//! otherwise bounce the request inwards), and environment proxies are not used. Only an admin
//! may turn the guard off for one endpoint (`--allow-private`, or the admin page's box), for a
//! receiver that really lives on the private network.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use hmac::{Hmac, Mac};
use sha2::Sha256;
use url::{Host, Url};

use crate::domain::case_state::Event;

/// The events an endpoint subscribes to: every case event, or the ones named.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Events {
    All,
    Only(Vec<Event>),
}

impl Events {
    /// Parses event names (`all`, or §7 case event names), separated by spaces or commas.
    /// An unknown name is returned as the error.
    pub fn parse<S: AsRef<str>>(names: &[S]) -> Result<Events, String> {
        let mut events = Vec::new();
        for name in names.iter().flat_map(|n| n.as_ref().split([',', ' ']).map(str::trim).collect::<Vec<_>>()) {
            if name.is_empty() {
                continue;
            }
            if name == "all" {
                return Ok(Events::All);
            }
            let event = Event::parse(name).ok_or_else(|| name.to_owned())?;
            if !events.contains(&event) {
                events.push(event);
            }
        }
        if events.is_empty() {
            return Err(String::new());
        }
        events.sort_by_key(|e| e.as_str());
        Ok(Events::Only(events))
    }

    /// How it is stored: `all`, or the names separated by spaces.
    pub fn stored(&self) -> String {
        match self {
            Events::All => "all".to_owned(),
            Events::Only(events) => events.iter().map(|e| e.as_str()).collect::<Vec<_>>().join(" "),
        }
    }

    pub fn includes(&self, event: Event) -> bool {
        match self {
            Events::All => true,
            Events::Only(events) => events.contains(&event),
        }
    }
}

/// True for every address a webhook must not reach unless an admin allowed it: loopback,
/// private (RFC 1918), link-local, unspecified, shared address space (CGNAT, RFC 6598),
/// broadcast, multicast, documentation and other reserved ranges, IPv6 unique-local and
/// link-local, and IPv4 addresses dressed as IPv6 (mapped, compatible, NAT64) judged as IPv4.
pub fn is_forbidden(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => forbidden_v6(v6),
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0 // "this network"
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240 // reserved
}

fn forbidden_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (deprecated compatible) reach the IPv4 address.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return forbidden_v4(v4);
    }
    if s[..6] == [0, 0, 0, 0, 0, 0] && !ip.is_unspecified() && !ip.is_loopback() {
        return forbidden_v4(Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8));
    }
    // 64:ff9b::/96 (NAT64) translates to the embedded IPv4 address.
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return forbidden_v4(Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8));
    }
    ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (s[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
        || (s[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
        || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated) fec0::/10
        || s[0] == 0x2001 && s[1] == 0x0db8 // documentation
        || s[0] == 0x0100 && s[1..4] == [0, 0, 0] // discard-only 100::/64
}

/// Why a URL cannot be a webhook endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UrlProblem {
    /// Not an absolute http(s) URL with a host, or it carries a user name or password.
    Invalid,
    /// Its host is a loopback, private or link-local address (or `localhost`).
    Private,
}

impl UrlProblem {
    pub fn message_key(self) -> &'static str {
        match self {
            UrlProblem::Invalid => "webhooks.error.url",
            UrlProblem::Private => "webhooks.error.private",
        }
    }
}

/// Checks what the URL's text alone can tell; names are checked again on what they resolve
/// to, when the endpoint is added and at every delivery.
pub fn check_url(text: &str, allow_private: bool) -> Result<Url, UrlProblem> {
    let url = Url::parse(text.trim()).map_err(|_| UrlProblem::Invalid)?;
    if !matches!(url.scheme(), "http" | "https") || !url.username().is_empty() || url.password().is_some() {
        return Err(UrlProblem::Invalid);
    }
    let private = match url.host() {
        None => return Err(UrlProblem::Invalid),
        Some(Host::Ipv4(ip)) => is_forbidden(IpAddr::V4(ip)),
        Some(Host::Ipv6(ip)) => is_forbidden(IpAddr::V6(ip)),
        // Resolvers answer these from the host itself (RFC 6761), whatever DNS says.
        Some(Host::Domain(name)) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            name == "localhost" || name.ends_with(".localhost")
        }
    };
    if private && !allow_private {
        return Err(UrlProblem::Private);
    }
    Ok(url)
}

/// The `Redress-Signature` header: `t=UNIX,v1=HEX`, HEX the HMAC-SHA256 of `"{t}.{body}"` under
/// the endpoint's secret. The time inside the signed text lets receivers refuse old replays.
pub fn signature_header(secret: &str, t: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn inner_addresses_are_forbidden_and_public_ones_allowed() {
        for inner in [
            "127.0.0.1",
            "127.8.9.10",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "0.1.2.3",
            "100.64.0.1",
            "100.127.255.254",
            "255.255.255.255",
            "224.0.0.1",
            "240.0.0.1",
            "192.0.0.8",
            "198.18.0.1",
            "192.0.2.1",
            "::",
            "::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "febf::1",
            "fec0::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "64:ff9b::a00:1",
            "2001:db8::1",
        ] {
            assert!(is_forbidden(ip(inner)), "{inner} must be refused");
        }
        for public in [
            "8.8.8.8",
            "1.1.1.1",
            "100.63.255.255",
            "100.128.0.1",
            "172.32.0.1",
            "169.253.0.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
        ] {
            assert!(!is_forbidden(ip(public)), "{public} is public");
        }
    }

    #[test]
    fn urls_are_checked_by_scheme_credentials_and_literal_host() {
        assert!(check_url("https://bank.example/hooks", false).is_ok());
        assert_eq!(check_url("ftp://bank.example/", false), Err(UrlProblem::Invalid));
        assert_eq!(check_url("/relative", false), Err(UrlProblem::Invalid));
        assert_eq!(check_url("https://user:pw@bank.example/", false), Err(UrlProblem::Invalid));
        for private in [
            "http://127.0.0.1:8080/",
            "http://[::1]/",
            "http://localhost/",
            "http://api.localhost./x",
            "http://169.254.169.254/latest/meta-data",
            "http://[::ffff:7f00:1]/",
            "http://2130706433/",
            "http://0x7f.1/",
        ] {
            assert_eq!(check_url(private, false), Err(UrlProblem::Private), "{private}");
            assert!(check_url(private, true).is_ok(), "{private} with allow-private");
        }
    }

    #[test]
    fn events_parse_all_or_known_names() {
        assert_eq!(Events::parse(&["all"]), Ok(Events::All));
        let some = Events::parse(&["finding,claim_received", "finding"]).unwrap();
        assert_eq!(some.stored(), "claim_received finding");
        assert!(some.includes(Event::Finding) && !some.includes(Event::CaseResolved));
        assert_eq!(Events::parse(&["case_lost"]), Err("case_lost".to_owned()));
        assert_eq!(Events::parse::<&str>(&[]), Err(String::new()));
        assert_eq!(Events::parse(&[Events::All.stored()]), Ok(Events::All));
    }

    #[test]
    fn the_signature_is_the_hmac_of_time_dot_body() {
        // Reference value computed independently (Python: hmac.new(b"whsec", b"1700000000.{}", sha256)).
        let header = signature_header("whsec", 1_700_000_000, "{}");
        assert_eq!(header, "t=1700000000,v1=7d44587dddbaf4c7f70fef20f48cd594834ffea1641e3ac227b84408298738af");
        assert_ne!(header, signature_header("whsec", 1_700_000_001, "{}"));
        assert_ne!(header, signature_header("other", 1_700_000_000, "{}"));
    }
}
