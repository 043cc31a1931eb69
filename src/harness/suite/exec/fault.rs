//! Fault steps: partitions, healing, links down, up and flapping, and
//! route changes.

use super::super::format::step::{
    FlapStep, HealStep, ImpairStep, LinkStep, PartitionStep, RouteAction, RouteChangeStep,
    UnimpairStep,
};
use super::Runner;
use crate::fault::Link;
use crate::Route;

impl<'n> Runner<'n> {
    fn link_of(&self, a: &str, b: &str, iface: Option<&str>) -> Result<Link<'n>, String> {
        let net = self.net;
        match iface {
            Some(i) => net.link_at(a, i, b),
            None => net.link(a, b),
        }
        .map_err(|e| e.to_string())
    }

    pub(super) fn partition(&mut self, s: &PartitionStep) -> Result<String, String> {
        let (a, b) = (s.a.to_vec(), s.b.to_vec());
        let name = s.name.clone().unwrap_or_else(|| "partition".into());
        let net = self.net;
        let p = if s.one_way {
            net.partition_one_way(a.clone(), b.clone())
        } else {
            net.partition(a.clone(), b.clone())
        }
        .map_err(|e| e.to_string())?;
        self.partitions.push((name.clone(), p));
        let arrow = if s.one_way { "->" } else { "|" };
        Ok(format!(
            "partition `{name}`: {} {arrow} {}",
            a.join(","),
            b.join(",")
        ))
    }

    pub(super) fn heal(&mut self, s: &HealStep) -> Result<String, String> {
        match &s.name {
            Some(name) => {
                let i = self
                    .partitions
                    .iter()
                    .rposition(|(n, _)| n == name)
                    .ok_or_else(|| format!("no partition `{name}` is in force"))?;
                let (_, p) = self.partitions.remove(i);
                p.heal().map_err(|e| e.to_string())?;
                Ok(format!("healed `{name}`"))
            }
            None => {
                let n = self.partitions.len() + self.downs.len() + self.flaps.len();
                for (_, f) in std::mem::take(&mut self.flaps) {
                    f.stop().map_err(|e| e.to_string())?;
                }
                for (_, d) in std::mem::take(&mut self.downs) {
                    d.restore().map_err(|e| e.to_string())?;
                }
                for (_, p) in std::mem::take(&mut self.partitions) {
                    p.heal().map_err(|e| e.to_string())?;
                }
                self.net.heal().map_err(|e| e.to_string())?;
                Ok(format!("healed every fault ({n})"))
            }
        }
    }

    pub(super) fn link_down(&mut self, s: &LinkStep) -> Result<String, String> {
        let link = self.link_of(&s.a, &s.b, s.iface.as_deref())?;
        let name = link.name();
        let guard = link.down().map_err(|e| e.to_string())?;
        self.downs.push((name.clone(), guard));
        Ok(format!("link {name} down"))
    }

    pub(super) fn link_up(&mut self, s: &LinkStep) -> Result<String, String> {
        let link = self.link_of(&s.a, &s.b, s.iface.as_deref())?;
        let name = link.name();
        if let Some(i) = self.flaps.iter().position(|(n, _)| *n == name) {
            let (_, f) = self.flaps.remove(i);
            f.stop().map_err(|e| e.to_string())?;
        }
        if let Some(i) = self.downs.iter().position(|(n, _)| *n == name) {
            let (_, d) = self.downs.remove(i);
            d.restore().map_err(|e| e.to_string())?;
        }
        link.up().map_err(|e| e.to_string())?;
        Ok(format!("link {name} up"))
    }

    pub(super) fn flap(&mut self, s: &FlapStep) -> Result<String, String> {
        let link = self.link_of(&s.a, &s.b, s.iface.as_deref())?;
        let name = link.name();
        let f = link.flap(s.down.0, s.up.0).map_err(|e| e.to_string())?;
        self.flaps.push((name.clone(), f));
        Ok(format!(
            "link {name} flapping ({} down, {} up)",
            s.down, s.up
        ))
    }

    pub(super) fn impair(&mut self, s: &ImpairStep) -> Result<String, String> {
        let link = self.link_of(&s.a, &s.b, s.iface.as_deref())?;
        let what = match (&s.model, s.preset) {
            (_, Some(p)) => {
                link.impair_with(p.profile()).map_err(|e| e.to_string())?;
                format!("preset {p:?}")
            }
            (Some(m), None) => {
                let model = m.model();
                let text = model.to_string();
                link.impair(s.direction.direction(), model)
                    .map_err(|e| e.to_string())?;
                text
            }
            (None, None) => return Err("no model given".into()),
        };
        let dir = format!("{:?}", s.direction).to_lowercase();
        Ok(format!("wire {} impaired ({dir}): {what}", link.name()))
    }

    pub(super) fn unimpair(&mut self, s: &UnimpairStep) -> Result<String, String> {
        let link = self.link_of(&s.a, &s.b, s.iface.as_deref())?;
        link.unimpair(s.direction.direction())
            .map_err(|e| e.to_string())?;
        let dir = format!("{:?}", s.direction).to_lowercase();
        Ok(format!("wire {} unimpaired ({dir})", link.name()))
    }

    pub(super) fn route(&mut self, s: &RouteChangeStep) -> Result<String, String> {
        let mut r = Route::to(&s.to);
        if let Some(v) = &s.via {
            r = r.via(v);
        }
        if let Some(d) = &s.dev {
            r = r.dev(d);
        }
        let node = self.net.node(&s.node).map_err(|e| e.to_string())?;
        match s.action {
            RouteAction::Add => node.add_route(r),
            RouteAction::Replace => node.replace_route(r),
            RouteAction::Delete => node.delete_route(r),
        }
        .map_err(|e| e.to_string())?;
        Ok(format!("route {:?} {} in {}", s.action, s.to, s.node).to_lowercase())
    }
}
