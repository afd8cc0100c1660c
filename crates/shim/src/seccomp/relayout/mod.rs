//! libseccomp's program laid out again, in fewer instructions, with the
//! same decision for every input.
//!
//! Loading a filter is the kernel's work in proportion to its length: it
//! converts the classic BPF and JIT-compiles it, in several passes, for
//! every container and every exec. libseccomp tests each syscall number
//! on its own (Docker's profile on x86-64, with its x86 and x32
//! sub-architectures: 1200 instructions, 0.25-0.35 ms to load here). The
//! decision depends on the number in whole runs, though: most numbers
//! next to each other get the same answer. Laid out as a search over
//! those runs, sharing its return instructions, the same profile takes
//! some 350 instructions and loads in well under half the time.
//!
//! The new program is derived from libseccomp's, not from the profile, by
//! partial evaluation. The architecture and the syscall number are only
//! ever compared with constants (this is checked: the layout is given up
//! otherwise), so between two consecutive constants every value takes the
//! same branches. For one value of each such stretch the program is run
//! with those two known and the arguments unknown; what is left is either
//! a return or the instructions that test arguments, copied as they are.
//! Stretches with the same remainder are merged, and the new program
//! finds the stretch with a balanced search. It uses only what the
//! kernel's action cache can follow (loads of the number and the
//! architecture, comparisons with constants, returns), so syscalls that are
//! always allowed stay cached as they were.
//!
//! The result is then run against the original on every stretch (and, for
//! those that test arguments, on values around each constant they are
//! compared with); any difference, or anything this does not know in the
//! original, keeps the original.

use std::collections::BTreeSet;

use libc::sock_filter;

const LD_W_ABS: u16 = 0x20;
const JA: u16 = 0x05;
const JEQ: u16 = 0x15;
const JGT: u16 = 0x25;
const JGE: u16 = 0x35;
const JSET: u16 = 0x45;
const AND_K: u16 = 0x54;
const RET_K: u16 = 0x06;

/// Changes with what this makes of a program (the cache's key has it).
pub(super) const VERSION: u32 = 1;

/// Offsets in `struct seccomp_data`.
const NR: u32 = 0;
const ARCH: u32 = 4;
const DATA_LEN: u32 = 64;

/// The most instructions a relaid remainder may have (it is copied once
/// per stretch that reaches it).
const MAX_NODES: usize = 4096;
/// The kernel's limit on a program's length.
const MAX_PROGRAM: usize = 4096;
/// The most stretches of architecture and number worth searching.
const MAX_STRETCHES: usize = 1 << 16;

/// `program` laid out again, if that makes it shorter and it behaves the
/// same; else none.
pub(super) fn relayout(program: &[sock_filter]) -> Option<Vec<sock_filter>> {
    let consts = Constants::of(program)?;
    let tree = search_tree(program, &consts)?;
    let laid = emit(&tree)?;
    if laid.len() >= program.len() || laid.len() > MAX_PROGRAM {
        return None;
    }
    same_decisions(program, &laid, &consts).then_some(laid)
}

/// What the program compares the architecture, the syscall number and
/// anything else (arguments, the instruction pointer) with.
struct Constants {
    arch: Vec<u32>,
    nr: Vec<u32>,
    other: Vec<u32>,
}

/// Where the accumulator's value may come from at an instruction.
#[derive(Clone, Copy, Default, PartialEq)]
struct Sources(u8);

impl Sources {
    const ZERO: u8 = 1;
    const NR: u8 = 2;
    const ARCH: u8 = 4;
    const OTHER: u8 = 8;

    fn has(self, s: u8) -> bool {
        self.0 & s != 0
    }
}

impl Constants {
    /// Follows the accumulator through `program` (its jumps only go
    /// forward, so one pass in order sees every path); none if it does
    /// anything but load, compare with a constant, mask an argument and
    /// return a constant, or computes with the number or architecture.
    fn of(program: &[sock_filter]) -> Option<Constants> {
        let mut at = vec![Sources::default(); program.len() + 1];
        at[0] = Sources(Sources::ZERO);
        let (mut arch, mut nr, mut other) = (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
        for (pc, insn) in program.iter().enumerate() {
            let here = at[pc];
            if here == Sources::default() {
                continue; // unreachable
            }
            let mut flow = |to: usize, s: Sources| -> Option<()> {
                (to < program.len()).then(|| at[to].0 |= s.0)
            };
            match insn.code {
                LD_W_ABS if insn.k % 4 == 0 && insn.k < DATA_LEN => {
                    let s = match insn.k {
                        NR => Sources::NR,
                        ARCH => Sources::ARCH,
                        _ => Sources::OTHER,
                    };
                    flow(pc + 1, Sources(s))?;
                }
                JA => flow(pc + 1 + insn.k as usize, here)?,
                JEQ | JGT | JGE | JSET => {
                    if insn.code == JSET && (here.0 & !Sources::OTHER) != 0 {
                        return None;
                    }
                    if here.has(Sources::ARCH) {
                        arch.insert(insn.k);
                    }
                    if here.has(Sources::NR) {
                        nr.insert(insn.k);
                    }
                    if here.has(Sources::OTHER) {
                        other.insert(insn.k);
                    }
                    flow(pc + 1 + insn.jt as usize, here)?;
                    flow(pc + 1 + insn.jf as usize, here)?;
                }
                AND_K if here == Sources(Sources::OTHER) => {
                    other.insert(insn.k);
                    flow(pc + 1, here)?;
                }
                RET_K => {}
                _ => return None,
            }
        }
        Some(Constants {
            arch: points(&arch),
            nr: points(&nr),
            other: other.into_iter().collect(),
        })
    }
}

/// The first value of each stretch between `consts`: comparisons with a
/// constant `k` (equal, greater, greater or equal) change their answer
/// only at `k` and `k + 1`.
fn points(consts: &BTreeSet<u32>) -> Vec<u32> {
    let mut all = BTreeSet::from([0]);
    for &k in consts {
        all.insert(k);
        if let Some(next) = k.checked_add(1) {
            all.insert(next);
        }
    }
    all.into_iter().collect()
}

/// A program as a tree: what is left of the original once the number and
/// architecture are known, and the search that the new program adds.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Node {
    Ret(u32),
    Load(u32, Box<Node>),
    And(u32, Box<Node>),
    Jump {
        code: u16,
        k: u32,
        yes: Box<Node>,
        no: Box<Node>,
    },
}

impl Node {
    fn size(&self) -> usize {
        match self {
            Node::Ret(_) => 1,
            Node::Load(_, rest) | Node::And(_, rest) => 1 + rest.size(),
            Node::Jump { yes, no, .. } => 1 + yes.size() + no.size(),
        }
    }

    /// `node` when the accumulator is at least `at`, else `below`.
    fn split(at: u32, below: Node, node: Node) -> Node {
        Node::Jump {
            code: JGE,
            k: at,
            yes: Box::new(node),
            no: Box::new(below),
        }
    }
}

/// What is left of `program`, run from `pc` with the accumulator
/// `a`, once the architecture and number are known.
fn residual(
    program: &[sock_filter],
    mut pc: usize,
    mut a: u32,
    (arch, nr): (u32, u32),
    budget: &mut usize,
) -> Option<Node> {
    loop {
        *budget = budget.checked_sub(1)?;
        let insn = program.get(pc)?;
        match insn.code {
            LD_W_ABS => match insn.k {
                NR => a = nr,
                ARCH => a = arch,
                k => {
                    let rest = unknown(program, pc + 1, (arch, nr), budget)?;
                    return Some(Node::Load(k, Box::new(rest)));
                }
            },
            JA => pc += insn.k as usize,
            JEQ | JGT | JGE => {
                pc += match compare(insn.code, a, insn.k) {
                    true => insn.jt as usize,
                    false => insn.jf as usize,
                };
            }
            RET_K => return Some(Node::Ret(insn.k)),
            _ => return None,
        }
        pc += 1;
    }
}

/// The remainder from `pc` on, with the accumulator unknown (an argument
/// loaded): its tests are kept, and a later load of the number or the
/// architecture is known again.
fn unknown(
    program: &[sock_filter],
    pc: usize,
    known: (u32, u32),
    budget: &mut usize,
) -> Option<Node> {
    *budget = budget.checked_sub(1)?;
    let insn = program.get(pc)?;
    if insn.code == LD_W_ABS && (insn.k == NR || insn.k == ARCH) {
        return residual(program, pc, 0, known, budget);
    }
    let mut next = |to: usize| unknown(program, to, known, budget).map(Box::new);
    Some(match insn.code {
        LD_W_ABS => Node::Load(insn.k, next(pc + 1)?),
        JA => *next(pc + 1 + insn.k as usize)?,
        JEQ | JGT | JGE | JSET => Node::Jump {
            code: insn.code,
            k: insn.k,
            yes: next(pc + 1 + insn.jt as usize)?,
            no: next(pc + 1 + insn.jf as usize)?,
        },
        AND_K => Node::And(insn.k, next(pc + 1)?),
        RET_K => Node::Ret(insn.k),
        _ => return None,
    })
}

fn compare(code: u16, a: u32, k: u32) -> bool {
    match code {
        JEQ => a == k,
        JGT => a > k,
        JGE => a >= k,
        _ => a & k != 0,
    }
}

/// The new program as a tree: a search over the architecture's stretches,
/// then, for each, a load of the number and a search over its stretches,
/// down to the remainders.
fn search_tree(program: &[sock_filter], consts: &Constants) -> Option<Node> {
    if consts.arch.len().saturating_mul(consts.nr.len()) > MAX_STRETCHES {
        return None;
    }
    // Nodes kept: each is at most one instruction of the new program.
    let mut kept = 0;
    let mut arches: Vec<(u32, Node)> = Vec::new();
    for &arch in &consts.arch {
        let mut runs: Vec<(u32, Node)> = Vec::new();
        for &nr in &consts.nr {
            let mut budget = MAX_NODES;
            let rest = residual(program, 0, 0, (arch, nr), &mut budget)?;
            if runs.last().is_none_or(|(_, last)| *last != rest) {
                kept += rest.size();
                if kept > 2 * MAX_PROGRAM {
                    return None;
                }
                runs.push((nr, rest));
            }
        }
        let by_nr = match runs.len() {
            1 => runs.pop()?.1,
            _ => Node::Load(NR, Box::new(balanced(segments(runs)))),
        };
        if arches.last().is_none_or(|(_, last)| *last != by_nr) {
            arches.push((arch, by_nr));
        }
    }
    Some(Node::Load(ARCH, Box::new(balanced(segments(arches)))))
}

/// The most single values a stretch tests one by one.
const MAX_POINTS: usize = 4;

/// Runs gathered into stretches with one answer but for a few single
/// values: each value costs one test for equality, where two runs of
/// their own would cost two comparisons.
fn segments(runs: Vec<(u32, Node)>) -> Vec<(u32, Node)> {
    let mut out: Vec<(u32, Node)> = Vec::new();
    let mut i = 0;
    while i < runs.len() {
        let (start, background) = &runs[i];
        let mut points: Vec<(u32, &Node)> = Vec::new();
        while let [(at, point), (after, next), ..] = &runs[i + 1..] {
            if points.len() == MAX_POINTS || *after != at + 1 || next != background {
                break;
            }
            points.push((*at, point));
            i += 2;
        }
        let node = points
            .into_iter()
            .rev()
            .fold(background.clone(), |no, (k, yes)| Node::Jump {
                code: JEQ,
                k,
                yes: Box::new(yes.clone()),
                no: Box::new(no),
            });
        out.push((*start, node));
        i += 1;
    }
    out
}

/// A balanced search over `runs` (each from its value to the next's).
fn balanced(mut runs: Vec<(u32, Node)>) -> Node {
    if runs.len() == 1 {
        return runs.remove(0).1;
    }
    let above = runs.split_off(runs.len() / 2);
    let at = above[0].0;
    Node::split(at, balanced(runs), balanced(above))
}

fn insn(code: u16, jt: u8, jf: u8, k: u32) -> sock_filter {
    sock_filter { code, jt, jf, k }
}

mod check;
mod emit;

use check::same_decisions;
use emit::emit;

#[cfg(test)]
mod tests;
