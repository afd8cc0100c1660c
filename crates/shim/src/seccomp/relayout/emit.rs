//! The search tree as instructions: jumps that fit in eight bits, and
//! returns shared at the end.

use std::collections::{BTreeSet, HashSet};

use libc::sock_filter;

use super::{insn, Node, AND_K, JA, LD_W_ABS, MAX_PROGRAM, RET_K};

/// Where a jump goes, while the program is laid out.
#[derive(Clone, Copy)]
enum To {
    At(usize),
    Ret(u32),
}

enum Slot {
    Plain(sock_filter),
    Cond {
        code: u16,
        k: u32,
        /// Which conditional jump this is, in the tree's order.
        ordinal: usize,
        yes: To,
        no: To,
    },
    Far(To),
}

/// Lays `tree` out: each jump falls through to its `no` side, returns
/// shared at the end where a jump reaches them. A conditional jump goes at
/// most 255 instructions ahead: a return further away is repeated in
/// place, a `yes` side further away is reached through an unconditional
/// jump; the layout is done again until every jump fits.
pub(super) fn emit(tree: &Node) -> Option<Vec<sock_filter>> {
    let mut inline: HashSet<(usize, bool)> = HashSet::new();
    let mut far: HashSet<usize> = HashSet::new();
    loop {
        let mut layout = Layout {
            slots: Vec::new(),
            ordinal: 0,
            inline: &inline,
            far: &far,
        };
        layout.emit(tree);
        if layout.slots.len() > MAX_PROGRAM {
            return None;
        }
        let slots = layout.slots;
        let rets: Vec<u32> = slots
            .iter()
            .flat_map(|s| match s {
                Slot::Cond { yes, no, .. } => vec![*yes, *no],
                Slot::Far(to) => vec![*to],
                Slot::Plain(_) => vec![],
            })
            .filter_map(|to| match to {
                To::Ret(k) => Some(k),
                To::At(_) => None,
            })
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let place = |to: To| match to {
            To::At(p) => p,
            To::Ret(k) => slots.len() + rets.iter().position(|&r| r == k).unwrap_or(0),
        };
        let mut program = Vec::with_capacity(slots.len() + rets.len());
        let mut again = false;
        for (i, slot) in slots.iter().enumerate() {
            program.push(match *slot {
                Slot::Plain(insn) => insn,
                Slot::Far(to) => insn(JA, 0, 0, u32::try_from(place(to).checked_sub(i + 1)?).ok()?),
                Slot::Cond {
                    code,
                    k,
                    ordinal,
                    yes,
                    no,
                } => {
                    let jt = place(yes).checked_sub(i + 1)?;
                    let jf = place(no).checked_sub(i + 1)?;
                    for (side, to, off) in [(true, yes, jt), (false, no, jf)] {
                        if off > 255 {
                            again = true;
                            match (side, to) {
                                (_, To::Ret(_)) => inline.insert((ordinal, side)),
                                (true, To::At(_)) => far.insert(ordinal),
                                // The `no` side follows its jump.
                                (false, To::At(_)) => return None,
                            };
                        }
                    }
                    insn(code, jt.min(255) as u8, jf.min(255) as u8, k)
                }
            });
        }
        if !again {
            program.extend(rets.iter().map(|&k| insn(RET_K, 0, 0, k)));
            return Some(program);
        }
    }
}

struct Layout<'a> {
    slots: Vec<Slot>,
    ordinal: usize,
    inline: &'a HashSet<(usize, bool)>,
    far: &'a HashSet<usize>,
}

impl Layout<'_> {
    fn emit(&mut self, node: &Node) {
        match node {
            Node::Ret(k) => self.slots.push(Slot::Plain(insn(RET_K, 0, 0, *k))),
            Node::Load(k, rest) => {
                self.slots.push(Slot::Plain(insn(LD_W_ABS, 0, 0, *k)));
                self.emit(rest);
            }
            Node::And(k, rest) => {
                self.slots.push(Slot::Plain(insn(AND_K, 0, 0, *k)));
                self.emit(rest);
            }
            Node::Jump { code, k, yes, no } => {
                let ordinal = self.ordinal;
                self.ordinal += 1;
                let at = self.slots.len();
                self.slots.push(Slot::Plain(insn(0, 0, 0, 0)));
                let trampoline = self.far.contains(&ordinal).then(|| {
                    self.slots.push(Slot::Far(To::At(0)));
                    at + 1
                });
                let no = self.side(no, ordinal, false);
                let yes = self.side(yes, ordinal, true);
                let yes = match trampoline {
                    Some(t) => {
                        self.slots[t] = Slot::Far(yes);
                        To::At(t)
                    }
                    None => yes,
                };
                self.slots[at] = Slot::Cond {
                    code: *code,
                    k: *k,
                    ordinal,
                    yes,
                    no,
                };
            }
        }
    }

    /// One side of a conditional jump: a shared return, or laid out here.
    fn side(&mut self, node: &Node, ordinal: usize, yes: bool) -> To {
        match node {
            Node::Ret(k) if !self.inline.contains(&(ordinal, yes)) => To::Ret(*k),
            _ => {
                let at = self.slots.len();
                self.emit(node);
                To::At(at)
            }
        }
    }
}
