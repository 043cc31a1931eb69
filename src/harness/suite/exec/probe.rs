//! Probe steps: ping, reachable, unreachable, path, connectivity, TCP and
//! UDP, waiting for a port.

use std::time::Duration;

use regex::Regex;

use super::super::format::step::{
    ConnectivityStep, PathStep, PingStep, ReachStep, TcpExpect, TcpStep, UdpExpect, UdpStep,
    WaitPortStep,
};
use super::{or, Runner, DEFAULT_WAIT};
use crate::assert::{self, Source};
use crate::probe::{PingErrorKind, PingOptions, PortState, UdpOutcome};

/// The requests of a `ping` step: `count` (3 unless set) 50 ms apart,
/// each waiting `timeout` (1 s unless set) for its reply.
pub(crate) fn ping_options(s: &PingStep) -> PingOptions {
    PingOptions::new()
        .count(s.count.unwrap_or(3))
        .interval(Duration::from_millis(50))
        .timeout(or(s.timeout, Duration::from_secs(1)))
}

/// The one request of an `unreachable` step, waiting `timeout` (1 s
/// unless set).
pub(crate) fn unreachable_options(s: &ReachStep) -> PingOptions {
    PingOptions::new()
        .count(1)
        .timeout(or(s.timeout, Duration::from_secs(1)))
}

/// How long a `reachable` step waits for a reply.
pub(crate) fn reachable_limit(s: &ReachStep) -> Duration {
    or(s.timeout, Duration::from_secs(5))
}

/// How long a `tcp` step's attempt may take.
pub(crate) fn tcp_limit(s: &TcpStep) -> Duration {
    or(s.timeout, Duration::from_secs(2))
}

/// How long a `udp` step waits for a reply.
pub(crate) fn udp_limit(s: &UdpStep) -> Duration {
    or(s.timeout, Duration::from_secs(2))
}

/// How long a `wait_port` step waits for the port to open.
pub(crate) fn wait_port_limit(s: &WaitPortStep) -> Duration {
    or(s.timeout, DEFAULT_WAIT)
}

impl Runner<'_> {
    fn source(&self, from: &str) -> Result<Source<'_>, String> {
        let node = self.net.node(from).map_err(|e| e.to_string())?;
        Ok(Source::with_net(self.net, node))
    }

    pub(super) fn wait_port(&mut self, s: &WaitPortStep) -> Result<String, String> {
        let addr = self.socket(&s.to)?;
        let limit = wait_port_limit(s);
        let node = self.net.node(&s.from).map_err(|e| e.to_string())?;
        let report = node
            .wait_port_open(addr)
            .timeout(limit)
            .run()
            .map_err(|e| format!("{addr} did not open within {limit:?}: {e}"))?;
        Ok(report.to_string())
    }

    pub(super) fn ping(&mut self, s: &PingStep) -> Result<String, String> {
        let ip = self.ip(&s.to)?;
        let opts = ping_options(s);
        let count = opts.count;
        let min = s.min_received.unwrap_or(count);
        if min == 0 {
            // Any number of replies will do: the requests only have to go,
            // at least one of them.
            let node = self.net.node(&s.from).map_err(|e| e.to_string())?;
            let report = node
                .ping(ip)
                .options(opts)
                .run()
                .map_err(|e| e.to_string())?;
            let failed = report
                .errors
                .iter()
                .filter(|e| matches!(e.kind, PingErrorKind::Send { .. }))
                .count();
            if report.transmitted as usize <= failed {
                return Err(format!(
                    "none of the {count} requests to {ip} could be sent \
                     (`min_received = 0` needs them to go)\n{report}"
                ));
            }
            return Ok(format!("{} of {count} replies from {ip}", report.received));
        }
        let report =
            assert::reachable_with(self.source(&s.from)?, ip, &opts).map_err(|f| f.to_string())?;
        if report.received < min {
            return Err(format!(
                "{} of {count} replies from {ip}, at least {min} required\n{report}",
                report.received
            ));
        }
        Ok(format!("{} of {count} replies from {ip}", report.received))
    }

    pub(super) fn reachable(&mut self, s: &ReachStep) -> Result<String, String> {
        let ip = self.ip(&s.to)?;
        let limit = reachable_limit(s);
        let node = self.net.node(&s.from).map_err(|e| e.to_string())?;
        match node.wait_reachable(ip).timeout(limit).run() {
            Ok(r) => Ok(format!("{ip} answered ({} replies)", r.received)),
            Err(e) => {
                // The assertion's report shows the nodes' state.
                let quick = PingOptions::new()
                    .count(1)
                    .timeout(Duration::from_millis(200));
                match assert::reachable_with(self.source(&s.from)?, ip, &quick) {
                    Err(f) => Err(format!("not reachable within {limit:?}: {f}")),
                    Ok(_) => Err(format!("not reachable within {limit:?}: {e}")),
                }
            }
        }
    }

    pub(super) fn unreachable(&mut self, s: &ReachStep) -> Result<String, String> {
        let ip = self.ip(&s.to)?;
        let opts = unreachable_options(s);
        assert::unreachable_with(self.source(&s.from)?, ip, &opts).map_err(|f| f.to_string())?;
        Ok(format!("{ip} did not answer"))
    }

    pub(super) fn path(&mut self, s: &PathStep) -> Result<String, String> {
        let ip = self.ip(&s.to)?;
        let trace = assert::path(self.source(&s.from)?, ip, &s.via).map_err(|f| f.to_string())?;
        let hops: Vec<String> = trace
            .names()
            .iter()
            .map(|n| n.unwrap_or("*").to_string())
            .collect();
        Ok(format!("path {} -> {}", s.from, hops.join(" -> ")))
    }

    pub(super) fn connectivity(&mut self, s: &ConnectivityStep) -> Result<String, String> {
        let mut c = self.net.connectivity();
        if let Some(nodes) = &s.nodes {
            c = c.nodes(nodes.iter().cloned());
        }
        for [a, b] in &s.except {
            c = c.except(a.clone(), b.clone());
        }
        let m = c.check().map_err(|f| f.to_string())?;
        Ok(format!(
            "{} nodes reach each other as expected",
            m.probed_nodes().len()
        ))
    }

    pub(super) fn tcp(&mut self, s: &TcpStep) -> Result<String, String> {
        let addr = self.socket(&s.to)?;
        let limit = tcp_limit(s);
        let node = self.net.node(&s.from).map_err(|e| e.to_string())?;
        let report = node
            .tcp_connect(addr)
            .timeout(limit)
            .run()
            .map_err(|e| e.to_string())?;
        let want = s.expect.unwrap_or(TcpExpect::Open);
        let ok = match want {
            TcpExpect::Open => report.state == PortState::Open,
            TcpExpect::Refused => matches!(
                report.state,
                PortState::Refused | PortState::Unreachable { .. }
            ),
            TcpExpect::Timeout => report.state == PortState::TimedOut,
            TcpExpect::Closed => report.state != PortState::Open,
        };
        if !ok {
            return Err(format!("expected {want:?}, got: {report}").to_lowercase());
        }
        Ok(report.to_string())
    }

    pub(super) fn udp(&mut self, s: &UdpStep) -> Result<String, String> {
        let addr = self.socket(&s.to)?;
        let limit = udp_limit(s);
        let node = self.net.node(&s.from).map_err(|e| e.to_string())?;
        let report = node
            .udp_request(addr, s.payload.as_bytes())
            .timeout(limit)
            .run()
            .map_err(|e| e.to_string())?;
        let want = s.expect.unwrap_or(UdpExpect::Reply);
        let seen = match &report.outcome {
            UdpOutcome::Reply(b) => format!("reply {:?}", String::from_utf8_lossy(b)),
            UdpOutcome::Timeout => "no reply".into(),
            UdpOutcome::Refused => "refused".into(),
            other => format!("{other:?}"),
        };
        let ok = match want {
            UdpExpect::Reply => report.reply().is_some(),
            UdpExpect::NoReply => report.reply().is_none(),
            UdpExpect::Refused => matches!(
                report.outcome,
                UdpOutcome::Refused | UdpOutcome::Unreachable { .. }
            ),
        };
        if !ok {
            return Err(format!("udp {addr}: expected {want:?}, got {seen}"));
        }
        if let (Some(r), Some(reply)) = (&s.reply, report.reply()) {
            let re = Regex::new(r).map_err(|e| e.to_string())?;
            let text = String::from_utf8_lossy(reply);
            if !re.is_match(&text) {
                return Err(format!(
                    "udp {addr}: the reply {text:?} does not match `{r}`"
                ));
            }
        }
        Ok(format!("udp {addr}: {seen}"))
    }
}
