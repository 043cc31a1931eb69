//! The assertion macros and the functions they call.

use super::{AssertFailure, Matrix, MatrixFailure};

/// What the macros call: the value on success, a panic with the failure's
/// `Display` otherwise. Not a public API.
#[doc(hidden)]
#[track_caller]
pub fn finish<T>(result: Result<T, AssertFailure>, message: Option<String>) -> T {
    match result {
        Ok(v) => v,
        Err(f) => {
            let f = match message {
                Some(m) => f.with_message(m),
                None => f,
            };
            panic!("{f}")
        }
    }
}

/// Asserts that a node gets at least one echo reply from a destination.
///
/// ```text
/// assert_reachable!(net["h1"] => "203.0.113.1");
/// assert_reachable!(net["h1"] => "h2");                    // a node name: its first own address
/// assert_reachable!(net["h1"] => ip, "after {} s", secs); // an IpAddr, and a message
/// assert_reachable!(node => "203.0.113.1");               // any &Node / Node expression
/// ```
///
/// The `net["name"]` form (where `net` is a [`Net`](crate::Net), a `&Net`,
/// or a path like `self.net` to one) lets the failure message report the
/// destination's node too. Sends [`assert::default_ping`](crate::assert::default_ping);
/// evaluates to the [`PingReport`](crate::probe::PingReport). On failure it
/// panics with an [`AssertFailure`](crate::assert::AssertFailure): the ping
/// report, then each involved node's addresses, routes and neighbours.
///
/// ```
/// use netns_test::{assert_reachable, Net, Topology};
/// let net = Net::build(&Topology::new().link(("n1", "e0", "198.51.100.1/24"), ("n2", "e0", "198.51.100.2/24")))?;
/// let report = assert_reachable!(net["n1"] => "198.51.100.2");
/// assert_eq!(report.received, 3);
/// let n2 = &net["n2"];
/// assert_reachable!(n2 => std::net::Ipv4Addr::new(198, 51, 100, 1), "n2 sees n1");
/// # Ok::<(), netns_test::Error>(())
/// ```
#[macro_export]
macro_rules! assert_reachable {
    ($($net:ident).+ [ $src:expr ] => $dst:expr $(,)?) => {
        $crate::__private::finish($crate::assert::reachable($crate::__assert_source!($($net).+ [$src]), $dst), ::core::option::Option::None)
    };
    ($($net:ident).+ [ $src:expr ] => $dst:expr, $($arg:tt)+) => {
        $crate::__private::finish($crate::assert::reachable($crate::__assert_source!($($net).+ [$src]), $dst), ::core::option::Option::Some(::std::format!($($arg)+)))
    };
    ($node:expr => $dst:expr $(,)?) => {
        $crate::__private::finish($crate::assert::reachable($crate::__assert_node!($node), $dst), ::core::option::Option::None)
    };
    ($node:expr => $dst:expr, $($arg:tt)+) => {
        $crate::__private::finish($crate::assert::reachable($crate::__assert_node!($node), $dst), ::core::option::Option::Some(::std::format!($($arg)+)))
    };
}

/// Asserts that a node gets no echo reply from a destination.
///
/// The same forms as [`assert_reachable!`](crate::assert_reachable).
/// Silence is only known after the ping's timeout (1 s with
/// [`assert::default_ping`](crate::assert::default_ping)), unless an ICMP
/// error or a failed send ends it sooner. Evaluates to the
/// [`PingReport`](crate::probe::PingReport), whose `errors` tell how the
/// packets were refused.
///
/// ```
/// use netns_test::{assert_unreachable, Net, Topology};
/// let net = Net::build(&Topology::new().link(("n1", "e0", "198.51.100.1/24"), ("n2", "e0", "198.51.100.2/24")))?;
/// let report = assert_unreachable!(net["n1"] => "203.0.113.1", "n1 has no route there");
/// assert_eq!(report.errors.len(), 3); // three failed sends: Network is unreachable
/// # Ok::<(), netns_test::Error>(())
/// ```
#[macro_export]
macro_rules! assert_unreachable {
    ($($net:ident).+ [ $src:expr ] => $dst:expr $(,)?) => {
        $crate::__private::finish($crate::assert::unreachable($crate::__assert_source!($($net).+ [$src]), $dst), ::core::option::Option::None)
    };
    ($($net:ident).+ [ $src:expr ] => $dst:expr, $($arg:tt)+) => {
        $crate::__private::finish($crate::assert::unreachable($crate::__assert_source!($($net).+ [$src]), $dst), ::core::option::Option::Some(::std::format!($($arg)+)))
    };
    ($node:expr => $dst:expr $(,)?) => {
        $crate::__private::finish($crate::assert::unreachable($crate::__assert_node!($node), $dst), ::core::option::Option::None)
    };
    ($node:expr => $dst:expr, $($arg:tt)+) => {
        $crate::__private::finish($crate::assert::unreachable($crate::__assert_node!($node), $dst), ::core::option::Option::Some(::std::format!($($arg)+)))
    };
}

/// Asserts the route a node's packets take to a destination, hop by hop,
/// by node name.
///
/// ```text
/// assert_path!(net["h1"] => "203.0.113.1", via ["r1", "r2"]);
/// assert_path!(net["h1"] => "203.0.113.1", via ["r1", "r2"], "after {}", what);
/// assert_path!(net["h1"] => "198.51.100.2", via []);      // directly connected
/// assert_path!(net["h1"] => "h2", via [name_of_r1]);      // any AsRef<str>
/// ```
///
/// The destination's node is implied as the last hop. A hop matches only
/// if every router that answered its probes is the expected one: traffic
/// split between the expected router and another fails, naming the other;
/// a hop nobody answered (`*`) fails too. See
/// [`assert::path`](crate::assert::path) for the rules and the failure
/// message (expected vs actual, each differing hop, the traceroute, and every
/// node's report). Evaluates to the
/// [`TraceReport`](crate::probe::TraceReport).
///
/// ```
/// use netns_test::{assert_path, Net, Route, Topology};
/// let net = Net::build(
///     &Topology::new()
///         .link(("h1", "eth0", "2001:db8:1::1/64"), ("r1", "eth0", "2001:db8:1::fe/64"))
///         .link(("r1", "eth1", "2001:db8:2::fe/64"), ("h2", "eth0", "2001:db8:2::1/64"))
///         .forwarding("r1")
///         .route("h1", Route::default_via("2001:db8:1::fe"))
///         .route("h2", Route::default_via("2001:db8:2::fe")),
/// )?;
/// let trace = assert_path!(net["h1"] => "2001:db8:2::1", via ["r1"]);
/// assert_eq!(trace.hops.len(), 2);
/// # Ok::<(), netns_test::Error>(())
/// ```
#[macro_export]
macro_rules! assert_path {
    ($($net:ident).+ [ $src:expr ] => $dst:expr, via [ $($hop:expr),* $(,)? ] $(,)?) => {
        $crate::__private::finish($crate::assert::path($crate::__assert_source!($($net).+ [$src]), $dst, &[$(::core::convert::AsRef::<str>::as_ref(&$hop)),*] as &[&str]), ::core::option::Option::None)
    };
    ($($net:ident).+ [ $src:expr ] => $dst:expr, via [ $($hop:expr),* $(,)? ], $($arg:tt)+) => {
        $crate::__private::finish($crate::assert::path($crate::__assert_source!($($net).+ [$src]), $dst, &[$(::core::convert::AsRef::<str>::as_ref(&$hop)),*] as &[&str]), ::core::option::Option::Some(::std::format!($($arg)+)))
    };
    ($node:expr => $dst:expr, via [ $($hop:expr),* $(,)? ] $(,)?) => {
        $crate::__private::finish($crate::assert::path($crate::__assert_node!($node), $dst, &[$(::core::convert::AsRef::<str>::as_ref(&$hop)),*] as &[&str]), ::core::option::Option::None)
    };
    ($node:expr => $dst:expr, via [ $($hop:expr),* $(,)? ], $($arg:tt)+) => {
        $crate::__private::finish($crate::assert::path($crate::__assert_node!($node), $dst, &[$(::core::convert::AsRef::<str>::as_ref(&$hop)),*] as &[&str]), ::core::option::Option::Some(::std::format!($($arg)+)))
    };
}

/// Asserts that every node reaches every other node (Mininet's `pingall`),
/// except the declared pairs.
///
/// ```text
/// assert_connectivity!(net);
/// assert_connectivity!(net, except [("h1", "h3")]);            // both directions
/// assert_connectivity!(net, except [("h1", "h3")], "after {}", what);
/// ```
///
/// A thin wrapper around [`Net::connectivity`](crate::Net::connectivity)
/// `.except(..).check()`: see there for what is probed. Evaluates to the
/// [`Matrix`](crate::assert::Matrix); on failure it panics with the
/// [`MatrixFailure`](crate::assert::MatrixFailure): the table, each failed
/// cell and the reports of the nodes involved.
///
/// ```
/// use netns_test::{assert_connectivity, Net, Topology};
/// let net = Net::build(&Topology::new().bridge("sw", [
///     ("h1", "eth0", "198.51.100.1/24"),
///     ("h2", "eth0", "198.51.100.2/24"),
///     ("h3", "eth0", "198.51.100.3/24"),
/// ]))?;
/// let m = assert_connectivity!(net);
/// assert!(m.to_string().ends_with("*** Results: 0% dropped (6/6 received)"));
/// # Ok::<(), netns_test::Error>(())
/// ```
#[macro_export]
macro_rules! assert_connectivity {
    ($net:expr $(,)?) => {
        $crate::__private::finish_matrix($crate::__connectivity!($net;), ::core::option::Option::None)
    };
    ($net:expr, except [ $(($a:expr, $b:expr)),* $(,)? ] $(,)?) => {
        $crate::__private::finish_matrix($crate::__connectivity!($net; $(($a, $b))*), ::core::option::Option::None)
    };
    ($net:expr, except [ $(($a:expr, $b:expr)),* $(,)? ], $($arg:tt)+) => {
        $crate::__private::finish_matrix(
            $crate::__connectivity!($net; $(($a, $b))*),
            ::core::option::Option::Some(::std::format!($($arg)+)),
        )
    };
    ($net:expr, $($arg:tt)+) => {
        $crate::__private::finish_matrix($crate::__connectivity!($net;), ::core::option::Option::Some(::std::format!($($arg)+)))
    };
}

/// The matrix check of `assert_connectivity!`. Not a public API.
#[doc(hidden)]
#[macro_export]
macro_rules! __connectivity {
    ($net:expr; $(($a:expr, $b:expr))*) => {{
        let __net: &$crate::Net = &$net;
        __net.connectivity()$(.except($a, $b))*.check()
    }};
}

/// What the matrix macro calls. Not a public API.
#[doc(hidden)]
#[track_caller]
pub fn finish_matrix(result: Result<Matrix, MatrixFailure>, message: Option<String>) -> Matrix {
    match result {
        Ok(m) => m,
        Err(f) => match message {
            Some(m) => panic!("assert_connectivity! failed: {m}\n{f}"),
            None => panic!("assert_connectivity! failed\n{f}"),
        },
    }
}

/// A `Node`, `&Node` or `&&Node` expression as a `&Node`. Not a public API.
#[doc(hidden)]
#[macro_export]
macro_rules! __assert_node {
    ($node:expr) => {{
        let __node: &$crate::Node = &$node;
        __node
    }};
}

/// `net["h1"]` as a [`Source`] of that network. Not a public API.
#[doc(hidden)]
#[macro_export]
macro_rules! __assert_source {
    ($($net:ident).+ [ $src:expr ]) => {{
        let __net: &$crate::Net = &$($net).+;
        $crate::assert::Source::with_net(__net, &__net[$src])
    }};
}
