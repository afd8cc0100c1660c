//! The engine's rules: one nftables table of its own (`ip vessel`),
//! written whole in one transaction through nft's JSON interface (the
//! `nftables` crate) whenever a network or a published port comes or
//! goes. Nothing outside that table is touched.
//!
//! - `prerouting`, `output` (nat): packets to one of the host's own
//!   addresses (127.0.0.1 included) jump to `ports`, where each published
//!   port is a DNAT to its container.
//! - `postrouting` (nat): each network's traffic leaving the host by
//!   another interface is masqueraded (unless internal, or asked not to
//!   be); so are packets that reach a bridge from 127.0.0.1 (a published
//!   port used from the host) and packets a container sends to a published
//!   port of its own network (hairpin).
//! - `forward` (filter, policy accept): no traffic between two networks,
//!   none in or out of an internal one, except to published ports.

use std::borrow::Cow;
use std::net::Ipv4Addr;

use nftables::expr::{Expression, Fib, FibFlag, FibResult, Meta, MetaKey, NamedExpression};
use nftables::expr::{Payload, PayloadField, Prefix, SetItem, CT};
use nftables::schema::{Chain, NfCmd, NfListObject, NfObject, Nftables, Rule, Table};
use nftables::stmt::{JumpTarget, Match, Operator, Statement, NAT};
use nftables::types::{NfChainPolicy, NfChainType, NfFamily, NfHook};

use super::ipam::Subnet;

/// What the rules need to know of a network.
#[derive(Debug, Clone, PartialEq)]
pub struct NetRules {
    pub bridge: String,
    pub subnet: Subnet,
    pub masquerade: bool,
    pub internal: bool,
}

/// A published port: packets for `host_ip:host_port` (any of the host's
/// addresses when `host_ip` is none) go to `to:port`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Forward {
    pub proto: String,
    pub host_ip: Option<Ipv4Addr>,
    pub host_port: u16,
    pub to: Ipv4Addr,
    pub port: u16,
}

/// The whole table, as one transaction: made if missing, emptied, and
/// filled again.
pub fn ruleset<'a>(table: &'a str, nets: &'a [NetRules], forwards: &'a [Forward]) -> Nftables<'a> {
    let mut objects = vec![
        add(NfListObject::Table(table_of(table))),
        NfObject::CmdObject(NfCmd::Flush(nftables::schema::FlushObject::Table(
            table_of(table),
        ))),
    ];
    let base = |name: &'a str, typ, hook, prio| Chain {
        family: NfFamily::IP,
        table: table.into(),
        name: name.into(),
        _type: Some(typ),
        hook: Some(hook),
        prio: Some(prio),
        policy: Some(NfChainPolicy::Accept),
        ..Default::default()
    };
    for chain in [
        base("prerouting", NfChainType::NAT, NfHook::Prerouting, -100),
        base("output", NfChainType::NAT, NfHook::Output, -100),
        base("postrouting", NfChainType::NAT, NfHook::Postrouting, 100),
        base("forward", NfChainType::Filter, NfHook::Forward, 0),
        Chain {
            family: NfFamily::IP,
            table: table.into(),
            name: "ports".into(),
            ..Default::default()
        },
    ] {
        objects.push(add(NfListObject::Chain(chain)));
    }
    let rule = |chain: &'a str, expr: Vec<Statement<'a>>| {
        add(NfListObject::Rule(Rule {
            family: NfFamily::IP,
            table: table.into(),
            chain: chain.into(),
            expr: Cow::Owned(expr),
            handle: None,
            index: None,
            comment: None,
        }))
    };
    for chain in ["prerouting", "output"] {
        let local = is(fib_daddr_type(), text("local"));
        let jump = Statement::Jump(JumpTarget {
            target: "ports".into(),
        });
        objects.push(rule(chain, vec![local, jump]));
    }
    for f in forwards {
        objects.push(rule("ports", forward_rule(f)));
    }
    for n in nets {
        objects.extend(network_rules(n, nets).into_iter().map(|(c, e)| rule(c, e)));
    }
    Nftables {
        objects: Cow::Owned(objects),
    }
}

/// The statement list that removes the table (made first, so that its
/// absence is no error).
pub fn removal(table: &str) -> Nftables<'_> {
    Nftables {
        objects: Cow::Owned(vec![
            add(NfListObject::Table(table_of(table))),
            NfObject::CmdObject(NfCmd::Delete(NfListObject::Table(table_of(table)))),
        ]),
    }
}

fn forward_rule(f: &Forward) -> Vec<Statement<'static>> {
    let mut e = Vec::new();
    if let Some(ip) = f.host_ip {
        e.push(is(payload("ip", "daddr"), text(ip.to_string())));
    }
    e.push(is(
        payload(f.proto.clone(), "dport"),
        Expression::Number(f.host_port.into()),
    ));
    e.push(Statement::DNAT(Some(NAT {
        addr: Some(text(f.to.to_string())),
        family: None,
        port: Some(Expression::Number(f.port.into())),
        flags: None,
    })));
    e
}

fn network_rules<'a>(n: &'a NetRules, all: &'a [NetRules]) -> Vec<(&'a str, Vec<Statement<'a>>)> {
    let br = || text(n.bridge.clone());
    let saddr = || payload("ip", "saddr");
    let subnet = || prefix(&n.subnet);
    let mut rules = Vec::new();
    if n.masquerade {
        rules.push((
            "postrouting",
            vec![
                is(saddr(), subnet()),
                not(meta(MetaKey::Oifname), br()),
                masquerade(),
            ],
        ));
    }
    rules.push((
        "postrouting",
        vec![
            is(meta(MetaKey::Oifname), br()),
            is(
                saddr(),
                prefix(&Subnet::new(Ipv4Addr::new(127, 0, 0, 0), 8)),
            ),
            masquerade(),
        ],
    ));
    rules.push((
        "postrouting",
        vec![
            is(saddr(), subnet()),
            is(payload("ip", "daddr"), subnet()),
            ct_dnat(),
            masquerade(),
        ],
    ));
    // Isolation: published ports stay reachable (as through Docker's
    // proxy); nothing else crosses.
    let drop = Statement::Drop(None);
    if n.internal {
        rules.push((
            "forward",
            vec![
                is(meta(MetaKey::Iifname), br()),
                not(meta(MetaKey::Oifname), br()),
                drop.clone(),
            ],
        ));
        rules.push((
            "forward",
            vec![
                is(meta(MetaKey::Oifname), br()),
                not(meta(MetaKey::Iifname), br()),
                drop.clone(),
            ],
        ));
    }
    let others: Vec<SetItem> = all
        .iter()
        .filter(|o| o.bridge != n.bridge)
        .map(|o| SetItem::Element(text(o.bridge.clone())))
        .collect();
    if !others.is_empty() {
        let to_others = is(
            meta(MetaKey::Oifname),
            Expression::Named(NamedExpression::Set(others)),
        );
        rules.push((
            "forward",
            vec![
                is(meta(MetaKey::Iifname), br()),
                to_others.clone(),
                ct_dnat(),
                Statement::Accept(None),
            ],
        ));
        rules.push((
            "forward",
            vec![is(meta(MetaKey::Iifname), br()), to_others, drop],
        ));
    }
    rules
}

fn add(obj: NfListObject<'_>) -> NfObject<'_> {
    NfObject::CmdObject(NfCmd::Add(obj))
}

fn table_of(name: &str) -> Table<'_> {
    Table {
        family: NfFamily::IP,
        name: name.into(),
        handle: None,
    }
}

fn text<'a>(s: impl Into<Cow<'a, str>>) -> Expression<'a> {
    Expression::String(s.into())
}

fn payload<'a>(protocol: impl Into<Cow<'a, str>>, field: &'a str) -> Expression<'a> {
    Expression::Named(NamedExpression::Payload(Payload::PayloadField(
        PayloadField {
            protocol: protocol.into(),
            field: field.into(),
        },
    )))
}

fn prefix(s: &Subnet) -> Expression<'static> {
    Expression::Named(NamedExpression::Prefix(Prefix {
        addr: Box::new(text(s.addr.to_string())),
        len: s.len.into(),
    }))
}

fn meta(key: MetaKey) -> Expression<'static> {
    Expression::Named(NamedExpression::Meta(Meta { key }))
}

fn fib_daddr_type() -> Expression<'static> {
    Expression::Named(NamedExpression::Fib(Fib {
        result: FibResult::Type,
        flags: [FibFlag::Daddr].into_iter().collect(),
    }))
}

fn is<'a>(left: Expression<'a>, right: Expression<'a>) -> Statement<'a> {
    Statement::Match(Match {
        left,
        right,
        op: Operator::EQ,
    })
}

fn not<'a>(left: Expression<'a>, right: Expression<'a>) -> Statement<'a> {
    Statement::Match(Match {
        left,
        right,
        op: Operator::NEQ,
    })
}

/// `ct status dnat`: a packet of a connection to a published port.
fn ct_dnat() -> Statement<'static> {
    Statement::Match(Match {
        left: Expression::Named(NamedExpression::CT(CT {
            key: "status".into(),
            family: None,
            dir: None,
        })),
        right: text("dnat"),
        op: Operator::IN,
    })
}

fn masquerade() -> Statement<'static> {
    Statement::Masquerade(None)
}

/// Applies `set` with the host's `nft`.
pub fn apply(set: &Nftables) -> std::io::Result<()> {
    nftables::helper::apply_ruleset(set).map_err(|e| match e {
        nftables::helper::NftablesError::NftExecution { inner, .. }
            if inner.kind() == std::io::ErrorKind::NotFound =>
        {
            std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "nft was not found: bridge networks need nftables (apt-get install nftables)",
            )
        }
        other => std::io::Error::other(format!("nft: {other}")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_holds_each_network_and_port() {
        let nets = [
            NetRules {
                bridge: "vessel0".into(),
                subnet: Subnet::parse("172.18.0.0/16").unwrap(),
                masquerade: true,
                internal: false,
            },
            NetRules {
                bridge: "br-1".into(),
                subnet: Subnet::parse("10.9.0.0/24").unwrap(),
                masquerade: false,
                internal: true,
            },
        ];
        let fwd = [Forward {
            proto: "tcp".into(),
            host_ip: Some(Ipv4Addr::LOCALHOST),
            host_port: 8080,
            to: Ipv4Addr::new(172, 18, 0, 2),
            port: 80,
        }];
        let json = serde_json::to_string(&ruleset("vessel", &nets, &fwd)).unwrap();
        for want in [
            r#"{"add":{"table":{"family":"ip","name":"vessel"}}}"#,
            r#"{"flush":{"table":{"family":"ip","name":"vessel"}}}"#,
            r#""hook":"prerouting","prio":-100"#,
            r#"{"dnat":{"addr":"172.18.0.2","port":80}}"#,
            r#"{"match":{"left":{"payload":{"protocol":"tcp","field":"dport"}},"right":8080,"op":"=="}}"#,
            r#"{"prefix":{"addr":"172.18.0.0","len":16}}"#,
            r#""right":{"set":["br-1"]}"#,
        ] {
            assert!(json.contains(want), "{want} in {json}");
        }
        // Only the first network is masqueraded.
        assert_eq!(
            json.matches(r#""op":"!="}},{"masquerade""#).count(),
            1,
            "{json}"
        );
        let gone = serde_json::to_string(&removal("vessel")).unwrap();
        assert!(gone.contains(r#"{"delete":{"table""#));
    }
}
