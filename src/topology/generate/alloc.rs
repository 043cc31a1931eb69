//! The address allocator of generated labs.
//!
//! Every node `i` owns a block of 2^16 addresses, `2001:db8::` + `i` * 2^16
//! (a /112), so a range of node indices is a range of addresses that a few
//! aligned prefixes cover: routes towards many nodes aggregate. The link
//! between nodes `a` < `b` is a /127 in `a`'s block (RFC 6164: both
//! addresses usable): `a` holds the even address, `b` the odd one. Every
//! address a lab uses lies in the block of the node it belongs to or of that
//! node's neighbour, so routing towards blocks reaches every address.
//! Everything stays inside the documentation prefix 2001:db8::/32 (room
//! for 65,536 nodes, 32,768 links per node; the generators' limits, checked
//! before a lab is made, keep well inside both, so the checks below never
//! fail for a generated lab).

use std::net::Ipv6Addr;

use ipnet::Ipv6Net;

/// The first address of the documentation prefix.
const BASE: u128 = 0x2001_0db8_u128 << 96;
/// Bits of one node's block.
const BLOCK_BITS: u32 = 16;

/// The two ends of one link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LinkAddrs {
    pub(crate) a: Ipv6Net,
    pub(crate) b: Ipv6Net,
}

/// Addresses of the links of one generated lab.
#[derive(Debug, Clone)]
pub(crate) struct Allocator {
    links: Vec<LinkAddrs>,
}

/// 2001:db8::/96, which holds all 65,536 blocks the allocator has, so
/// every address it hands out.
pub(crate) fn all_blocks() -> Ipv6Net {
    Ipv6Net::new(Ipv6Addr::from(BASE), 128 - 2 * BLOCK_BITS as u8).expect("a /96")
}

fn block(node: usize) -> u128 {
    BASE + ((node as u128) << BLOCK_BITS)
}

impl Allocator {
    /// Allocates every link of `edges` (node pairs) among `nodes` nodes.
    pub(crate) fn new(edges: &[(usize, usize)], nodes: usize) -> Allocator {
        assert!(nodes <= 1 << 16, "the allocator has 65,536 blocks");
        let mut used = vec![0u128; nodes];
        let links = edges
            .iter()
            .map(|&(a, b)| {
                let lo = a.min(b);
                let off = used[lo];
                used[lo] += 2;
                assert!(off < 1 << BLOCK_BITS, "too many links on one node");
                let even = Ipv6Net::new(Ipv6Addr::from(block(lo) + off), 127).expect("/127");
                let odd = Ipv6Net::new(Ipv6Addr::from(block(lo) + off + 1), 127).expect("/127");
                let (ea, eb) = if a == lo { (even, odd) } else { (odd, even) };
                LinkAddrs { a: ea, b: eb }
            })
            .collect();
        Allocator { links }
    }

    /// The addresses of link `edge`, in the order of its nodes.
    pub(crate) fn link(&self, edge: usize) -> LinkAddrs {
        self.links[edge]
    }

    /// The fewest aligned prefixes that cover the blocks of nodes `first`
    /// to `last`.
    pub(crate) fn cover(&self, first: usize, last: usize) -> Vec<Ipv6Net> {
        let (mut lo, hi) = (block(first), block(last + 1));
        let mut out = Vec::new();
        while lo < hi {
            let align = lo.trailing_zeros().min(127);
            let fit = 127 - (hi - lo).leading_zeros();
            let bits = align.min(fit);
            out.push(Ipv6Net::new(Ipv6Addr::from(lo), (128 - bits) as u8).expect("a prefix"));
            lo += 1u128 << bits;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cover_is_exact_and_minimal_for_aligned_runs() {
        let a = Allocator::new(&[], 16);
        assert_eq!(
            a.cover(0, 15),
            ["2001:db8::/108".parse::<Ipv6Net>().unwrap()]
        );
        assert_eq!(
            a.cover(4, 4),
            ["2001:db8:0:0:0:0:4:0/112".parse::<Ipv6Net>().unwrap()]
        );
        let c = a.cover(1, 6);
        let total: u128 = c.iter().map(|p| 1u128 << (128 - p.prefix_len())).sum();
        assert_eq!(total, 6 << 16);
        assert_eq!(c.len(), 4, "{c:?}");
    }
}
