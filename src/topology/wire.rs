//! Wires in a topology: a link whose two ends are joined by the lab's relay
//! instead of directly, with a model of what each direction does to frames.

use super::{Endpoint, Topology};
use crate::impairment::{Impairment, Profile};

/// What an end of a wire asks of its two directions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct WireEnd {
    /// Frames this end sends.
    pub(crate) egress: Option<Impairment>,
    /// Frames this end receives.
    pub(crate) ingress: Option<Impairment>,
}

impl Endpoint {
    /// Makes this end's link a wire instead of a plain veth pair: each node
    /// still gets a veth interface, but frames between them pass through the
    /// lab's relay thread, which can delay, lose,
    /// reorder, duplicate, corrupt, rate-limit and hold frames (see
    /// [`crate::wire`]). Either end of a link can say so; for a bridge
    /// member, the wire joins it to the bridge.
    pub fn wire(mut self) -> Self {
        self.wire.get_or_insert_with(WireEnd::default);
        self
    }

    /// Makes the link a wire, with `model` on the frames this end sends.
    pub fn egress(mut self, model: Impairment) -> Self {
        self.wire.get_or_insert_with(WireEnd::default).egress = Some(model);
        self
    }

    /// Makes the link a wire, with `model` on the frames this end receives.
    pub fn ingress(mut self, model: Impairment) -> Self {
        self.wire.get_or_insert_with(WireEnd::default).ingress = Some(model);
        self
    }
}

impl Topology {
    /// A wire between two nodes: like [`link`](Topology::link), but the ends
    /// are joined through the lab's relay, so its frames can be
    /// impaired, held and filtered at run time (see [`crate::wire`]). It is
    /// L2: ARP, neighbour discovery, IPv6 and bridges work as on a veth.
    ///
    /// ```
    /// # use netns_test::Topology;
    /// let t = Topology::new().wire(
    ///     ("n1", "eth0", "198.51.100.1/24"),
    ///     ("n2", "eth0", "198.51.100.2/24"),
    /// );
    /// # t.validate().unwrap();
    /// ```
    pub fn wire(self, a: impl Into<Endpoint>, b: impl Into<Endpoint>) -> Self {
        self.link(a.into().wire(), b)
    }

    /// A wire whose directions start with `profile`: `forward` on what `a`
    /// sends, `backward` on what it receives.
    ///
    /// ```
    /// use netns_test::wire::Profile;
    /// # use netns_test::Topology;
    /// let t = Topology::new().wire_with(
    ///     ("phone", "wlan0", "198.51.100.1/24"),
    ///     ("server", "eth0", "198.51.100.2/24"),
    ///     Profile::lte(),
    /// );
    /// # t.validate().unwrap();
    /// ```
    pub fn wire_with(
        self,
        a: impl Into<Endpoint>,
        b: impl Into<Endpoint>,
        profile: Profile,
    ) -> Self {
        self.link(
            a.into().egress(profile.forward).ingress(profile.backward),
            b,
        )
    }

    /// The seed of every random choice of the lab's wires, unless the
    /// `NETNS_TEST_SEED` variable gives another (to replay a failure).
    /// Without either, a lab draws a seed of its own, shown by
    /// [`Net::seed`](crate::Net::seed) and in assertion failures.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }
}
