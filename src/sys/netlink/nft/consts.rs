//! The kernel's numbers for nf_tables objects and expressions, from
//! `include/uapi/linux/netfilter/nf_tables.h` and `nf_nat.h`, under the
//! kernel's names (a grep of the header checks them; the ones the `libc`
//! crate also has are checked against it in `tests_encoding.rs`).

/// `NFTA_LIST_ELEM`: one element of a list attribute.
pub(super) const NFTA_LIST_ELEM: u16 = 1;
/// `NFTA_EXPR_NAME`: the expression's type, a string.
pub(super) const NFTA_EXPR_NAME: u16 = 1;
/// `NFTA_EXPR_DATA`: the expression's own attributes.
pub(super) const NFTA_EXPR_DATA: u16 = 2;

/// `NFTA_TABLE_NAME`.
pub(super) const NFTA_TABLE_NAME: u16 = 1;

/// `NFTA_CHAIN_TABLE`.
pub(super) const NFTA_CHAIN_TABLE: u16 = 1;
/// `NFTA_CHAIN_NAME`.
pub(super) const NFTA_CHAIN_NAME: u16 = 3;
/// `NFTA_CHAIN_HOOK`: nested hook number and priority.
pub(super) const NFTA_CHAIN_HOOK: u16 = 4;
/// `NFTA_CHAIN_POLICY`: the base chain's verdict for what no rule decided.
pub(super) const NFTA_CHAIN_POLICY: u16 = 5;
/// `NFTA_CHAIN_TYPE`: `filter`, `nat`, `route`.
pub(super) const NFTA_CHAIN_TYPE: u16 = 7;
/// `NFTA_HOOK_HOOKNUM`.
pub(super) const NFTA_HOOK_HOOKNUM: u16 = 1;
/// `NFTA_HOOK_PRIORITY`.
pub(super) const NFTA_HOOK_PRIORITY: u16 = 2;
/// `NFTA_HOOK_DEV`: the one device of a `netdev` base chain.
pub(super) const NFTA_HOOK_DEV: u16 = 3;
/// `NFTA_HOOK_DEVS`: its devices, as nested `NFTA_DEVICE_NAME`s.
pub(super) const NFTA_HOOK_DEVS: u16 = 4;
/// `NFTA_DEVICE_NAME`.
pub(super) const NFTA_DEVICE_NAME: u16 = 1;

/// `NFTA_RULE_TABLE`.
pub(super) const NFTA_RULE_TABLE: u16 = 1;
/// `NFTA_RULE_CHAIN`.
pub(super) const NFTA_RULE_CHAIN: u16 = 2;
/// `NFTA_RULE_HANDLE`: a rule's number in its table, 64 bits.
pub(super) const NFTA_RULE_HANDLE: u16 = 3;
/// `NFTA_RULE_EXPRESSIONS`: the list of expressions.
pub(super) const NFTA_RULE_EXPRESSIONS: u16 = 4;
/// `NFTA_RULE_USERDATA`: opaque to the kernel; `nft` keeps comments there.
pub(super) const NFTA_RULE_USERDATA: u16 = 7;

/// `NFTA_SET_TABLE`.
pub(super) const NFTA_SET_TABLE: u16 = 1;
/// `NFTA_SET_NAME`.
pub(super) const NFTA_SET_NAME: u16 = 2;
/// `NFTA_SET_FLAGS`: `NFT_SET_*`.
pub(super) const NFTA_SET_FLAGS: u16 = 3;
/// `NFTA_SET_KEY_TYPE`: nftables' type number, concatenations packed.
pub(super) const NFTA_SET_KEY_TYPE: u16 = 4;
/// `NFTA_SET_KEY_LEN`: the key's length, each field padded to 4 bytes.
pub(super) const NFTA_SET_KEY_LEN: u16 = 5;
/// `NFTA_SET_DATA_TYPE`.
pub(super) const NFTA_SET_DATA_TYPE: u16 = 6;
/// `NFTA_SET_DATA_LEN`.
pub(super) const NFTA_SET_DATA_LEN: u16 = 7;
/// `NFTA_SET_DESC`: nested size (and field lengths).
pub(super) const NFTA_SET_DESC: u16 = 9;
/// `NFTA_SET_ID`: names the set to later messages of the same batch.
pub(super) const NFTA_SET_ID: u16 = 10;
/// `NFTA_SET_TIMEOUT`: the default timeout of elements, milliseconds.
pub(super) const NFTA_SET_TIMEOUT: u16 = 11;
/// `NFTA_SET_ELEM_LIST_TABLE`.
pub(super) const NFTA_SET_ELEM_LIST_TABLE: u16 = 1;
/// `NFTA_SET_ELEM_LIST_SET`.
pub(super) const NFTA_SET_ELEM_LIST_SET: u16 = 2;
/// `NFTA_SET_ELEM_LIST_ELEMENTS`: the elements, each an `NFTA_LIST_ELEM`.
pub(super) const NFTA_SET_ELEM_LIST_ELEMENTS: u16 = 3;
/// `NFTA_SET_ELEM_LIST_SET_ID`: a set made earlier in the same batch.
pub(super) const NFTA_SET_ELEM_LIST_SET_ID: u16 = 4;
/// `NFTA_SET_ELEM_KEY`: an element's key, as nested `NFTA_DATA_VALUE`.
pub(super) const NFTA_SET_ELEM_KEY: u16 = 1;
/// `NFTA_SET_DESC_SIZE`.
pub(super) const NFTA_SET_DESC_SIZE: u16 = 1;
/// `NFT_SET_MAP`.
pub(super) const NFT_SET_MAP: u32 = 0x8;
/// `NFT_SET_TIMEOUT`.
pub(super) const NFT_SET_TIMEOUT: u32 = 0x10;
/// `NFT_SET_EVAL`: `flags dynamic`.
pub(super) const NFT_SET_EVAL: u32 = 0x20;
/// `TYPE_BITS` of nftables: a concatenation's type is its members' types
/// shifted by this many bits each.
pub(super) const TYPE_BITS: u32 = 6;

/// `NFTA_META_DREG`.
pub(super) const NFTA_META_DREG: u16 = 1;
/// `NFTA_META_KEY`.
pub(super) const NFTA_META_KEY: u16 = 2;
/// `NFT_META_IIFNAME`: the input interface's name, `IFNAMSIZ` bytes.
pub(super) const NFT_META_IIFNAME: u32 = 6;
/// `NFT_META_OIFNAME`: the output interface's name.
pub(super) const NFT_META_OIFNAME: u32 = 7;
/// `NFT_META_NFPROTO`: the packet's family (`NFPROTO_*`), one byte.
pub(super) const NFT_META_NFPROTO: u32 = 15;
/// `NFT_META_L4PROTO`: the transport protocol number, one byte.
pub(super) const NFT_META_L4PROTO: u32 = 16;

/// `NFTA_PAYLOAD_DREG`.
pub(super) const NFTA_PAYLOAD_DREG: u16 = 1;
/// `NFTA_PAYLOAD_BASE`.
pub(super) const NFTA_PAYLOAD_BASE: u16 = 2;
/// `NFTA_PAYLOAD_OFFSET`.
pub(super) const NFTA_PAYLOAD_OFFSET: u16 = 3;
/// `NFTA_PAYLOAD_LEN`.
pub(super) const NFTA_PAYLOAD_LEN: u16 = 4;
/// `NFT_PAYLOAD_LL_HEADER`: the link layer (Ethernet) header.
pub(super) const NFT_PAYLOAD_LL_HEADER: u32 = 0;
/// `NFT_PAYLOAD_NETWORK_HEADER`.
pub(super) const NFT_PAYLOAD_NETWORK_HEADER: u32 = 1;
/// `NFT_PAYLOAD_TRANSPORT_HEADER`.
pub(super) const NFT_PAYLOAD_TRANSPORT_HEADER: u32 = 2;

/// `NFTA_CMP_SREG`.
pub(super) const NFTA_CMP_SREG: u16 = 1;
/// `NFTA_CMP_OP`.
pub(super) const NFTA_CMP_OP: u16 = 2;
/// `NFTA_CMP_DATA`.
pub(super) const NFTA_CMP_DATA: u16 = 3;
/// `NFT_CMP_EQ`.
pub(super) const NFT_CMP_EQ: u32 = 0;
/// `NFT_CMP_NEQ`.
pub(super) const NFT_CMP_NEQ: u32 = 1;
/// `NFT_CMP_LTE`.
pub(super) const NFT_CMP_LTE: u32 = 3;
/// `NFT_CMP_GTE`.
pub(super) const NFT_CMP_GTE: u32 = 5;

/// `NFTA_BITWISE_SREG`.
pub(super) const NFTA_BITWISE_SREG: u16 = 1;
/// `NFTA_BITWISE_DREG`.
pub(super) const NFTA_BITWISE_DREG: u16 = 2;
/// `NFTA_BITWISE_LEN`.
pub(super) const NFTA_BITWISE_LEN: u16 = 3;
/// `NFTA_BITWISE_MASK`.
pub(super) const NFTA_BITWISE_MASK: u16 = 4;
/// `NFTA_BITWISE_XOR`.
pub(super) const NFTA_BITWISE_XOR: u16 = 5;

/// `NFTA_IMMEDIATE_DREG`.
pub(super) const NFTA_IMMEDIATE_DREG: u16 = 1;
/// `NFTA_IMMEDIATE_DATA`.
pub(super) const NFTA_IMMEDIATE_DATA: u16 = 2;

/// `NFTA_DATA_VALUE`: plain bytes.
pub(super) const NFTA_DATA_VALUE: u16 = 1;
/// `NFTA_DATA_VERDICT`: a verdict.
pub(super) const NFTA_DATA_VERDICT: u16 = 2;
/// `NFTA_VERDICT_CODE`.
pub(super) const NFTA_VERDICT_CODE: u16 = 1;

/// `NFTA_COUNTER_BYTES`.
pub(super) const NFTA_COUNTER_BYTES: u16 = 1;
/// `NFTA_COUNTER_PACKETS`.
pub(super) const NFTA_COUNTER_PACKETS: u16 = 2;

/// `NFTA_CT_DREG`.
pub(super) const NFTA_CT_DREG: u16 = 1;
/// `NFTA_CT_KEY`.
pub(super) const NFTA_CT_KEY: u16 = 2;
/// `NFTA_CT_DIRECTION`: one byte, 0 original, 1 reply.
pub(super) const NFTA_CT_DIRECTION: u16 = 3;
/// `NFT_CT_STATE`: the `ct state` bits.
pub(super) const NFT_CT_STATE: u32 = 0;
/// `NFT_CT_STATUS`: the `IPS_*` bits.
pub(super) const NFT_CT_STATUS: u32 = 2;
/// `NFT_CT_PROTO_SRC`: a direction's source port.
pub(super) const NFT_CT_PROTO_SRC: u32 = 11;
/// `NFT_CT_SRC_IP`: a direction's IPv4 source.
pub(super) const NFT_CT_SRC_IP: u32 = 19;
/// `NFT_CT_SRC_IP6`: a direction's IPv6 source.
pub(super) const NFT_CT_SRC_IP6: u32 = 21;

/// `NFTA_LOOKUP_SET`.
pub(super) const NFTA_LOOKUP_SET: u16 = 1;
/// `NFTA_LOOKUP_SREG`.
pub(super) const NFTA_LOOKUP_SREG: u16 = 2;
/// `NFTA_LOOKUP_DREG`: a map's data goes there.
pub(super) const NFTA_LOOKUP_DREG: u16 = 3;
/// `NFTA_LOOKUP_SET_ID`.
pub(super) const NFTA_LOOKUP_SET_ID: u16 = 4;
/// `NFTA_LOOKUP_FLAGS`: `NFT_LOOKUP_F_INV` (`!= @set`).
pub(super) const NFTA_LOOKUP_FLAGS: u16 = 5;
/// `NFT_LOOKUP_F_INV`: the lookup matches when the key is absent.
pub(super) const NFT_LOOKUP_F_INV: u32 = 1;

/// `NFTA_DYNSET_SET_NAME`.
pub(super) const NFTA_DYNSET_SET_NAME: u16 = 1;
/// `NFTA_DYNSET_SET_ID`.
pub(super) const NFTA_DYNSET_SET_ID: u16 = 2;
/// `NFTA_DYNSET_OP`.
pub(super) const NFTA_DYNSET_OP: u16 = 3;
/// `NFTA_DYNSET_SREG_KEY`.
pub(super) const NFTA_DYNSET_SREG_KEY: u16 = 4;
/// `NFTA_DYNSET_SREG_DATA`.
pub(super) const NFTA_DYNSET_SREG_DATA: u16 = 5;
/// `NFTA_DYNSET_TIMEOUT`: a timeout of the statement's own.
pub(super) const NFTA_DYNSET_TIMEOUT: u16 = 6;
/// `NFTA_DYNSET_EXPR`: an expression attached to the element.
pub(super) const NFTA_DYNSET_EXPR: u16 = 7;
/// `NFTA_DYNSET_EXPRESSIONS`: expressions attached to the element.
pub(super) const NFTA_DYNSET_EXPRESSIONS: u16 = 10;
/// `NFT_DYNSET_OP_UPDATE`: add, or refresh the timeout.
pub(super) const NFT_DYNSET_OP_UPDATE: u32 = 1;
/// `NFT_DYNSET_OP_DELETE`: remove the element.
pub(super) const NFT_DYNSET_OP_DELETE: u32 = 2;

/// `NFTA_NAT_TYPE`.
pub(super) const NFTA_NAT_TYPE: u16 = 1;
/// `NFTA_NAT_FAMILY`.
pub(super) const NFTA_NAT_FAMILY: u16 = 2;
/// `NFTA_NAT_REG_ADDR_MIN`.
pub(super) const NFTA_NAT_REG_ADDR_MIN: u16 = 3;
/// `NFTA_NAT_REG_ADDR_MAX`.
pub(super) const NFTA_NAT_REG_ADDR_MAX: u16 = 4;
/// `NFTA_NAT_REG_PROTO_MIN`.
pub(super) const NFTA_NAT_REG_PROTO_MIN: u16 = 5;
/// `NFTA_NAT_REG_PROTO_MAX`.
pub(super) const NFTA_NAT_REG_PROTO_MAX: u16 = 6;
/// `NFTA_NAT_FLAGS`.
pub(super) const NFTA_NAT_FLAGS: u16 = 7;
/// `NFT_NAT_SNAT`.
pub(super) const NFT_NAT_SNAT: u32 = 0;
/// `NFT_NAT_DNAT`.
pub(super) const NFT_NAT_DNAT: u32 = 1;
/// `NF_NAT_RANGE_PROTO_SPECIFIED`: ports are given.
pub(super) const NF_NAT_RANGE_PROTO_SPECIFIED: u32 = 1 << 1;
/// `NF_NAT_RANGE_PROTO_RANDOM`: `random`.
pub(super) const NF_NAT_RANGE_PROTO_RANDOM: u32 = 1 << 2;
/// `NF_NAT_RANGE_PERSISTENT`: `persistent`.
pub(super) const NF_NAT_RANGE_PERSISTENT: u32 = 1 << 3;
/// `NF_NAT_RANGE_PROTO_RANDOM_FULLY`: `fully-random`.
pub(super) const NF_NAT_RANGE_PROTO_RANDOM_FULLY: u32 = 1 << 4;

/// `NFTA_MASQ_FLAGS`.
pub(super) const NFTA_MASQ_FLAGS: u16 = 1;
/// `NFTA_MASQ_REG_PROTO_MIN`.
pub(super) const NFTA_MASQ_REG_PROTO_MIN: u16 = 2;
/// `NFTA_MASQ_REG_PROTO_MAX`.
pub(super) const NFTA_MASQ_REG_PROTO_MAX: u16 = 3;

/// `NFTA_REJECT_TYPE`.
pub(super) const NFTA_REJECT_TYPE: u16 = 1;
/// `NFTA_REJECT_ICMP_CODE`: one byte.
pub(super) const NFTA_REJECT_ICMP_CODE: u16 = 2;
/// `NFT_REJECT_TCP_RST`.
pub(super) const NFT_REJECT_TCP_RST: u32 = 1;
/// `NFT_REJECT_ICMPX_UNREACH`: an ICMP or ICMPv6 error by the packet's family.
pub(super) const NFT_REJECT_ICMPX_UNREACH: u32 = 2;

/// `NFTA_LIMIT_RATE`.
pub(super) const NFTA_LIMIT_RATE: u16 = 1;
/// `NFTA_LIMIT_UNIT`: seconds.
pub(super) const NFTA_LIMIT_UNIT: u16 = 2;
/// `NFTA_LIMIT_BURST`.
pub(super) const NFTA_LIMIT_BURST: u16 = 3;
/// `NFTA_LIMIT_TYPE`.
pub(super) const NFTA_LIMIT_TYPE: u16 = 4;
/// `NFTA_LIMIT_FLAGS`.
pub(super) const NFTA_LIMIT_FLAGS: u16 = 5;
/// `NFT_LIMIT_PKTS`.
pub(super) const NFT_LIMIT_PKTS: u32 = 0;
/// `NFT_LIMIT_F_INV`: `over`.
pub(super) const NFT_LIMIT_F_INV: u32 = 1;

/// `NFT_REG_VERDICT`: the register a verdict is written to.
pub(super) const NFT_REG_VERDICT: u32 = 0;
/// `NFT_REG_1`: the first 16-byte data register, the one `nft` uses.
pub(super) const NFT_REG_1: u32 = 1;
/// `NFT_REG_2`.
pub(super) const NFT_REG_2: u32 = 2;
/// `NFT_REG32_00`: the first 4-byte register (the start of `NFT_REG_1`).
pub(super) const NFT_REG32_00: u32 = 8;

/// `NFTNL_UDATA_RULE_COMMENT`: the type of a comment in a rule's user data
/// (libnftnl's TLVs: type, length, value; the value NUL-terminated).
pub(super) const UDATA_RULE_COMMENT: u8 = 0;
/// The longest comment `nft` accepts (`NFTNL_UDATA_COMMENT_MAXLEN`).
pub(super) const COMMENT_MAX: usize = 128;

/// `IFNAMSIZ`: interface names are compared as this many bytes, NUL-padded.
pub(super) const IFNAMSIZ: usize = 16;

/// `IPPROTO_ICMPV6`: the `meta l4proto` of an `icmpv6 type` match.
pub(super) const IPPROTO_ICMPV6: u8 = 58;

/// Where an Ethernet header holds its type, and the type of IPv6.
pub(super) const ETHER_TYPE_OFFSET: u32 = 12;
pub(super) const ETHER_TYPE_IPV6: u16 = 0x86dd;
