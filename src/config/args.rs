//! How the command line is read beyond what clap does by itself: flags placed before the
//! subcommand, and the values that need more than a type to be understood (addresses, a token
//! lifetime).

use std::ffi::OsString;
use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

use clap::CommandFactory;

use super::Cli;

/// Moves flags written before a subcommand to after it, so that `postbase --database-url X
/// export` means what `postbase export --database-url X` means. A flag the subcommand does not
/// have is then refused by clap (exit 2, naming it) instead of being silently ignored.
pub fn hoist_leading_flags(args: Vec<OsString>) -> Vec<OsString> {
    let cmd = Cli::command();
    let mut leading = Vec::new();
    let mut i = 1;
    while i < args.len() {
        let Some(arg) = args[i].to_str() else {
            return args;
        };
        let Some(flag) = arg.strip_prefix("--").filter(|f| !f.is_empty()) else {
            if arg.starts_with('-') {
                return args; // `-h`, `-V`, `--`: clap's business
            }
            break;
        };
        let (name, inline_value) = match flag.split_once('=') {
            Some((name, _)) => (name, true),
            None => (flag, false),
        };
        let takes_value = cmd
            .get_arguments()
            .find(|a| a.get_long() == Some(name))
            .is_some_and(|a| a.get_action().takes_values());
        leading.push(args[i].clone());
        if takes_value && !inline_value && i + 1 < args.len() {
            leading.push(args[i + 1].clone());
            i += 1;
        }
        i += 1;
    }
    if i >= args.len() || leading.is_empty() {
        return args;
    }
    // The subcommand, and a nested one (`user create`) right after it.
    let mut end = i + 1;
    let nested = args[i]
        .to_str()
        .and_then(|name| cmd.find_subcommand(name))
        .is_some_and(|sub| sub.has_subcommands());
    if nested
        && args
            .get(end)
            .and_then(|a| a.to_str())
            .is_some_and(|a| !a.starts_with('-'))
    {
        end += 1;
    }
    let mut out = vec![args[0].clone()];
    out.extend_from_slice(&args[i..end]);
    out.extend(leading);
    out.extend_from_slice(&args[end..]);
    out
}

const ADDR_FORMS: &str =
    "expected HOST:PORT, e.g. 127.0.0.1:8080, localhost:8080, :8080 (all interfaces) or 8080 (this machine only)";

/// An address to listen on: `IP:PORT`, `HOST:PORT`, `:PORT` (all interfaces) or `PORT` (loopback).
pub fn parse_addr(s: &str) -> Result<SocketAddr, String> {
    let s = s.trim();
    if let Ok(port) = s.parse::<u16>() {
        return Ok(SocketAddr::from(([127, 0, 0, 1], port)));
    }
    if let Some(port) = s.strip_prefix(':').and_then(|p| p.parse::<u16>().ok()) {
        return Ok(SocketAddr::from(([0, 0, 0, 0], port)));
    }
    if let Ok(addr) = s.parse::<SocketAddr>() {
        return Ok(addr);
    }
    let resolved: Vec<SocketAddr> = s
        .to_socket_addrs()
        .map_err(|e| format!("{s:?}: {e}; {ADDR_FORMS}"))?
        .collect();
    resolved
        .iter()
        .find(|a| a.is_ipv4())
        .or(resolved.first())
        .copied()
        .ok_or_else(|| format!("{s:?} resolves to no address; {ADDR_FORMS}"))
}

/// Shortest token lifetime accepted: anything shorter is dead before a client can use it.
pub const MIN_TOKEN_TTL: Duration = Duration::from_secs(60);

/// A token lifetime: a duration (`30d`, `12h`, `15m`) of at least a minute.
pub(super) fn parse_token_ttl(s: &str) -> Result<Duration, String> {
    let ttl = humantime::parse_duration(s).map_err(|e| format!("{s:?}: {e}"))?;
    if ttl < MIN_TOKEN_TTL {
        return Err(format!(
            "{s:?} is too short: a token must live at least 1m (e.g. 15m, 12h, 30d)"
        ));
    }
    Ok(ttl)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser as _;

    fn hoisted(args: &[&str]) -> Vec<String> {
        hoist_leading_flags(args.iter().map(OsString::from).collect())
            .into_iter()
            .map(|a| a.into_string().unwrap())
            .collect()
    }

    #[test]
    fn flags_before_a_subcommand_move_after_it() {
        assert_eq!(
            hoisted(&["pb", "--database-url", "sqlite://x.db", "export"]),
            ["pb", "export", "--database-url", "sqlite://x.db"]
        );
        assert_eq!(
            hoisted(&[
                "pb",
                "--database-url=sqlite://x.db",
                "user",
                "create",
                "--admin"
            ]),
            [
                "pb",
                "user",
                "create",
                "--database-url=sqlite://x.db",
                "--admin"
            ]
        );
        assert_eq!(
            hoisted(&[
                "pb",
                "--trust-forwarded-for",
                "serve",
                "--addr",
                "1.2.3.4:5"
            ]),
            [
                "pb",
                "serve",
                "--trust-forwarded-for",
                "--addr",
                "1.2.3.4:5"
            ]
        );
        assert_eq!(hoisted(&["pb", "--addr", ":80"]), ["pb", "--addr", ":80"]);
        assert_eq!(hoisted(&["pb", "migrate"]), ["pb", "migrate"]);
    }

    /// A switch takes no value wherever it stands: `--realworld` before other flags, before the
    /// subcommand, or last.
    #[test]
    fn a_switch_takes_no_value_wherever_it_stands() {
        for args in [
            &["pb", "--realworld", "--addr", "127.0.0.1:1"][..],
            &["pb", "--realworld", "serve", "--addr", "127.0.0.1:1"],
            &["pb", "--addr", "127.0.0.1:1", "--realworld"],
        ] {
            let cli =
                Cli::try_parse_from(hoisted(args)).unwrap_or_else(|e| panic!("{args:?}: {e}"));
            let serve = match cli.command {
                Some(super::super::Command::Serve(serve)) => *serve,
                _ => cli.serve,
            };
            assert!(serve.realworld, "{args:?}");
            assert_eq!(serve.addr.port(), 1, "{args:?}");
        }
    }

    #[test]
    fn addresses_come_in_the_common_forms() {
        assert_eq!(
            parse_addr("8080").unwrap(),
            "127.0.0.1:8080".parse().unwrap()
        );
        assert_eq!(
            parse_addr(":8080").unwrap(),
            "0.0.0.0:8080".parse().unwrap()
        );
        assert_eq!(parse_addr("localhost:8080").unwrap().port(), 8080);
        assert_eq!(parse_addr("[::1]:80").unwrap(), "[::1]:80".parse().unwrap());
        let err = parse_addr("nonsense").unwrap_err();
        assert!(err.contains("e.g. 127.0.0.1:8080"), "{err}");
    }

    #[test]
    fn a_token_must_live_at_least_a_minute() {
        assert!(parse_token_ttl("0s").is_err());
        assert!(parse_token_ttl("59s").is_err());
        assert_eq!(parse_token_ttl("1m").unwrap(), MIN_TOKEN_TTL);
        assert!(parse_token_ttl("30d").is_ok());
    }
}
